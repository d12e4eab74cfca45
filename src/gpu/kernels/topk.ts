/**
 * Host wrapper for shaders/topk.wgsl: per-row TopK of pre-activations [R, S] → (index, value) pairs [R, k],
 * by radix select in one workgroup per row. Ties go to the lower index; each row is ordered by value
 * descending. CPU twin: src/reference/topk.ts (topkCpu), same order and tie rule.
 */
import topkWgsl from '../../../shaders/topk.wgsl?raw';
import type { TopKResult } from '../../sae/kernel-types';
import { MAX_K } from '../../sae/validate';
import { type Gpu, GpuError, type ShaderSource } from '../device';
import { fitsBinding, grid1d, needBuffer, nextPow2, oneShot, positiveInt, wgSize } from './common';
import { subgroupsWanted, subgroupVariant, TOPK_SELECT_SWAP } from './subgroups';

/** Invocations per row: about S/16 elements each, a power of two in [32, 256] (capped by the device). */
export function topkWorkgroupSize(gpu: Gpu, dSae: number): number {
  return wgSize(gpu, Math.min(256, Math.max(32, nextPow2(Math.ceil(dSae / 16)))));
}

export const topkShader: ShaderSource = { name: 'topk', code: topkWgsl };

/** The subgroup variant (shaders/include/topk-select-sg.wgsl swapped in; src/gpu/kernels/subgroups.ts). */
export const topkSgShader: ShaderSource = subgroupVariant(topkShader, [TOPK_SELECT_SWAP]);

/** Options of {@link createTopK}. */
export interface TopKOptions {
  /** The subgroup variant: true (required), false (never); default: preferSubgroups (src/gpu/kernels/subgroups.ts). */
  subgroups?: boolean;
}

/** Largest d_sae the TopK kernel is specified and tested for. */
export const MAX_TOPK_D_SAE = 131072;

/** Shape of one TopK call. */
export interface TopKShape {
  rows: number;
  dSae: number;
  k: number;
}

/** Buffers of one TopK call. */
export interface TopKBuffers {
  /** f32 [R, S]. */
  pre: GPUBuffer;
  /** u32 [R, k], written. */
  indices: GPUBuffer;
  /** f32 [R, k], written (raw pre-activations). */
  values: GPUBuffer;
}

/** A TopK of fixed shape. */
export interface TopKKernel {
  readonly shape: Readonly<TopKShape>;
  encode(pass: GPUComputePassEncoder, bufs: TopKBuffers): void;
  destroy(): void;
}

/**
 * Build the TopK kernel (either variant selects exactly the same picks, in the same order).
 * @throws GpuError when k is outside [1, min(d_sae, 256)], d_sae > 131072, the pre-activations exceed
 *   maxStorageBufferBindingSize, or `opts.subgroups` is true on a device without subgroups.
 */
export function createTopK(gpu: Gpu, shape: TopKShape, label = 'topk', opts: TopKOptions = {}): TopKKernel {
  const { rows: R, dSae: S, k } = shape;
  positiveInt(label, 'rows', R);
  positiveInt(label, 'd_sae', S);
  positiveInt(label, 'k', k);
  if (k > S) throw new GpuError(`${label}: k=${k} exceeds d_sae=${S}`);
  if (k > MAX_K) throw new GpuError(`${label}: k=${k} exceeds the kernel limit K_MAX=${MAX_K}`);
  if (S > MAX_TOPK_D_SAE)
    throw new GpuError(`${label}: d_sae=${S} exceeds the kernel limit ${MAX_TOPK_D_SAE}`);
  fitsBinding(gpu, label, 'pre-activations [rows, d_sae]', R * S);
  const wg = topkWorkgroupSize(gpu, S);
  const shader = subgroupsWanted(gpu, label, opts.subgroups) ? topkSgShader : topkShader;
  const pipe = gpu.pipeline(shader, 'topk', ['uniform', 'read-only-storage', 'storage', 'storage'], {
    WG: wg,
  });
  const params = gpu.uniform(`${label}:params`, new Uint32Array([R, S, k, 0]));
  const grid = grid1d(gpu, label, R);
  return {
    shape: { ...shape },
    encode(pass, b) {
      needBuffer(label, 'pre', b.pre, R * S);
      needBuffer(label, 'indices', b.indices, R * k);
      needBuffer(label, 'values', b.values, R * k);
      gpu.dispatch(pass, pipe, [params, b.pre, b.indices, b.values], grid);
    },
    destroy() {
      params.destroy();
    },
  };
}

/** One-shot TopK of pre f32 [R, S]: indices u32 [R, k] and values f32 [R, k]. For tests. */
export async function topkGpu(
  gpu: Gpu,
  pre: Float32Array,
  shape: TopKShape,
  opts: TopKOptions = {},
): Promise<TopKResult> {
  const kernel = createTopK(gpu, shape, 'topk', opts);
  const n = shape.rows * shape.k;
  const bufs = {
    pre: gpu.storage('topk:pre', pre),
    indices: gpu.storage('topk:indices', n * 4),
    values: gpu.storage('topk:values', n * 4),
  };
  return oneShot(
    gpu,
    'topk',
    Object.values(bufs),
    (pass) => kernel.encode(pass, bufs),
    async () => ({ indices: await gpu.readU32(bufs.indices, n), values: await gpu.readF32(bufs.values, n) }),
    () => kernel.destroy(),
  );
}
