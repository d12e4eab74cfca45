/**
 * The results of a sweep: one row per SAE from its run-library entry (src/runs/library.ts RunMeta: the held-out
 * metrics of the end-of-run summary, the CE-loss score when patched CE ran), sorting, CSV / JSON, and the Pareto
 * frontiers of the plots. Metric definitions are those of src/sae/metrics.ts; nothing is recomputed here.
 */

import { toCsv } from '../runs/exports';
import type { RunMeta } from '../runs/library';
import { sparsityLabel } from '../runs/library';
import type { TrainConfig } from '../train/config';
import { sparsityAxisOf, sparsityValue } from './grid';

/** One row of the results table. Plain data. */
export interface SweepRow {
  /** Member index in the sweep (grid order). */
  index: number;
  runId: string;
  architecture: string;
  dSae: number;
  /** Name of the sparsity hyper-parameter ("k", "l0Coefficient", …) and its value. */
  sparsityField: string | null;
  sparsity: number | null;
  /** The sparsity as the run library writes it ("k=8", "λ=0.3"). */
  sparsityText: string;
  lr: number;
  status: string;
  /** Held-out explained variance, FVU, L0 and dead fraction (null until the run's summary). */
  heldOutEv: number | null;
  fvu: number | null;
  l0: number | null;
  deadFraction: number | null;
  /** CE-loss score (patched CE) when the dataset's model is known and the evaluation ran; else null. */
  ceLossScore: number | null;
}

/** Sortable columns of the results table. */
export type SweepSortKey = keyof Pick<
  SweepRow,
  | 'index'
  | 'architecture'
  | 'dSae'
  | 'sparsity'
  | 'lr'
  | 'heldOutEv'
  | 'fvu'
  | 'l0'
  | 'deadFraction'
  | 'ceLossScore'
>;

/**
 * Rows of a sweep's members from the library (a member without an entry yet is 'pending' with empty metrics).
 * @param members the sweep's members, grid order
 */
export function sweepRows(
  members: readonly { runId: string; config: TrainConfig }[],
  library: readonly RunMeta[],
): SweepRow[] {
  const byId = new Map(library.map((m) => [m.id, m]));
  return members.map(({ runId, config }, index) => {
    const m = byId.get(runId);
    return {
      index,
      runId,
      architecture: config.architecture,
      dSae: m?.info.shape.dSae ?? config.dSae ?? 0,
      sparsityField: sparsityAxisOf(config.architecture),
      sparsity: sparsityValue(config),
      sparsityText: sparsityLabel(config, '='),
      lr: config.lr,
      status: m?.status ?? 'pending',
      heldOutEv: m?.heldOutEv ?? null,
      fvu: m?.fvu ?? null,
      l0: m?.l0 ?? null,
      deadFraction: m?.deadFraction ?? null,
      ceLossScore: m?.ceLossScore ?? null,
    };
  });
}

/** Rows sorted by `key` (nulls last in both directions; ties keep grid order). */
export function sortRows(rows: readonly SweepRow[], key: SweepSortKey, dir: 'asc' | 'desc'): SweepRow[] {
  const sign = dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === null || y === null) return x === y ? a.index - b.index : x === null ? 1 : -1;
    const c = typeof x === 'string' ? x.localeCompare(y as string) : (x as number) - (y as number);
    return c !== 0 ? sign * c : a.index - b.index;
  });
}

/** CSV columns of the results table, in order. */
export const SWEEP_COLUMNS = [
  'run_id',
  'architecture',
  'd_sae',
  'sparsity',
  'lr',
  'status',
  'held_out_ev',
  'fvu',
  'l0',
  'dead_fraction',
  'ce_loss_score',
];

/** The results table as CSV ({@link SWEEP_COLUMNS}; sparsity as "k=8" or "λ=0.3"). */
export function sweepCsv(rows: readonly SweepRow[]): string {
  return toCsv(
    SWEEP_COLUMNS,
    rows.map((r) => [
      r.runId,
      r.architecture,
      r.dSae,
      r.sparsityText,
      r.lr,
      r.status,
      r.heldOutEv,
      r.fvu,
      r.l0,
      r.deadFraction,
      r.ceLossScore,
    ]),
  );
}

/** The results table as JSON: `{sweep: {id, name}, rows}`. */
export function sweepJson(sweep: { id: string; name: string }, rows: readonly SweepRow[]): string {
  return `${JSON.stringify({ sweep: { id: sweep.id, name: sweep.name }, rows }, null, 2)}\n`;
}

/** A point of a Pareto plot: x (L0) and y, and the run it stands for. */
export interface ParetoPoint {
  x: number;
  y: number;
  runId: string;
}

/**
 * The Pareto frontier of `points`: those no other point beats on both axes (lower x, and lower y when
 * `lowerIsBetter`, else higher y), sorted by x. Points with a non-finite coordinate are left out.
 */
export function paretoFrontier(points: readonly ParetoPoint[], lowerIsBetter: boolean): ParetoPoint[] {
  const ok = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const better = (a: number, b: number) => (lowerIsBetter ? a < b : a > b);
  const sorted = [...ok].sort((a, b) => a.x - b.x || (lowerIsBetter ? a.y - b.y : b.y - a.y));
  const out: ParetoPoint[] = [];
  for (const p of sorted) {
    if (out.length === 0 || better(p.y, out[out.length - 1].y)) out.push(p);
  }
  return out;
}

/** Label of a row for plots and lists: "topk k=8 d_sae 512 lr 0.001". */
export function rowLabel(r: SweepRow): string {
  return `${r.architecture} ${r.sparsityText} d_sae ${r.dSae} lr ${r.lr}`;
}
