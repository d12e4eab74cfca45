import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { type ByteSource, bytesSource, streamSource } from './bytes';
import { encodeElems, npyBytes, safetensorsBytes } from './fixtures';
import {
  type ImportFile,
  type ImportOptions,
  type ImportProgress,
  type ImportTarget,
  importDataset,
  ZERO_VARIANCE_SHOWN,
  zeroVarianceColumns,
  zeroVarianceText,
} from './importer';
import { DatasetStore, memoryKv, shardKey, subscribeDatasets } from './store';
import type { DatasetManifest } from './types';
import { shardRowCount } from './types';

/** Rows of a [n, d] dataset, seeded normal values (exactly representable in f16 after rounding by the fixture). */
function rows(n: number, d: number, seed: number): Float32Array {
  return new Rng(seed).normalArray(n * d);
}

/** Reference statistics in f64 (the formulas of importer.ts). */
function stats(x: Float32Array, d: number): { mean: number[]; msn: number } {
  const n = x.length / d;
  const mean = new Array(d).fill(0);
  let sq = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      mean[j] += x[i * d + j];
      sq += x[i * d + j] ** 2;
    }
  return { mean: mean.map((s) => s / n), msn: sq / n };
}

async function readAll(store: DatasetStore, id: string): Promise<Float32Array> {
  const src = await store.open(id);
  const m = src.manifest;
  const out = new Float32Array(m.nTokens * m.dModel);
  for (let i = 0; i < m.shardCount; i++) {
    const s = await src.readShard(i);
    expect(s.length).toBe(shardRowCount(m, i) * m.dModel);
    out.set(s, i * m.shardRows * m.dModel);
  }
  return out;
}

function npyF32(name: string, x: Float32Array, shape: number[]): ByteSource {
  return bytesSource(name, npyBytes({ descr: '<f4', shape, data: encodeElems(x, 'f32') }));
}

/** Small shards so that every test crosses shard boundaries: 7 rows of d = 5 (140 bytes). */
const SMALL: ImportOptions = { shardBytes: 7 * 5 * 4, progressIntervalMs: 0 };
const NEW: ImportTarget = { kind: 'new', name: 'ds' };

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-9) {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++)
    if (Math.abs(got[i] - want[i]) > tol * (1 + Math.abs(want[i])))
      throw new Error(`index ${i}: got ${got[i]}, want ${want[i]}`);
}

describe('importDataset', () => {
  it('streams a .npy into fixed-size shards, manifest last, with mean and mean squared norm', async () => {
    const store = new DatasetStore(memoryKv());
    const x = rows(23, 5, 1);
    const progress: ImportProgress[] = [];
    const m = await importDataset(store, [{ source: npyF32('a.npy', x, [23, 5]) }], NEW, {
      ...SMALL,
      onProgress: (p) => progress.push(p),
    });
    expect(m).toMatchObject({ name: 'ds', dModel: 5, nTokens: 23, shardRows: 7, shardCount: 4 });
    expect(m.sources).toEqual([
      { name: 'a.npy', bytes: 128 + 460, dtype: '<f4', shape: [23, 5], format: 'npy' },
    ]);
    expect(Array.from(await readAll(store, m.id))).toEqual(Array.from(x));
    const want = stats(x, 5);
    close(m.mean, want.mean);
    close([m.meanSquaredNorm], [want.msn]);
    expect((await store.list()).map((d) => d.id)).toEqual([m.id]);
    // Progress: monotone, ends with everything done.
    const last = progress[progress.length - 1];
    expect(last).toMatchObject({
      phase: 'done',
      bytesDone: 460,
      bytesTotal: 460,
      rowsDone: 23,
      rowsTotal: 23,
    });
    for (let i = 1; i < progress.length; i++)
      expect(progress[i].bytesDone).toBeGreaterThanOrEqual(progress[i - 1].bytesDone);
  });

  it('imports several files (npy f2, safetensors bf16 3-D, raw f16) of one d_model into one dataset, in order', async () => {
    const store = new DatasetStore(memoryKv());
    const a = Float32Array.from(rows(9, 5, 2), (v) => Math.round(v * 64) / 64); // f16- and bf16-exact
    const b = Float32Array.from(rows(12, 5, 3), (v) => Math.round(v * 16) / 16);
    const c = Float32Array.from(rows(4, 5, 4), (v) => Math.round(v * 64) / 64);
    const files: ImportFile[] = [
      {
        source: bytesSource(
          'a.npy',
          npyBytes({ descr: '>f2', shape: [9, 5], data: encodeElems(a, 'f16', false) }),
        ),
      },
      {
        source: bytesSource(
          'b.safetensors',
          safetensorsBytes(
            [{ name: 'acts', dtype: 'BF16', shape: [3, 4, 5], data: encodeElems(b, 'bf16') }],
            { layer: '2' },
          ),
        ),
      },
      { source: bytesSource('c.f16', encodeElems(c, 'f16')), choice: { dModel: 5 } },
    ];
    const m = await importDataset(store, files, NEW, SMALL);
    expect(m.nTokens).toBe(25);
    expect(m.sources.map((s) => [s.name, s.dtype, s.tensor])).toEqual([
      ['a.npy', '>f2', undefined],
      ['b.safetensors', 'BF16', 'acts'],
      ['c.f16', 'f16', undefined],
    ]);
    expect(m.metadata).toEqual({ layer: '2' });
    const all = new Float32Array([...a, ...b, ...c]);
    expect(Array.from(await readAll(store, m.id))).toEqual(Array.from(all));
    close(m.mean, stats(all, 5).mean);
  });

  it('reads a 2-D fortran_order .npy correctly (column-major on disk)', async () => {
    const store = new DatasetStore(memoryKv());
    const x = rows(17, 5, 5); // row-major values
    const colMajor = new Float32Array(17 * 5);
    for (let i = 0; i < 17; i++) for (let j = 0; j < 5; j++) colMajor[j * 17 + i] = x[i * 5 + j];
    const src = bytesSource(
      'f.npy',
      npyBytes({ descr: '<f4', shape: [17, 5], fortranOrder: true, data: encodeElems(colMajor, 'f32') }),
    );
    const m = await importDataset(store, [{ source: src }], NEW, SMALL);
    expect(Array.from(await readAll(store, m.id))).toEqual(Array.from(x));
    expect(m.sources[0].note).toMatch(/Fortran/);
  });

  it('converts <f8 to float32 and notes it', async () => {
    const store = new DatasetStore(memoryKv());
    const x = Array.from(rows(6, 5, 6), (v) => v + 1e-12);
    const src = bytesSource('d.npy', npyBytes({ descr: '<f8', shape: [6, 5], data: encodeElems(x, 'f64') }));
    const m = await importDataset(store, [{ source: src }], NEW, SMALL);
    expect(Array.from(await readAll(store, m.id))).toEqual(x.map(Math.fround));
    expect(m.sources[0].note).toMatch(/float64 values were rounded to float32/);
  });

  it('gives the same rows from a chunked network stream as from random access', async () => {
    const x = rows(30, 5, 7);
    const bytes = npyBytes({ descr: '<f4', shape: [30, 5], data: encodeElems(x, 'f32') });
    const rng = new Rng(8);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let p = 0; p < bytes.length; ) {
          const n = 1 + rng.int(50);
          c.enqueue(bytes.slice(p, p + n));
          p += n;
        }
        c.close();
      },
    });
    const store = new DatasetStore(memoryKv());
    const m = await importDataset(
      store,
      [{ source: streamSource('s.npy', bytes.length, stream) }],
      NEW,
      SMALL,
    );
    expect(Array.from(await readAll(store, m.id))).toEqual(Array.from(x));
  });

  it('refuses a network stream that ends before its announced length, storing nothing', async () => {
    const bytes = npyBytes({ descr: '<f4', shape: [30, 5], data: encodeElems(rows(30, 5, 7), 'f32') });
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, bytes.length - 100));
        c.close();
      },
    });
    const store = new DatasetStore(memoryKv());
    await expect(
      importDataset(store, [{ source: streamSource('cut.npy', bytes.length, stream) }], NEW, SMALL),
    ).rejects.toThrow(/"cut.npy": truncated: rows 21..28 needs bytes 548..688 but the data ends at byte 628/);
    expect(await store.allKeys()).toEqual([]);
  });

  it('appends a harvest in parts to an existing dataset: rewrites the partial last shard atomically', async () => {
    const kv = memoryKv();
    const store = new DatasetStore(kv);
    const x1 = rows(10, 5, 9);
    const x2 = rows(13, 5, 10);
    const m1 = await importDataset(
      store,
      [{ source: npyF32('part1.npy', x1, [10, 5]) }],
      { kind: 'new', name: 'harvest' },
      SMALL,
    );
    expect(m1.shardKeys).toEqual([shardKey(m1.id, 0, 0), shardKey(m1.id, 0, 1)]);
    await store.rename(m1.id, 'harvest (renamed)');
    const m2 = await importDataset(
      store,
      [{ source: npyF32('part2.npy', x2, [13, 5]) }],
      { kind: 'append', datasetId: m1.id },
      SMALL,
    );
    expect(m2).toMatchObject({
      id: m1.id,
      name: 'harvest (renamed)',
      nTokens: 23,
      shardCount: 4,
      createdAt: m1.createdAt,
    });
    expect(m2.sources.map((s) => s.name)).toEqual(['part1.npy', 'part2.npy']);
    // Shard 0 is kept, shard 1 (3 rows) was rewritten with 7 rows under generation 1.
    expect(m2.shardKeys).toEqual([
      shardKey(m1.id, 0, 0),
      shardKey(m1.id, 1, 1),
      shardKey(m1.id, 1, 2),
      shardKey(m1.id, 1, 3),
    ]);
    const all = new Float32Array([...x1, ...x2]);
    expect(Array.from(await readAll(store, m1.id))).toEqual(Array.from(all));
    const want = stats(all, 5);
    close(m2.mean, want.mean, 1e-6);
    close([m2.meanSquaredNorm], [want.msn], 1e-6);
    // No stale or orphan shard is left.
    expect(await store.allKeys()).toEqual([`dataset/${m1.id}`, ...(m2.shardKeys as string[])].sort());
    expect(await store.cleanupOrphans()).toEqual([]);
  });

  it('refuses a d_model mismatch (new multi-file and append) naming the file, storing nothing', async () => {
    const store = new DatasetStore(memoryKv());
    const base = await importDataset(store, [{ source: npyF32('a.npy', rows(3, 5, 1), [3, 5]) }], NEW, SMALL);
    const before = await store.allKeys();
    await expect(
      importDataset(
        store,
        [
          { source: npyF32('x.npy', rows(2, 5, 1), [2, 5]) },
          { source: npyF32('y.npy', rows(2, 4, 1), [2, 4]) },
        ],
        NEW,
        SMALL,
      ),
    ).rejects.toThrow(
      /"y.npy": d_model mismatch: it has d_model 4 \(shape \[2, 4\]\) but "x.npy" has d_model 5/,
    );
    await expect(
      importDataset(
        store,
        [{ source: npyF32('z.npy', rows(2, 6, 1), [2, 6]) }],
        { kind: 'append', datasetId: base.id },
        SMALL,
      ),
    ).rejects.toThrow(/"z.npy": d_model mismatch: it has d_model 6 .* dataset "ds" has d_model 5/);
    expect(await store.allKeys()).toEqual(before);
  });

  for (const [what, value, re] of [
    ['NaN', Number.NaN, /"late.npy": row 21 \(0-based\), column 3 is NaN: NaN and ±Inf values are refused/],
    ['+Inf', Number.POSITIVE_INFINITY, /row 21 \(0-based\), column 3 is Infinity/],
    ['-Inf', Number.NEGATIVE_INFINITY, /row 21 \(0-based\), column 3 is -Infinity/],
  ] as const) {
    it(`refuses ${what} in the last row after shards were written, leaving the store exactly as it was`, async () => {
      const kv = memoryKv();
      const store = new DatasetStore(kv);
      await importDataset(store, [{ source: npyF32('ok.npy', rows(9, 5, 1), [9, 5]) }], NEW, SMALL);
      const before = new Map(kv.map);
      const x = rows(22, 5, 2);
      x[21 * 5 + 3] = value;
      let sawShards = false;
      const p = importDataset(store, [{ source: npyF32('late.npy', x, [22, 5]) }], NEW, {
        ...SMALL,
        onProgress: (pr) => {
          if (pr.rowsDone >= 14) sawShards = kv.map.size > before.size;
        },
      });
      await expect(p).rejects.toThrow(re);
      expect(sawShards).toBe(true);
      expect(new Map(kv.map)).toEqual(before);
    });
  }

  it('refuses a float64 value beyond the float32 range', async () => {
    const store = new DatasetStore(memoryKv());
    const x = [1, 2, 3, 4, 5, 6, 7, 1e300, 9, 10];
    const src = bytesSource(
      'big.npy',
      npyBytes({ descr: '<f8', shape: [2, 5], data: encodeElems(x, 'f64') }),
    );
    await expect(importDataset(store, [{ source: src }], NEW, SMALL)).rejects.toThrow(
      /"big.npy": row 1 \(0-based\), column 2 is Infinity.*float64 value outside the float32 range/,
    );
    expect(await store.allKeys()).toEqual([]);
  });

  it('cancels between chunks, leaving the store exactly as it was', async () => {
    const kv = memoryKv();
    const store = new DatasetStore(kv);
    await importDataset(store, [{ source: npyF32('ok.npy', rows(4, 5, 1), [4, 5]) }], NEW, SMALL);
    const before = new Map(kv.map);
    const signal = { aborted: false };
    const p = importDataset(store, [{ source: npyF32('long.npy', rows(70, 5, 3), [70, 5]) }], NEW, {
      ...SMALL,
      signal,
      onProgress: (pr) => {
        if (pr.rowsDone >= 30) signal.aborted = true;
      },
    });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(new Map(kv.map)).toEqual(before);
  });

  it('refuses an import over the storage quota before writing anything', async () => {
    const store = new DatasetStore(memoryKv());
    const p = importDataset(store, [{ source: npyF32('q.npy', rows(100, 5, 1), [100, 5]) }], NEW, {
      ...SMALL,
      estimate: async () => ({ usage: 9_000, quota: 10_000 }),
    });
    await expect(p).rejects.toThrow(
      /"q.npy": over quota: storing 100 rows × 5 as float32 needs 2000 bytes, but the browser allows only 1000 bytes more \(9000 bytes used of 10000 bytes\)/,
    );
    expect(await store.allKeys()).toEqual([]);
  });

  it('turns a QuotaExceededError from IndexedDB mid-import into a clear error and removes what was written', async () => {
    const kv = memoryKv();
    let writes = 0;
    const failing = {
      ...kv,
      async set(key: string, value: unknown) {
        if (key.startsWith('shard/') && ++writes === 3)
          throw new DOMException('disk full', 'QuotaExceededError');
        return kv.set(key, value);
      },
    };
    const store = new DatasetStore(failing);
    await expect(
      importDataset(store, [{ source: npyF32('w.npy', rows(40, 5, 1), [40, 5]) }], NEW, SMALL),
    ).rejects.toThrow(
      /"w.npy": over quota \(QuotaExceededError: disk full\): storing 40 rows × 5 as float32 needs 800 bytes; .*Delete a dataset/,
    );
    expect(await store.allKeys()).toEqual([]);
  });

  it('refuses truncated data and an empty file before writing anything', async () => {
    const store = new DatasetStore(memoryKv());
    const full = npyBytes({ descr: '<f4', shape: [20, 5], data: encodeElems(rows(20, 5, 1), 'f32') });
    await expect(
      importDataset(store, [{ source: bytesSource('t.npy', full.slice(0, full.length - 7)) }], NEW, SMALL),
    ).rejects.toThrow(/"t.npy": truncated data/);
    await expect(
      importDataset(store, [{ source: bytesSource('e.npy', new Uint8Array(0)) }], NEW, SMALL),
    ).rejects.toThrow(/"e.npy": empty file/);
    expect(await store.allKeys()).toEqual([]);
  });

  // The demo dataset in the repository (public/demo/README.md): present in every clone and worktree.
  const realNpy = resolve(import.meta.dirname, '../../public/demo/stories260K.resid_post.2.f32.npy');
  it.runIf(existsSync(realNpy))(
    'imports the real numpy-written stories260K activations [81790, 64]',
    async () => {
      const bytes = new Uint8Array(readFileSync(realNpy));
      const store = new DatasetStore(memoryKv());
      const m = await importDataset(
        store,
        [{ source: bytesSource('stories260K.resid_post.2.f32.npy', bytes) }],
        NEW,
      );
      expect([m.nTokens, m.dModel, m.shardRows, m.shardCount]).toEqual([81790, 64, 16384, 5]);
      const direct = new Float32Array(bytes.buffer.slice(128));
      const all = await readAll(store, m.id);
      expect(all.length).toBe(direct.length);
      for (let i = 0; i < direct.length; i++) if (all[i] !== direct[i]) throw new Error(`value ${i} differs`);
      const want = stats(direct, 64);
      close(m.mean, want.mean, 1e-9);
      close([m.meanSquaredNorm], [want.msn], 1e-12);
    },
  );
});

describe('DatasetStore', () => {
  async function twoDatasets() {
    const kv = memoryKv();
    const store = new DatasetStore(kv);
    const a = await importDataset(
      store,
      [{ source: npyF32('a.npy', rows(8, 5, 1), [8, 5]) }],
      { kind: 'new', name: 'A' },
      SMALL,
    );
    const b = await importDataset(
      store,
      [{ source: npyF32('b.npy', rows(3, 5, 1), [3, 5]) }],
      { kind: 'new', name: 'B' },
      SMALL,
    );
    return { kv, store, a, b };
  }

  it('removes orphan shards (no manifest lists them) and nothing else', async () => {
    const { kv, store, a } = await twoDatasets();
    const listed = await store.allKeys();
    await kv.set(shardKey('ghost', 0, 0), new Float32Array(5));
    await kv.set(shardKey(a.id, 7, 3), new Float32Array(5));
    expect((await store.cleanupOrphans())?.sort()).toEqual([shardKey(a.id, 7, 3), shardKey('ghost', 0, 0)]);
    expect(await store.allKeys()).toEqual(listed);
  });

  it('renames, deletes (manifest and shards) and reads shards with range checks', async () => {
    const { store, a, b } = await twoDatasets();
    expect((await store.rename(a.id, '  new name ')).name).toBe('new name');
    await expect(store.rename(a.id, ' ')).rejects.toThrow(/cannot be empty/);
    const src = await store.open(a.id);
    await expect(src.readShard(2)).rejects.toThrow(RangeError);
    await expect(src.readShard(-1)).rejects.toThrow(RangeError);
    await store.delete(a.id);
    expect((await store.list()).map((m: DatasetManifest) => m.name)).toEqual(['B']);
    expect((await store.allKeys()).every((k) => !k.includes(a.id))).toBe(true);
    await expect(store.open(a.id)).rejects.toThrow(/not found/);
    expect(await store.allKeys()).toContain(`dataset/${b.id}`);
  });

  it('announces renames and deletions to subscribers', async () => {
    const { store, a } = await twoDatasets();
    let calls = 0;
    const got = new Promise<void>((done) => {
      const off = subscribeDatasets(() => {
        if (++calls === 2) {
          off();
          done();
        }
      });
    });
    await store.rename(a.id, 'x');
    await store.delete(a.id);
    await got;
    expect(calls).toBe(2);
  });

  it('reports a missing shard clearly', async () => {
    const { kv, store, b } = await twoDatasets();
    await kv.del([(b.shardKeys as string[])[0]]);
    await expect((await store.open(b.id)).readShard(0)).rejects.toThrow(
      /shard 0 .* is missing from the store/,
    );
  });
});

describe('constant rows', () => {
  it('refuses rows that are all the same (or all zero), naming the file', async () => {
    const { refuseConstantRows } = await import('./importer');
    expect(() => refuseConstantRows('c.npy', [1, 2], 5)).toThrow(/"c.npy": every row is \(nearly\) the same/);
    expect(() => refuseConstantRows('z.npy', [0, 0], 0)).toThrow(/"z.npy": every row is \(nearly\) the same/);
    expect(() => refuseConstantRows('ok.npy', [1, 2], 6)).not.toThrow();
  });
});

describe('zero-variance columns', () => {
  it('imports, and names the (near) zero-variance columns in the manifest and its text; appends update them', async () => {
    const d = 6;
    const x = rows(30, d, 11);
    for (let r = 0; r < 30; r++) {
      x[r * d + 2] = 0; // an all-zero column
      x[r * d + 4] = 3.5; // a constant one
      x[r * d + 5] = 1 + (r % 2) * 1e-6; // varies, but by ~1e-12 of the average column's second moment
    }
    const store = new DatasetStore(memoryKv());
    const m = await importDataset(store, [{ source: npyF32('z.npy', x, [30, d]) }], NEW, SMALL);
    expect(m.zeroVarianceColumns).toEqual([2, 4, 5]);
    expect(m.columnMeanSquares?.[4]).toBeCloseTo(12.25, 9);
    expect(zeroVarianceText(m)).toBe('3 of 6 columns have (near) zero variance: 2, 4, 5');
    expect((await store.get(m.id))?.zeroVarianceColumns).toEqual([2, 4, 5]);
    // Rows where column 4 varies: only 2 and 5 stay; the stored sums are combined exactly as for the mean.
    const y = rows(10, d, 12);
    for (let r = 0; r < 10; r++) {
      y[r * d + 2] = 0;
      y[r * d + 5] = 1;
    }
    const m2 = await importDataset(
      store,
      [{ source: npyF32('more.npy', y, [10, d]) }],
      { kind: 'append', datasetId: m.id },
      SMALL,
    );
    expect(m2.zeroVarianceColumns).toEqual([2, 5]);
    const all = new Float32Array([...x, ...y]);
    for (let j = 0; j < d; j++) {
      let s2 = 0;
      for (let r = 0; r < 40; r++) s2 += all[r * d + j] ** 2;
      expect(m2.columnMeanSquares?.[j]).toBeCloseTo(s2 / 40, 9);
    }
  });

  it('reports none for ordinary data, and shows at most the first few indices', async () => {
    const store = new DatasetStore(memoryKv());
    const m = await importDataset(store, [{ source: npyF32('n.npy', rows(20, 5, 3), [20, 5]) }], NEW, SMALL);
    expect(m.zeroVarianceColumns).toEqual([]);
    expect(zeroVarianceText(m)).toBeNull();
    const cols = Array.from({ length: 12 }, (_, i) => i * 2);
    expect(zeroVarianceText({ dModel: 64, zeroVarianceColumns: cols })).toBe(
      `12 of 64 columns have (near) zero variance: ${cols.slice(0, ZERO_VARIANCE_SHOWN).join(', ')}, …`,
    );
    expect(zeroVarianceColumns([0, 1], [1e-20, 2], 2)).toEqual([0]);
  });
});
