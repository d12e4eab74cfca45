/**
 * End-of-run summary (after seed 000_03f50111ba1a6c62.txt): a table of steps, wall time, final MSE, FVU,
 * explained variance, L0 vs k and dead latents (in the window and in a fresh held-out sample), the per-latent
 * firing-rate distribution (rank vs rate, log-log, with the 1/n floor), the decoder row-norm histogram, and the
 * SAELens export.
 */
import { useMemo } from 'react';
import uPlot from 'uplot';
import { archSpec } from '../sae/archs';
import { METRIC_LABELS } from '../sae/metrics';
import { useLab } from '../state/lab-store';
import { histogram } from '../train/diagnostics';
import type { RunSummary as Summary } from '../train/trainer';
import { FeatureRecoveryFigure } from './FeatureRecoveryFigure';
import { formatDuration, formatInt, formatPct, formatSig } from './format';
import { StaticPlot } from './StaticPlot';

function SummaryTable({ s }: { s: Summary }) {
  const t = s.lastTrain;
  const h = s.heldOut;
  const int = (n: number) => formatInt(n);
  /** label, training text, held-out text, test id, raw training value, raw held-out value. */
  const rows: [string, string, string, string, number?, number?][] = [
    [
      'steps',
      `${int(s.steps)}${s.stoppedEarly ? ` of ${int(s.totalSteps)} (stopped)` : ''}`,
      '',
      'steps',
      s.steps,
    ],
    ['tokens', int(s.tokens), '', 'tokens', s.tokens],
    ['wall time', formatDuration(s.wallMs), '', 'wall', s.wallMs],
    ['throughput', `${int(s.tokensPerSec)} tokens/s`, '', 'tps', s.tokensPerSec],
    [METRIC_LABELS.mse.label, formatSig(t?.mse), formatSig(h.mse), 'mse', t?.mse, h.mse],
    [METRIC_LABELS.fvu.label, formatSig(t?.fvu), formatSig(h.fvu), 'fvu', t?.fvu, h.fvu],
    [
      METRIC_LABELS.explainedVariance.label,
      formatSig(t?.explainedVariance),
      formatSig(h.explainedVariance),
      'ev',
      t?.explainedVariance,
      h.explainedVariance,
    ],
    [METRIC_LABELS.cosine.label, '', formatSig(h.cosine), 'cosine', undefined, h.cosine],
    [METRIC_LABELS.relErr.label, '', formatSig(h.relErr), 'relerr', undefined, h.relErr],
    ['architecture', archSpec(s.architecture).label, '', 'architecture'],
    [archSpec(s.architecture).summary.l0Label(s.k), formatSig(t?.l0), formatSig(h.l0), 'l0', t?.l0, h.l0],
    ...(s.meanThreshold !== null && s.meanThreshold !== undefined
      ? [
          ['mean threshold θ', formatSig(s.meanThreshold), '', 'threshold', s.meanThreshold] as [
            string,
            string,
            string,
            string,
            number,
          ],
        ]
      : []),
    ...(t && t.auxkLoss > 0
      ? [
          [METRIC_LABELS.auxkLoss.label, formatSig(t.auxkLoss), '', 'auxk', t.auxkLoss] as [
            string,
            string,
            string,
            string,
            number,
          ],
        ]
      : []),
    [
      `dead latents (window ${int(s.deadWindowSteps)} steps = ${int(s.deadWindowTokens)} tokens)`,
      `${int(s.deadInWindow)} / ${int(s.dSae)} (${formatPct(s.deadInWindow / s.dSae, 2)})`,
      '',
      'dead-window',
      s.deadInWindow,
    ],
    [
      `dead latents (no fires in ${int(s.sampleTokens)} held-out tokens)`,
      '',
      `${int(s.deadInSample)} / ${int(s.dSae)}`,
      'dead-sample',
      undefined,
      s.deadInSample,
    ],
  ];
  return (
    <table className="summary" data-testid="summary-table">
      <thead>
        <tr>
          <th scope="col">quantity</th>
          <th scope="col">last training batch</th>
          <th scope="col">held-out ({formatInt(s.sampleTokens)} tokens)</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([label, a, b, id, rawA, rawB]) => (
          <tr
            key={id}
            data-testid={`summary-${id}`}
            data-train-value={rawA === undefined ? undefined : String(rawA)}
            data-heldout-value={rawB === undefined ? undefined : String(rawB)}
          >
            <th scope="row">{label}</th>
            <td>{a}</td>
            <td>{b}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function FiringRatePlot({ s }: { s: Summary }) {
  const floor = 1 / s.sampleTokens;
  const data = useMemo<uPlot.AlignedData>(() => {
    const n = s.firingRates.length;
    const rank = Array.from({ length: n }, (_, i) => i + 1);
    const rate = Array.from(s.firingRates, (r) => (r > 0 ? r : null));
    return [rank, rate, rank.map(() => floor)];
  }, [s, floor]);
  const options = useMemo(
    () =>
      (width: number): uPlot.Options => ({
        width,
        height: 220,
        scales: { x: { time: false, distr: 3 }, y: { distr: 3 } },
        axes: [
          { label: 'latent rank (most frequent first)', labelSize: 18, size: 36 },
          { label: 'firing rate (fires / token)', labelSize: 18, size: 64 },
        ],
        series: [
          { label: 'rank' },
          { label: 'firing rate', stroke: '#2563eb', width: 1.5 },
          { label: '1/n floor', stroke: '#9ca3af', dash: [4, 4], width: 1 },
        ],
      }),
    [],
  );
  return (
    <StaticPlot
      testId="plot-firing-rates"
      options={options}
      data={data}
      caption={
        <>
          <span className="chart-title">Per-latent firing rate on the held-out sample (log-log)</span>
          <span className="formula">
            rate = tokens the latent fired on / {formatInt(s.sampleTokens)}; the dashed line is the 1/n floor
            (one fire). {formatInt(s.deadInSample)} latents never fired and cannot be drawn on a log axis.
          </span>
        </>
      }
    />
  );
}

function RowNormHistogram({ s }: { s: Summary }) {
  const { data, lo, hi } = useMemo(() => {
    let mn = Number.POSITIVE_INFINITY;
    let mx = Number.NEGATIVE_INFINITY;
    for (const v of s.decoderRowNorms) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    const half = Math.max(0.05, 1 - mn, mx - 1) * 1.05;
    const lo = 1 - half;
    const hi = 1 + half;
    // An odd number of bins over a range symmetric about 1 puts 1.0 in the middle of a bin.
    const bins = 41;
    const h = histogram(s.decoderRowNorms, bins, lo, hi);
    const mids = Array.from({ length: bins }, (_, i) => (h.edges[i] + h.edges[i + 1]) / 2);
    return { data: [mids, Array.from(h.counts)] as uPlot.AlignedData, lo, hi };
  }, [s]);
  const options = useMemo(
    () =>
      (width: number): uPlot.Options => ({
        width,
        height: 220,
        scales: {
          x: { time: false, range: [lo, hi] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] },
        },
        axes: [
          { label: '‖W_dec row‖₂', labelSize: 18, size: 36 },
          { label: 'latents', labelSize: 18, size: 56 },
        ],
        series: [
          { label: 'norm' },
          {
            label: 'latents',
            stroke: '#7c3aed',
            fill: 'rgba(124, 58, 237, 0.35)',
            paths: uPlot.paths.bars?.({ size: [0.9, 40] }),
            points: { show: false },
          },
        ],
      }),
    [lo, hi],
  );
  return (
    <StaticPlot
      testId="plot-row-norms"
      options={options}
      data={data}
      caption={
        <>
          <span className="chart-title">Decoder row norms</span>
          <span className="formula">
            The decoder constraint keeps every row of W_dec at unit norm: a single spike at 1.0 (training
            space; the export divides by the normalisation factor {formatSig(s.scale)}).
          </span>
        </>
      }
    />
  );
}

/** Collapse warnings of the run ("done with warnings"): which check failed and what to try. */
function Warnings({ s }: { s: Summary }) {
  const warnings = s.warnings ?? [];
  if (warnings.length === 0) return null;
  return (
    <div
      className="run-warning"
      role="alert"
      data-testid="run-warning"
      data-codes={warnings.map((w) => w.code).join(' ')}
    >
      <strong>Done with warnings: the SAE may have collapsed.</strong>
      <ul>
        {warnings.map((w) => (
          <li key={w.code} data-code={w.code}>
            {w.message}. Try: {w.advice}.
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The summary of the finished (or stopped) run, with its diagnostics and the export button. */
export function RunSummary() {
  const summary = useLab((s) => s.summary);
  const exportRun = useLab((s) => s.exportRun);
  if (!summary) return null;
  return (
    <section aria-label="Run summary" className="summary-section" data-testid="summary">
      <h2>Summary</h2>
      <Warnings s={summary} />
      <SummaryTable s={summary} />
      <FeatureRecoveryFigure />
      <div className="diagnostics">
        <FiringRatePlot s={summary} />
        <RowNormHistogram s={summary} />
      </div>
      <p>
        <button type="button" data-testid="export" onClick={() => void exportRun()}>
          Export for SAELens (one .saelens.zip)
        </button>{' '}
        <span className="hint">Unzip it and load the folder inside with SAE.load_from_disk(folder).</span>
      </p>
    </section>
  );
}
