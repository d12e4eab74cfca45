/**
 * Training batches from a dataset's shards: a seeded shuffle over the training rows, a held-out split that is
 * never trained on, window prefetch (double buffering) and activation normalisation.
 *
 * Shape legend: N = dataset rows, D = d_model, B = batch size, R = rows of one window.
 *
 * Split: the held-out rows are the LAST ceil(N · heldOutFraction) rows of the dataset (splitRows in config.ts);
 * the training rows are [0, trainRows).
 *
 * Order: the training rows form one infinite stream, epoch after epoch. In epoch e the training part of every
 * shard (a "chunk") is shuffled with Rng(hash(seed, e)), the shuffled chunks are grouped into windows of at most
 * `windowBytes`, and the rows of window w are permuted with Rng(hash(seed, e, w)). Batch i is rows
 * [i·B, (i+1)·B) of that stream (a batch may straddle windows and epochs). Any batch index can therefore be
 * reached directly ({@link Batcher.seek}), which is what resuming from a checkpoint needs. When the training rows
 * fit in one window this is a full seeded shuffle of all training rows per epoch.
 *
 * Prefetch: while batches are cut from window w, window w+1 is already being read from the DatasetSource, so
 * the trainer never waits on IndexedDB after the first window. At most two windows are in memory.
 *
 * Normalisation (SAELens `normalize_activations = "expected_average_only_in"`, Gemma Scope §3.2, seed 004):
 * every row is multiplied by scale = √(D / E‖x‖²), with E‖x‖² = manifest.meanSquaredNorm, so the mean squared
 * norm of the scaled rows is D. The export folds the factor back (src/export/saelens.ts).
 */
import type { DatasetSource } from '../data/types';
import { shardRowCount } from '../data/types';
import { Rng } from '../util/rng';
import { splitRows } from './config';

/** Options of a {@link Batcher}. */
export interface BatcherOptions {
  /** Rows come from here. */
  source: DatasetSource;
  /** B: rows per batch. */
  batchSize: number;
  /** Fraction of rows (from the end) held out; see splitRows. */
  heldOutFraction: number;
  /** Seed of the shuffle. */
  seed: number;
  /** Scale rows so the mean squared norm is d_model. */
  normalize: boolean;
  /** Upper bound on the bytes of one window (two are held). Default 64 MiB. */
  windowBytes?: number;
}

/**
 * What the trainer takes from a batch source: a {@link Batcher}, or a view of a stream several runs share
 * (src/sweep/stream.ts), which must hand out exactly the Batcher's batches for the same options.
 */
export type BatchStream = Pick<
  Batcher,
  'next' | 'seek' | 'heldOut' | 'scale' | 'trainRows' | 'heldOutRows' | 'batchSize' | 'batchIndex'
>;

/** One shard's training rows. */
interface Chunk {
  shard: number;
  rows: number;
}

/** A window of an epoch: its chunks (sorted by shard) and total rows. */
interface WindowPlan {
  epoch: number;
  index: number;
  chunks: Chunk[];
  rows: number;
}

/** A loaded window: its plan, its rows (already scaled) [R·D] and the row permutation [R]. */
interface LoadedWindow {
  plan: WindowPlan;
  data: Float32Array;
  perm: Uint32Array;
}

/** 32-bit mix of integers (murmur3 finaliser over a running hash) for per-epoch / per-window seeds. */
export function hashSeed(...xs: number[]): number {
  let h = 0x2545f491;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0xcc9e2d51);
    h = (h << 15) | (h >>> 17);
    h = Math.imul(h, 0x1b873593);
    h ^= h >>> 16;
  }
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The activation normalisation factor √(d_model / meanSquaredNorm) (1 when `normalize` is false).
 * @throws Error when meanSquaredNorm is not a positive finite number.
 */
export function normalisationScale(dModel: number, meanSquaredNorm: number, normalize: boolean): number {
  if (!normalize) return 1;
  if (!(meanSquaredNorm > 0) || !Number.isFinite(meanSquaredNorm)) {
    throw new Error(`dataset manifest: meanSquaredNorm must be a positive number, got ${meanSquaredNorm}`);
  }
  return Math.sqrt(dModel / meanSquaredNorm);
}

/** Cuts seeded, normalised training batches and the held-out split out of a {@link DatasetSource}. */
export class Batcher {
  /** d_model. */
  readonly dModel: number;
  /** B. */
  readonly batchSize: number;
  /** Rows [0, trainRows) are trained on. */
  readonly trainRows: number;
  /** Rows [trainRows, N) are held out. */
  readonly heldOutRows: number;
  /** Multiplier applied to every row (1 without normalisation). */
  readonly scale: number;
  private readonly source: DatasetSource;
  private readonly seed: number;
  private readonly windowBytes: number;
  private readonly chunks: Chunk[];
  private readonly plans = new Map<number, WindowPlan[]>();
  /** Next row of the stream to hand out. */
  private cursor = 0;
  private current: LoadedWindow | null = null;
  private pending: { key: string; promise: Promise<LoadedWindow> } | null = null;
  private readonly buffers: [Float32Array, Float32Array];
  private flip = 0;

  /** @throws Error (naming the dataset) when the split leaves no training or held-out row, or B > training rows. */
  constructor(opts: BatcherOptions) {
    const m = opts.source.manifest;
    this.source = opts.source;
    this.dModel = m.dModel;
    this.batchSize = opts.batchSize;
    this.seed = opts.seed;
    this.windowBytes = opts.windowBytes ?? 64 * 1024 * 1024;
    const split = splitRows(m.nTokens, opts.heldOutFraction);
    this.trainRows = split.trainRows;
    this.heldOutRows = split.heldOutRows;
    if (this.trainRows < 1 || this.heldOutRows < 1) {
      throw new Error(
        `dataset "${m.name}": ${m.nTokens} rows are too few for a training and a held-out split`,
      );
    }
    if (opts.batchSize > this.trainRows) {
      throw new Error(
        `dataset "${m.name}": batch size ${opts.batchSize} exceeds its ${this.trainRows} training rows`,
      );
    }
    this.scale = normalisationScale(m.dModel, m.meanSquaredNorm, opts.normalize);
    this.chunks = [];
    for (let s = 0; s * m.shardRows < this.trainRows; s++) {
      const rows = Math.min(shardRowCount(m, s), this.trainRows - s * m.shardRows);
      if (rows > 0) this.chunks.push({ shard: s, rows });
    }
    const n = opts.batchSize * m.dModel;
    this.buffers = [new Float32Array(n), new Float32Array(n)];
  }

  /** Number of batches handed out so far (the step the next batch is for). */
  get batchIndex(): number {
    return Math.floor(this.cursor / this.batchSize);
  }

  /** Continue the stream at batch `batchIndex` (e.g. the step of a checkpoint). */
  seek(batchIndex: number): void {
    if (!Number.isInteger(batchIndex) || batchIndex < 0) {
      throw new RangeError(`Batcher.seek: batch index must be a whole number ≥ 0, got ${batchIndex}`);
    }
    this.cursor = batchIndex * this.batchSize;
  }

  /** The windows of epoch `e`, in stream order (cached for the last few epochs). */
  private windowsOf(e: number): WindowPlan[] {
    let plans = this.plans.get(e);
    if (plans) return plans;
    const order = new Rng(hashSeed(this.seed, e)).shuffle(this.chunks.map((_, i) => i));
    const maxRows = Math.max(1, Math.floor(this.windowBytes / (4 * this.dModel)));
    plans = [];
    let cur: Chunk[] = [];
    let rows = 0;
    const flush = () => {
      if (cur.length === 0) return;
      cur.sort((a, b) => a.shard - b.shard);
      plans!.push({ epoch: e, index: plans!.length, chunks: cur, rows });
      cur = [];
      rows = 0;
    };
    for (const ci of order) {
      const c = this.chunks[ci];
      if (cur.length > 0 && rows + c.rows > maxRows) flush();
      cur.push(c);
      rows += c.rows;
    }
    flush();
    if (this.plans.size > 4) this.plans.delete(Math.min(...this.plans.keys()));
    this.plans.set(e, plans);
    return plans;
  }

  /** The window holding stream row `pos`, and the offset of `pos` inside it. */
  private locate(pos: number): { plan: WindowPlan; offset: number } {
    const e = Math.floor(pos / this.trainRows);
    let off = pos - e * this.trainRows;
    for (const plan of this.windowsOf(e)) {
      if (off < plan.rows) return { plan, offset: off };
      off -= plan.rows;
    }
    throw new Error('Batcher: stream position past the end of its epoch (internal error)');
  }

  /** The window after `plan` in the stream. */
  private following(plan: WindowPlan): WindowPlan {
    const ws = this.windowsOf(plan.epoch);
    return plan.index + 1 < ws.length ? ws[plan.index + 1] : this.windowsOf(plan.epoch + 1)[0];
  }

  private static key(plan: WindowPlan): string {
    return `${plan.epoch}/${plan.index}`;
  }

  /** Read and scale the rows of a window's chunks, and draw its permutation. */
  private async load(plan: WindowPlan, reuse: LoadedWindow | null): Promise<LoadedWindow> {
    const d = this.dModel;
    let data: Float32Array;
    const same =
      reuse &&
      reuse.plan.chunks.length === plan.chunks.length &&
      reuse.plan.chunks.every((c, i) => c.shard === plan.chunks[i].shard && c.rows === plan.chunks[i].rows);
    if (same && reuse) {
      data = reuse.data;
    } else {
      data = new Float32Array(plan.rows * d);
      let at = 0;
      const shards = await Promise.all(plan.chunks.map((c) => this.source.readShard(c.shard)));
      plan.chunks.forEach((c, i) => {
        const rows = shards[i];
        const need = c.rows * d;
        if (rows.length < need) {
          throw new Error(
            `dataset "${this.source.manifest.name}": shard ${c.shard} holds ${rows.length / d} rows, expected ≥ ${c.rows}`,
          );
        }
        const src = rows.subarray(0, need);
        if (this.scale === 1) data.set(src, at);
        else for (let j = 0; j < need; j++) data[at + j] = src[j] * this.scale;
        at += need;
      });
    }
    const perm = new Uint32Array(plan.rows);
    for (let i = 0; i < plan.rows; i++) perm[i] = i;
    new Rng(hashSeed(this.seed, plan.epoch, plan.index)).shuffle(perm);
    return { plan, data, perm };
  }

  /** The loaded window for `plan`, from the prefetch when it matches; starts prefetching the next one. */
  private async windowFor(plan: WindowPlan): Promise<LoadedWindow> {
    const key = Batcher.key(plan);
    if (this.current && Batcher.key(this.current.plan) === key) return this.current;
    let w: LoadedWindow;
    if (this.pending?.key === key) w = await this.pending.promise;
    else w = await this.load(plan, this.current);
    this.current = w;
    const next = this.following(plan);
    const nextKey = Batcher.key(next);
    const promise = this.load(next, w);
    promise.catch(() => undefined); // surfaced when awaited
    this.pending = { key: nextKey, promise };
    return w;
  }

  /**
   * The next batch: Float32Array [B·D], rows scaled. Two buffers alternate, so the batch stays valid until the
   * call after next (enough for the trainer to prepare batch t+1 while step t runs on the GPU).
   * @throws Error when a shard is missing or short.
   */
  async next(): Promise<Float32Array> {
    const d = this.dModel;
    const out = this.buffers[this.flip];
    this.flip ^= 1;
    let filled = 0;
    while (filled < this.batchSize) {
      const { plan, offset } = this.locate(this.cursor);
      const w = await this.windowFor(plan);
      const take = Math.min(this.batchSize - filled, plan.rows - offset);
      for (let i = 0; i < take; i++) {
        const r = w.perm[offset + i];
        out.set(w.data.subarray(r * d, (r + 1) * d), (filled + i) * d);
      }
      filled += take;
      this.cursor += take;
    }
    return out;
  }

  /**
   * The first `maxRows` held-out rows (all when maxRows ≥ heldOutRows), scaled like the training rows:
   * Float32Array [rows·D] and its row count. Never part of a training batch.
   */
  async heldOut(maxRows: number): Promise<{ x: Float32Array; rows: number }> {
    const m = this.source.manifest;
    const d = this.dModel;
    const rows = Math.max(0, Math.min(maxRows, this.heldOutRows));
    const x = new Float32Array(rows * d);
    let row = this.trainRows;
    let at = 0;
    while (at < rows) {
      const s = Math.floor(row / m.shardRows);
      const shard = await this.source.readShard(s);
      const start = row - s * m.shardRows;
      const take = Math.min(rows - at, shardRowCount(m, s) - start);
      const src = shard.subarray(start * d, (start + take) * d);
      if (src.length < take * d) {
        throw new Error(`dataset "${m.name}": shard ${s} is shorter than its manifest says`);
      }
      for (let j = 0; j < src.length; j++) x[at * d + j] = src[j] * this.scale;
      at += take;
      row += take;
    }
    return { x, rows };
  }
}
