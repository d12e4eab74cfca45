/**
 * A self-contained HTML report of one run, in the shape of the seed's run report (000_03f50111ba1a6c62.txt):
 * summary table, every training curve, the diagnostics (firing-rate rank plot, decoder-norm histogram), the
 * config, dataset provenance and fingerprint, adapter, app version and the share link. One file: inline CSS and
 * inline SVG, no script, no external URL (the share link is the only URL, written as text), so it opens offline.
 * Every string from the run is HTML-escaped.
 */
import { METRIC_LABELS } from '../sae/metrics';
import { histogram } from '../train/diagnostics';
import type { SeriesSnapshot } from '../train/history';
import { describeRef } from './dataset-ref';
import type { RunData, RunMeta } from './library';
import { sparsityLabel } from './library';

/** HTML-escape text. */
export function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** Format a number for the report: 4 significant digits, integers as they are. */
function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return Number.isInteger(x) ? String(x) : x.toPrecision(4);
}

/** One series of an SVG plot. */
interface PlotSeries {
  label: string;
  color: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/**
 * An inline SVG line plot (or points when `dots`), with axes labelled at min and max.
 * `logX` / `logY` plot log10 of positive values (others are skipped).
 */
export function svgPlot(
  title: string,
  series: PlotSeries[],
  opts: { logX?: boolean; logY?: boolean; xLabel?: string; bars?: boolean } = {},
): string {
  const W = 520;
  const H = 220;
  const L = 56;
  const R = 12;
  const T = 24;
  const Bm = 34;
  const tx = (v: number) => (opts.logX ? Math.log10(v) : v);
  const ty = (v: number) => (opts.logY ? Math.log10(v) : v);
  const ok = (v: number, log?: boolean) => Number.isFinite(v) && (!log || v > 0);
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const s of series)
    for (let i = 0; i < s.x.length; i++) {
      if (!ok(s.x[i], opts.logX) || !ok(s.y[i], opts.logY)) continue;
      x0 = Math.min(x0, tx(s.x[i]));
      x1 = Math.max(x1, tx(s.x[i]));
      y0 = Math.min(y0, ty(s.y[i]));
      y1 = Math.max(y1, ty(s.y[i]));
    }
  if (!Number.isFinite(x0)) return `<figure><figcaption>${esc(title)}</figcaption><p>no data</p></figure>`;
  if (opts.bars) y0 = Math.min(0, y0);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + (Math.abs(y0) || 1) * 0.1;
  const px = (v: number) => L + ((tx(v) - x0) / (x1 - x0)) * (W - L - R);
  const py = (v: number) => T + (1 - (ty(v) - y0) / (y1 - y0)) * (H - T - Bm);
  const parts: string[] = [];
  for (const s of series) {
    if (opts.bars) {
      const n = s.x.length;
      const bw = Math.max(1, (W - L - R) / Math.max(1, n) - 1);
      for (let i = 0; i < n; i++) {
        const y = py(s.y[i]);
        parts.push(
          `<rect x="${(px(s.x[i]) - bw / 2).toFixed(1)}" y="${y.toFixed(1)}" width="${bw.toFixed(1)}" height="${(py(y0) - y).toFixed(1)}" fill="${s.color}"/>`,
        );
      }
      continue;
    }
    const pts: string[] = [];
    for (let i = 0; i < s.x.length; i++) {
      if (!ok(s.x[i], opts.logX) || !ok(s.y[i], opts.logY)) continue;
      pts.push(`${px(s.x[i]).toFixed(1)},${py(s.y[i]).toFixed(1)}`);
    }
    parts.push(
      pts.length === 1
        ? `<circle cx="${pts[0].split(',')[0]}" cy="${pts[0].split(',')[1]}" r="3" fill="${s.color}"/>`
        : `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${pts.join(' ')}"/>`,
    );
  }
  const lab = (v: number, log?: boolean) => fmt(log ? 10 ** v : v);
  const legend = series
    .map(
      (s, i) =>
        `<text x="${L + 8 + i * 150}" y="14" font-size="11" fill="${s.color}">■ ${esc(s.label)}</text>`,
    )
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - Bm}" fill="none" stroke="#ccc"/>
${legend}
<text x="${L - 4}" y="${T + 4}" font-size="10" text-anchor="end">${lab(y1, opts.logY)}</text>
<text x="${L - 4}" y="${H - Bm}" font-size="10" text-anchor="end">${lab(y0, opts.logY)}</text>
<text x="${L}" y="${H - Bm + 14}" font-size="10">${lab(x0, opts.logX)}</text>
<text x="${W - R}" y="${H - Bm + 14}" font-size="10" text-anchor="end">${lab(x1, opts.logX)}</text>
<text x="${(L + W - R) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">${esc(opts.xLabel ?? 'step')}</text>
${parts.join('\n')}
</svg></figure>`;
}

function col(s: SeriesSnapshot, f: string): Float64Array {
  const i = s.fields.indexOf(f);
  return i >= 0 ? s.columns[i] : new Float64Array(0);
}

/** Training fields drawn as curves: every metric of the history but the step, token and time counters. */
const CURVE_FIELDS = [
  'mse',
  'fvu',
  'explainedVariance',
  'l0',
  'deadFraction',
  'firedFraction',
  'auxkLoss',
  'sparsityLoss',
  'lr',
  'tokensPerSec',
] as const;

function label(f: string): string {
  return (METRIC_LABELS as Record<string, { label: string } | undefined>)[f]?.label ?? f;
}

/** The report's sections, by id (a unit test checks each is present). */
export const REPORT_SECTIONS = [
  'summary',
  'curves',
  'diagnostics',
  'config',
  'dataset',
  'environment',
  'share',
] as const;

/**
 * The report of a run. @param shareLink the run's share URL ('' when it has none, e.g. no fingerprint).
 * @returns one HTML document.
 */
export function runReport(meta: RunMeta, data: RunData, shareLink: string): string {
  const tr = data.history.train;
  const ev = data.history.eval;
  const s = data.summary;
  const step = col(tr, 'step');
  const evStep = col(ev, 'step');
  const curves = CURVE_FIELDS.filter((f) => col(tr, f).some((v) => v !== 0 && Number.isFinite(v))).map(
    (f) => {
      const series: PlotSeries[] = [{ label: 'train batch', color: '#2563eb', x: step, y: col(tr, f) }];
      if (ev.fields.includes(f) && col(ev, f).length > 0)
        series.push({ label: 'held-out', color: '#d97706', x: evStep, y: col(ev, f) });
      return svgPlot(label(f), series, { logY: f === 'mse' });
    },
  );
  const rows: [string, string][] = [
    ['name', meta.name],
    ['run id', meta.id],
    ['status', meta.status],
    ['architecture', meta.config.architecture],
    ['d_model × d_sae', `${meta.info.shape.dModel} × ${meta.info.shape.dSae}`],
    ['sparsity', sparsityLabel(meta.config)],
    ['steps', `${meta.steps} of ${meta.totalSteps}`],
    ['tokens', fmt(s?.tokens ?? meta.steps * meta.config.batchSize)],
    ['held-out explained variance', fmt(meta.heldOutEv)],
    ['held-out FVU', fmt(meta.fvu)],
    ['held-out L0', fmt(meta.l0)],
    ['held-out dead fraction', fmt(meta.deadFraction)],
    ['CE-loss score', fmt(meta.ceLossScore)],
    ['wall time (s)', fmt(s ? s.wallMs / 1000 : null)],
    ['throughput (tokens/s)', fmt(s?.tokensPerSec)],
    ['created', new Date(meta.createdAt).toISOString()],
    ['finished', meta.finishedAt ? new Date(meta.finishedAt).toISOString() : '—'],
  ];
  const table = (r: [string, string][]) =>
    `<table>${r.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
  let diagnostics = '<p>No end-of-run summary (the run did not finish).</p>';
  if (s) {
    const rates = s.firingRates;
    const rank = Float64Array.from(rates, (_, i) => i + 1);
    const norms = s.decoderRowNorms;
    let lo = Infinity;
    let hi = -Infinity;
    for (const n of norms) {
      lo = Math.min(lo, n);
      hi = Math.max(hi, n);
    }
    if (!(hi > lo)) {
      lo -= 0.05;
      hi += 0.05;
    }
    const h = histogram(norms, 40, lo, hi);
    const mid = Float64Array.from(h.counts, (_, i) => (h.edges[i] + h.edges[i + 1]) / 2);
    diagnostics =
      svgPlot(
        `Firing rate by rank (log-log; ${s.deadInSample} of ${s.dSae} latents never fired on ${s.sampleTokens} held-out tokens)`,
        [{ label: 'firing rate', color: '#059669', x: rank, y: rates }],
        { logX: true, logY: true, xLabel: 'rank' },
      ) +
      svgPlot(
        'Decoder row norms ‖W_dec,i‖ (training space)',
        [{ label: 'latents', color: '#7c3aed', x: mid, y: Float64Array.from(h.counts) }],
        { bars: true, xLabel: '‖W_dec,i‖' },
      );
  }
  const config = table(Object.entries(meta.config).map(([k, v]) => [k, String(v)]));
  const ds = meta.dataset;
  const dataset = table([
    ['name', meta.info.datasetName],
    ['reference', ds ? describeRef(ds) : 'no fingerprint (imported before fingerprints existed)'],
    ['fingerprint (sha256 of the stored f32 rows)', ds?.kind === 'file' ? ds.fingerprint : '—'],
    ['training rows / held-out rows', `${meta.info.trainRows} / ${meta.info.heldOutRows}`],
    ['activation scale', fmt(meta.info.scale)],
  ]);
  const env = table([
    ['adapter', meta.info.adapter || '—'],
    ['app version', `SAE Lab ${meta.appVersion}`],
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(meta.name)} — SAE Lab run report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:1100px;color:#111}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f5f5f5;font-weight:600}figure{display:inline-block;margin:8px}figcaption{font-weight:600}
code{word-break:break-all}
</style></head><body>
<h1>Run report: ${esc(meta.name)}</h1>
<section id="summary"><h2>Summary</h2>${table(rows)}</section>
<section id="curves"><h2>Training curves</h2>${curves.join('\n')}</section>
<section id="diagnostics"><h2>Diagnostics</h2>${diagnostics}</section>
<section id="config"><h2>Config</h2>${config}</section>
<section id="dataset"><h2>Dataset provenance</h2>${dataset}</section>
<section id="environment"><h2>Environment</h2>${env}</section>
<section id="share"><h2>Share link</h2><p>${shareLink ? `<code>${esc(shareLink)}</code>` : 'No share link: the dataset has no fingerprint.'}</p></section>
</body></html>
`;
}
