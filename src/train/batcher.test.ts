import { describe, expect, it } from 'vitest';
import { Batcher, hashSeed, normalisationScale } from './batcher';
import { memorySource } from './testing/memory-source';

/** Rows whose first column is the row index (so a batch says which rows it holds) and the rest seeded noise. */
function indexedRows(n: number, d: number): Float32Array {
  const x = new Float32Array(n * d);
  let s = 1;
  for (let r = 0; r < n; r++) {
    x[r * d] = r;
    for (let j = 1; j < d; j++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      x[r * d + j] = s / 2 ** 32 - 0.5;
    }
  }
  return x;
}

function ids(batch: Float32Array, d: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < batch.length; i += d) out.push(batch[i]);
  return out;
}

const N = 1003;
const D = 5;

describe('Batcher', () => {
  for (const windowBytes of [undefined, 4 * D * 150]) {
    const label = windowBytes ? 'several windows' : 'one window';
    it(`visits every training row exactly once per epoch and never a held-out row (${label})`, async () => {
      const src = memorySource(indexedRows(N, D), D, { shardRows: 97 });
      const b = new Batcher({
        source: src,
        batchSize: 7,
        heldOutFraction: 0.05,
        seed: 3,
        normalize: false,
        windowBytes,
      });
      expect(b.trainRows).toBe(952);
      expect(b.heldOutRows).toBe(51);
      const seen: number[] = [];
      for (let i = 0; i < b.trainRows / 7; i++) seen.push(...ids(await b.next(), D));
      expect(seen.length).toBe(952);
      expect([...seen].sort((a, c) => a - c)).toEqual(Array.from({ length: 952 }, (_, i) => i));
      expect(seen.slice(0, 20)).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
      const second: number[] = [];
      for (let i = 0; i < 40; i++) second.push(...ids(await b.next(), D));
      expect(Math.max(...second)).toBeLessThan(952);
    });
  }

  it('is deterministic for a seed and differs across seeds', async () => {
    const rows = indexedRows(N, D);
    const make = (seed: number) =>
      new Batcher({
        source: memorySource(rows, D, { shardRows: 100 }),
        batchSize: 64,
        heldOutFraction: 0.05,
        seed,
        normalize: false,
      });
    const a = make(11);
    const b = make(11);
    const c = make(12);
    for (let i = 0; i < 30; i++) {
      const [x, y, z] = [await a.next(), await b.next(), await c.next()];
      expect(ids(x, D)).toEqual(ids(y, D));
      if (i === 0) expect(ids(x, D)).not.toEqual(ids(z, D));
    }
  });

  it('seek(i) yields the same batch i as reading the stream from the start', async () => {
    const rows = indexedRows(N, D);
    const opts = {
      batchSize: 50,
      heldOutFraction: 0.05,
      seed: 5,
      normalize: false,
      windowBytes: 4 * D * 300,
    };
    const seq = new Batcher({ source: memorySource(rows, D, { shardRows: 64 }), ...opts });
    const want: number[][] = [];
    for (let i = 0; i < 45; i++) want.push(ids(await seq.next(), D));
    for (const at of [0, 1, 18, 19, 37, 44]) {
      const jump = new Batcher({ source: memorySource(rows, D, { shardRows: 64 }), ...opts });
      jump.seek(at);
      expect(jump.batchIndex).toBe(at);
      expect(ids(await jump.next(), D), `batch ${at}`).toEqual(want[at]);
    }
  });

  it('returns the held-out rows (the last 5%), scaled like the training rows', async () => {
    const rows = indexedRows(N, D);
    const src = memorySource(rows, D, { shardRows: 97 });
    const b = new Batcher({ source: src, batchSize: 8, heldOutFraction: 0.05, seed: 1, normalize: true });
    const all = await b.heldOut(1_000_000);
    expect(all.rows).toBe(51);
    for (let i = 0; i < all.rows; i++) {
      for (let j = 0; j < D; j++) expect(all.x[i * D + j]).toBeCloseTo(rows[(952 + i) * D + j] * b.scale, 4);
    }
    const few = await b.heldOut(10);
    expect(few.rows).toBe(10);
    expect(few.x).toEqual(all.x.subarray(0, 10 * D));
  });

  it('normalises so the mean squared norm is d_model', async () => {
    const rows = indexedRows(N, D);
    const src = memorySource(rows, D, { shardRows: 97 });
    const scale = normalisationScale(D, src.manifest.meanSquaredNorm, true);
    expect(scale).toBeCloseTo(Math.sqrt(D / src.manifest.meanSquaredNorm), 12);
    let sq = 0;
    for (const x of rows) sq += (x * scale) ** 2;
    expect(sq / N).toBeCloseTo(D, 3);
    const b = new Batcher({ source: src, batchSize: 952, heldOutFraction: 0.05, seed: 9, normalize: true });
    const x = await b.next();
    const byId = new Map<number, number>();
    for (let i = 0; i < 952; i++) byId.set(Math.round(x[i * D] / scale), i);
    const i0 = byId.get(17)!;
    for (let j = 0; j < D; j++) expect(x[i0 * D + j]).toBeCloseTo(rows[17 * D + j] * scale, 4);
    expect(normalisationScale(D, 123, false)).toBe(1);
    expect(() => normalisationScale(D, 0, true)).toThrow(/meanSquaredNorm/);
  });

  it('rejects a batch larger than the training split, naming the dataset', () => {
    const src = memorySource(indexedRows(100, D), D, { name: 'tiny' });
    expect(
      () => new Batcher({ source: src, batchSize: 96, heldOutFraction: 0.05, seed: 0, normalize: false }),
    ).toThrow('dataset "tiny": batch size 96 exceeds its 95 training rows');
  });

  it('mixes seeds into distinct 32-bit values', () => {
    const s = new Set([hashSeed(1, 0), hashSeed(1, 1), hashSeed(2, 0), hashSeed(1, 0, 0), hashSeed(0, 1)]);
    expect(s.size).toBe(5);
    expect(hashSeed(7, 3)).toBe(hashSeed(7, 3));
  });
});
