/**
 * An in-memory {@link DatasetSource} over one Float32Array [N, d_model], cut into shards like the IndexedDB
 * store does. Used by unit tests (Node has no IndexedDB) and for data that already sits in memory.
 */
import type { DatasetManifest, DatasetSource } from '../../data/types';
import { shardRowCount } from '../../data/types';

/** Options of {@link memorySource}. */
export interface MemorySourceOptions {
  /** Rows per shard. Default 4096. */
  shardRows?: number;
  /** Dataset id. Default "memory". */
  id?: string;
  /** Display name. Default "in-memory dataset". */
  name?: string;
}

/**
 * Wrap `rows` [nTokens · dModel] as a dataset. The manifest's mean and meanSquaredNorm are computed here
 * (float64 sums). Shards are subarray views (no copy).
 * @throws Error when rows.length is not a multiple of dModel or there are no rows.
 */
export function memorySource(
  rows: Float32Array,
  dModel: number,
  opts: MemorySourceOptions = {},
): DatasetSource {
  if (rows.length === 0 || rows.length % dModel !== 0) {
    throw new Error(`memorySource: ${rows.length} values are not a positive multiple of d_model=${dModel}`);
  }
  const nTokens = rows.length / dModel;
  const shardRows = opts.shardRows ?? 4096;
  const mean = new Float64Array(dModel);
  let sq = 0;
  for (let r = 0; r < nTokens; r++) {
    for (let j = 0; j < dModel; j++) {
      const x = rows[r * dModel + j];
      mean[j] += x;
      sq += x * x;
    }
  }
  const manifest: DatasetManifest = {
    id: opts.id ?? 'memory',
    name: opts.name ?? 'in-memory dataset',
    dModel,
    nTokens,
    shardRows,
    shardCount: Math.ceil(nTokens / shardRows),
    sources: [],
    createdAt: 0,
    mean: Array.from(mean, (m) => m / nTokens),
    meanSquaredNorm: sq / nTokens,
  };
  return {
    manifest,
    async readShard(index: number): Promise<Float32Array> {
      if (!Number.isInteger(index) || index < 0 || index >= manifest.shardCount) {
        throw new RangeError(`memorySource: shard ${index} is outside [0, ${manifest.shardCount})`);
      }
      const start = index * shardRows * dModel;
      return rows.subarray(start, start + shardRowCount(manifest, index) * dModel);
    },
  };
}
