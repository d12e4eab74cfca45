/**
 * One batch stream for the N runs of a sweep group: batch i is cut from the dataset (IndexedDB shards, or any
 * DatasetSource) once, by one {@link Batcher}, and handed to every run that asks for batch i; the held-out
 * samples are read once per size and shared the same way.
 *
 * Same options → the same batches in the same order as a single run's own Batcher (Batcher.seek reaches any batch
 * index, so a view that lags or seeks — a run resumed at its checkpoint's step — still gets the batches its single
 * run would). Each view keeps its own cursor; the stream keeps a batch until every open view has moved past it (at
 * most {@link MAX_CACHED_BATCHES}; past that the oldest is dropped and re-read if a lagging view asks for it).
 * Batches handed out are fresh arrays never written again, so a run may hold one as long as it likes.
 */
import { Batcher, type BatcherOptions, type BatchStream } from '../train/batcher';

/** Most batches kept for views that lag behind (runs of one group step in lockstep, so a few suffice). */
export const MAX_CACHED_BATCHES = 64;

/**
 * Lockstep: a view may ask for batch i only once every open view has asked for batch i − MAX_LEAD, so runs of
 * different speeds (a TopK step is cheaper than a BatchTopK one) stay together and each batch is read once. Off
 * while the sweep is paused ({@link SharedBatchStream.setLockstep}), so a pause never waits on a paused run.
 */
export const MAX_LEAD = 4;

/** What the stream did: the read share of the sweep's per-stage breakdown. */
export interface StreamStats {
  /** Batches cut from the dataset (each once when the views keep pace). */
  batchesRead: number;
  /** Batches handed to views (N per batch for N runs in lockstep). */
  batchesServed: number;
  /** Held-out samples read from the dataset, and handed out. */
  heldOutRead: number;
  heldOutServed: number;
  /** Wall time spent reading and cutting batches and held-out samples, ms. */
  readMs: number;
}

/** A shared batch stream; {@link view} gives each run its own cursor. */
export class SharedBatchStream {
  readonly options: BatcherOptions;
  private readonly batcher: Batcher;
  private readonly cache = new Map<number, Float32Array>();
  private readonly heldOutCache = new Map<number, Promise<{ x: Float32Array; rows: number }>>();
  private readonly views = new Set<{ cursor: number }>();
  /** Requests not served yet, per batch index (their batch must not be dropped before they are served). */
  private readonly inFlight = new Map<number, number>();
  private lockstep = true;
  private waiters: (() => void)[] = [];
  /** Serialises reads: the Batcher is stateful. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  readonly stats: StreamStats = {
    batchesRead: 0,
    batchesServed: 0,
    heldOutRead: 0,
    heldOutServed: 0,
    readMs: 0,
  };

  /** @throws Error from the Batcher (split too small, batch larger than the training rows). */
  constructor(options: BatcherOptions, now: () => number = () => performance.now()) {
    this.options = options;
    this.batcher = new Batcher(options);
    this.now = now;
  }

  /** True when `options` cut the same batches as this stream (same source, batch size, split, seed, scaling). */
  matches(options: BatcherOptions): boolean {
    const o = this.options;
    return (
      o.source === options.source &&
      o.batchSize === options.batchSize &&
      o.heldOutFraction === options.heldOutFraction &&
      o.seed === options.seed &&
      o.normalize === options.normalize &&
      o.windowBytes === options.windowBytes
    );
  }

  /** Turn lockstep on (default) or off (while paused: views then run free; a lagging one may re-read). */
  setLockstep(on: boolean): void {
    this.lockstep = on;
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private minCursor(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const v of this.views) min = Math.min(min, v.cursor);
    return min;
  }

  /** Resolves once batch `i` is within MAX_LEAD of the slowest open view (at once when lockstep is off). */
  private async admit(i: number): Promise<void> {
    while (this.lockstep && i >= this.minCursor() + MAX_LEAD) {
      await new Promise<void>((res) => this.waiters.push(res));
    }
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Batch `i` [B·D] f32 (a fresh array, never written again). @throws Error from the dataset read. */
  private batch(i: number): Promise<Float32Array> {
    this.stats.batchesServed++;
    const have = this.cache.get(i);
    if (have) return Promise.resolve(have);
    return this.serial(async () => {
      const again = this.cache.get(i);
      if (again) return again;
      const t0 = this.now();
      if (this.batcher.batchIndex !== i) this.batcher.seek(i);
      const x = (await this.batcher.next()).slice();
      this.stats.readMs += this.now() - t0;
      this.stats.batchesRead++;
      this.cache.set(i, x);
      this.evict();
      return x;
    });
  }

  /** Mark batch `i` as asked for and not served yet (it must not be dropped meanwhile), or unmark it. */
  private hold(i: number, delta: 1 | -1): void {
    const n = (this.inFlight.get(i) ?? 0) + delta;
    if (n > 0) this.inFlight.set(i, n);
    else this.inFlight.delete(i);
  }

  /** Drop batches every open view has passed, and the oldest beyond the cap. */
  private evict(): void {
    let min = Number.POSITIVE_INFINITY;
    for (const v of this.views) min = Math.min(min, v.cursor);
    for (const i of [...this.cache.keys()].sort((a, b) => a - b)) {
      if (this.inFlight.has(i)) continue;
      if (i < min || this.cache.size > MAX_CACHED_BATCHES) this.cache.delete(i);
    }
  }

  /** The first `maxRows` held-out rows, read once per size. @throws Error from the dataset read. */
  private heldOut(maxRows: number): Promise<{ x: Float32Array; rows: number }> {
    this.stats.heldOutServed++;
    let p = this.heldOutCache.get(maxRows);
    if (!p) {
      p = this.serial(async () => {
        const t0 = this.now();
        const out = await this.batcher.heldOut(maxRows);
        this.stats.readMs += this.now() - t0;
        this.stats.heldOutRead++;
        return out;
      });
      p.catch(() => this.heldOutCache.delete(maxRows));
      this.heldOutCache.set(maxRows, p);
    }
    return p;
  }

  /**
   * A run's view of the stream: the Batcher's interface with a cursor of its own. Call `close` when the run ends
   * so the stream stops keeping batches for it.
   */
  view(): BatchStream & { close(): void } {
    const cursor = { cursor: 0 };
    this.views.add(cursor);
    const b = this.batcher;
    const stream = this;
    return {
      scale: b.scale,
      trainRows: b.trainRows,
      heldOutRows: b.heldOutRows,
      batchSize: b.batchSize,
      get batchIndex() {
        return cursor.cursor;
      },
      seek(batchIndex: number) {
        if (!Number.isInteger(batchIndex) || batchIndex < 0) {
          throw new RangeError(
            `SharedBatchStream.seek: batch index must be a whole number ≥ 0, got ${batchIndex}`,
          );
        }
        cursor.cursor = batchIndex;
        stream.wakeWaiters();
      },
      async next() {
        const i = cursor.cursor++;
        // Held from the request on: a view waiting for the others (lockstep) has moved its cursor past i already.
        stream.hold(i, 1);
        stream.wakeWaiters();
        try {
          await stream.admit(i);
          return await stream.batch(i);
        } finally {
          stream.hold(i, -1);
        }
      },
      heldOut: (maxRows: number) => stream.heldOut(maxRows),
      close: () => {
        this.views.delete(cursor);
        this.evict();
        this.wakeWaiters();
      },
    };
  }
}
