/**
 * Plain-text exports of runs: a run's metric history as CSV and JSON, and the run library as CSV.
 * CSV follows RFC 4180 (comma separator, CRLF line ends, fields with a comma, quote or line break quoted, quotes
 * doubled). Numbers are written with JavaScript's shortest round-trip form, so the values read back exactly.
 */
import type { SeriesSnapshot } from '../train/history';
import type { RunData, RunMeta } from './library';
import { sparsityLabel } from './library';

/** One CSV field. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows to CSV text (header first). */
export function toCsv(header: string[], rows: unknown[][]): string {
  return `${[header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

/** A history table as CSV: one column per field, one row per recorded step. */
export function seriesCsv(s: SeriesSnapshot): string {
  const n = s.columns[0]?.length ?? 0;
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(s.columns.map((c) => c[i]));
  return toCsv(s.fields, rows);
}

/**
 * A run's history as CSV: the training steps, then (after a blank line) the held-out evaluations, each with its
 * own header, preceded by a `# table` line.
 */
export function historyCsv(meta: RunMeta, data: RunData): string {
  return `# run ${meta.name} (${meta.id}): training steps\r\n${seriesCsv(data.history.train)}\r\n# held-out evaluations\r\n${seriesCsv(data.history.eval)}`;
}

/** A history table as an object of arrays. */
function seriesObject(s: SeriesSnapshot): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  s.fields.forEach((f, i) => {
    out[f] = Array.from(s.columns[i]);
  });
  return out;
}

/** A run as JSON: meta (config, dataset, summary scalars) and both history tables, column-wise. */
export function historyJson(meta: RunMeta, data: RunData): string {
  return JSON.stringify(
    {
      run: meta,
      history: { train: seriesObject(data.history.train), eval: seriesObject(data.history.eval) },
    },
    null,
    1,
  );
}

/** Columns of the library CSV. */
export const LIBRARY_COLUMNS = [
  'id',
  'name',
  'created',
  'finished',
  'status',
  'architecture',
  'd_model',
  'd_sae',
  'sparsity',
  'steps',
  'total_steps',
  'batch_size',
  'lr',
  'seed',
  'held_out_explained_variance',
  'fvu',
  'l0',
  'dead_fraction',
  'ce_loss_score',
  'dataset',
  'dataset_fingerprint',
  'adapter',
  'app_version',
  'bytes',
  'weights_bytes',
];

/** The run library as CSV, one row per run ({@link LIBRARY_COLUMNS}). */
export function libraryCsv(runs: RunMeta[]): string {
  const iso = (t: number | null) => (t ? new Date(t).toISOString() : '');
  return toCsv(
    LIBRARY_COLUMNS,
    runs.map((m) => [
      m.id,
      m.name,
      iso(m.createdAt),
      iso(m.finishedAt),
      m.status,
      m.config.architecture,
      m.info.shape.dModel,
      m.info.shape.dSae,
      sparsityLabel(m.config, '='),
      m.steps,
      m.totalSteps,
      m.config.batchSize,
      m.config.lr,
      m.config.seed,
      m.heldOutEv,
      m.fvu,
      m.l0,
      m.deadFraction,
      m.ceLossScore,
      m.info.datasetName,
      m.dataset?.kind === 'file' ? m.dataset.fingerprint : (m.dataset?.id ?? ''),
      m.info.adapter,
      m.appVersion,
      m.bytes,
      m.weightsBytes,
    ]),
  );
}
