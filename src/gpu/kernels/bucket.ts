/**
 * Host wrapper for shaders/bucket.wgsl: the latent → fired-pairs transpose of the TopK output (CSR layout,
 * buckets sorted by pair index), built with u32 atomics only. Used by the sparse backward pass and, for the
 * per-latent counts alone, by evaluation.
 *
 * Shape legend: R = rows, S = d_sae, k. The object owns its buffers:
 *   counts u32 [S] (zero between uses: bucket_scan or eval_reduce resets it), cursor u32 [S],
 *   buckets u32 [S + 1 + R·k] = offsets | entries, fireCounts u32 [S] (tokens each latent fired on).
 */
import bucketWgsl from '../../../shaders/bucket.wgsl?raw';
import type { Gpu, ShaderSource } from '../device';
import { fitsBinding, grid1d, needBuffer, positiveInt, wgSize } from './common';

export const bucketShader: ShaderSource = { name: 'bucket', code: bucketWgsl };

/** Shape of a bucket build. */
export interface BucketShape {
  rows: number;
  dSae: number;
  k: number;
}

/** Inputs: the TopK output. */
export interface BucketInputs {
  /** u32 [R, k]. */
  indices: GPUBuffer;
  /** f32 [R, k]. */
  values: GPUBuffer;
}

/** Bucket buffers and the dispatches that fill them. */
export interface Buckets {
  readonly shape: Readonly<BucketShape>;
  /** u32 [S]: per-latent counts accumulated by {@link Buckets.encodeCount}, reset by the scan. */
  readonly counts: GPUBuffer;
  /** u32 [S + 1 + R·k]: offsets then entries (pair indices p = r·k + j), each bucket sorted ascending. */
  readonly buckets: GPUBuffer;
  /** u32 [S]: tokens each latent fired on in the last built batch. */
  readonly fireCounts: GPUBuffer;
  /** Record bucket_count only (counts += fired pairs per latent). */
  encodeCount(pass: GPUComputePassEncoder, inputs: BucketInputs): void;
  /** Record bucket_count, bucket_scan, bucket_fill and bucket_sort. Counts must be zero before. */
  encodeBuild(pass: GPUComputePassEncoder, inputs: BucketInputs): void;
  destroy(): void;
}

/**
 * @param fireCountsInto optional u32 buffer (≥ S words) to write the fire counts into instead of an own one (not
 *   destroyed with the buckets): the BatchTopK step's buckets of every k_cap share one.
 * @throws GpuError on a non-positive size or when the bucket buffer exceeds maxStorageBufferBindingSize.
 */
export function createBuckets(
  gpu: Gpu,
  shape: BucketShape,
  label = 'bucket',
  fireCountsInto?: GPUBuffer,
): Buckets {
  const { rows: R, dSae: S, k } = shape;
  positiveInt(label, 'rows', R);
  positiveInt(label, 'd_sae', S);
  positiveInt(label, 'k', k);
  fitsBinding(gpu, label, 'buckets [d_sae + 1 + rows·k]', S + 1 + R * k);
  const wg = wgSize(gpu, 256);
  const kinds = [
    'uniform',
    'read-only-storage',
    'read-only-storage',
    'storage',
    'storage',
    'storage',
    'storage',
  ] as const;
  const pipe = (entry: string) => gpu.pipeline(bucketShader, entry, kinds, { WG: wg });
  const pCount = pipe('bucket_count');
  const pScan = pipe('bucket_scan');
  const pFill = pipe('bucket_fill');
  const pSort = pipe('bucket_sort');
  const params = gpu.uniform(`${label}:params`, new Uint32Array([R, S, k, 0]));
  const counts = gpu.storage(`${label}:counts`, S * 4);
  const cursor = gpu.storage(`${label}:cursor`, S * 4);
  const buckets = gpu.storage(`${label}:buckets`, (S + 1 + R * k) * 4);
  if (fireCountsInto) needBuffer(label, 'fire_counts', fireCountsInto, S);
  const fireCounts = fireCountsInto ?? gpu.storage(`${label}:fire_counts`, S * 4);
  const pairGrid = grid1d(gpu, label, Math.ceil((R * k) / wg));
  const latentGrid = grid1d(gpu, label, Math.ceil(S / wg));
  const bind = (b: BucketInputs) => {
    needBuffer(label, 'indices', b.indices, R * k);
    needBuffer(label, 'values', b.values, R * k);
    return [params, b.indices, b.values, counts, cursor, buckets, fireCounts];
  };
  return {
    shape: { ...shape },
    counts,
    buckets,
    fireCounts,
    encodeCount(pass, inputs) {
      gpu.dispatch(pass, pCount, bind(inputs), pairGrid);
    },
    encodeBuild(pass, inputs) {
      const bufs = bind(inputs);
      gpu.dispatch(pass, pCount, bufs, pairGrid);
      gpu.dispatch(pass, pScan, bufs, [1]);
      gpu.dispatch(pass, pFill, bufs, pairGrid);
      gpu.dispatch(pass, pSort, bufs, latentGrid);
    },
    destroy() {
      for (const b of [params, counts, cursor, buckets]) b.destroy();
      if (!fireCountsInto) fireCounts.destroy();
    },
  };
}
