/**
 * Metric history of a run: fixed-capacity columnar tables (Float64Array per field), one for the sampled training
 * steps and one for the held-out evaluations. The trainer keeps one (it goes into every checkpoint, so a resumed
 * run continues the same curves) and the UI keeps its own copy outside React (src/state/metric-buffers.ts).
 *
 * When a table is full it keeps every second point and from then on accepts every second offered point
 * (stride doubling), so the whole run stays visible at an evenly thinned resolution instead of dropping its
 * beginning. The most recent offered point is always kept as `last`.
 */

/** Most training points a run's history holds without thinning: {@link historyEvery} keeps runs under it. */
export const HISTORY_TARGET_POINTS = 2000;

/**
 * The history interval n of a run of `steps` steps: the trainer records the metrics after every n-th step (step
 * counts n, 2n, …) and after the last one. n = max(1, ceil(steps / {@link HISTORY_TARGET_POINTS})), so runs of up
 * to 2,000 steps record every step and longer ones about 2,000 points — the same steps for the same config,
 * whatever the speed of the adapter.
 * @param steps config.steps, a positive integer.
 */
export function historyEvery(steps: number): number {
  return Math.max(1, Math.ceil(steps / HISTORY_TARGET_POINTS));
}

/** Fields of one sampled training step. */
export const TRAIN_FIELDS = [
  'step',
  'tokens',
  'wallMs',
  'lr',
  'mse',
  'fvu',
  'explainedVariance',
  'l0',
  'deadFraction',
  'firedFraction',
  'auxkLoss',
  'sparsityLoss',
  'tokensPerSec',
] as const;

/** Fields of one held-out evaluation. */
export const EVAL_FIELDS = [
  'step',
  'mse',
  'fvu',
  'explainedVariance',
  'cosine',
  'relErr',
  'l0',
  'deadFraction',
] as const;

/** Name of a training-step field. */
export type TrainField = (typeof TRAIN_FIELDS)[number];
/** Name of an evaluation field. */
export type EvalField = (typeof EVAL_FIELDS)[number];
/**
 * One sampled training step: step (1-based count of steps done), tokens seen, wall time of training in ms (pauses
 * excluded), learning rate of that step, the metrics of src/sae/metrics.ts stepMetrics, and tokens/s.
 */
export type TrainPoint = Record<TrainField, number>;
/** One held-out evaluation: the step it was taken after and the metrics of src/sae/metrics.ts evalMetrics. */
export type EvalPoint = Record<EvalField, number>;

/** A structured-cloneable copy of a {@link SeriesTable}. */
export interface SeriesSnapshot {
  fields: string[];
  /** One array per field, same length. */
  columns: Float64Array[];
  stride: number;
  /** Points offered so far (accepted or not), which decides which later points the stride keeps. */
  offered: number;
}

/** A columnar, fixed-capacity table of numeric points with stride-doubling thinning (see module comment). */
export class SeriesTable<F extends string> {
  readonly fields: readonly F[];
  readonly capacity: number;
  private cols: Float64Array[];
  private n = 0;
  private stride = 1;
  private offered = 0;
  /** The most recent point offered, kept or not. */
  last: Record<F, number> | null = null;

  /** @param capacity points kept before thinning; even, ≥ 4. */
  constructor(fields: readonly F[], capacity = 4096) {
    if (!(capacity >= 4) || capacity % 2 !== 0)
      throw new RangeError(`SeriesTable: capacity ${capacity} must be even and ≥ 4`);
    this.fields = fields;
    this.capacity = capacity;
    this.cols = fields.map(() => new Float64Array(capacity));
  }

  /** Points currently held. */
  get length(): number {
    return this.n;
  }

  /** Offer a point; it is stored when it falls on the current stride. @returns whether it was stored. */
  push(p: Record<F, number>): boolean {
    this.last = p;
    const take = this.offered % this.stride === 0;
    this.offered++;
    if (!take) return false;
    if (this.n === this.capacity) this.thin();
    for (let i = 0; i < this.fields.length; i++) this.cols[i][this.n] = p[this.fields[i]];
    this.n++;
    return true;
  }

  private thin(): void {
    const half = this.capacity / 2;
    for (const c of this.cols) for (let i = 0; i < half; i++) c[i] = c[2 * i];
    this.n = half;
    this.stride *= 2;
  }

  /** A live view of one field's column (length = {@link length}); valid until the next push. */
  column(f: F): Float64Array {
    const i = this.fields.indexOf(f);
    if (i < 0) throw new RangeError(`SeriesTable: no field "${f}"`);
    return this.cols[i].subarray(0, this.n);
  }

  /** Point `i` as a record. */
  at(i: number): Record<F, number> {
    const out = {} as Record<F, number>;
    this.fields.forEach((f, j) => {
      out[f] = this.cols[j][i];
    });
    return out;
  }

  /** Forget every point. */
  clear(): void {
    this.n = 0;
    this.stride = 1;
    this.offered = 0;
    this.last = null;
  }

  /** A copy for a checkpoint or a postMessage. */
  snapshot(): SeriesSnapshot {
    return {
      fields: [...this.fields],
      columns: this.cols.map((c) => c.slice(0, this.n)),
      stride: this.stride,
      offered: this.offered,
    };
  }

  /**
   * Replace the contents with a snapshot (fields matched by name; a missing field reads NaN).
   * Points beyond the capacity are thinned as if they had been pushed.
   */
  restore(s: SeriesSnapshot): void {
    this.clear();
    const len = s.columns[0]?.length ?? 0;
    if (len <= this.capacity) {
      this.fields.forEach((f, j) => {
        const src = s.columns[s.fields.indexOf(f)];
        if (src) this.cols[j].set(src.subarray(0, len));
        else this.cols[j].fill(Number.NaN, 0, len);
      });
      this.n = len;
      this.stride = s.stride;
      this.offered = s.offered;
      if (len > 0) this.last = this.at(len - 1);
    } else {
      for (let i = 0; i < len; i++) {
        const p = {} as Record<F, number>;
        for (const f of this.fields) p[f] = s.columns[s.fields.indexOf(f)]?.[i] ?? Number.NaN;
        this.push(p);
      }
    }
  }
}
