/**
 * Host wrapper for shaders/eval.wgsl: per-chunk evaluation sums (Σ sse, Σ cos, Σ relative error) into one slot
 * of a chunk-sums buffer, and per-latent fire totals accumulated across chunks. CPU twin: addEvalRowSums in
 * src/reference/sae-engine.ts. Metric definitions: src/sae/metrics.ts.
 */
import evalWgsl from '../../../shaders/eval.wgsl?raw';
import { ROW_STATS } from '../../sae/kernel-types';
import type { Gpu, ShaderSource } from '../device';
import { needBuffer, positiveInt, wgSize } from './common';
import { REDUCE_SWAP, subgroupsWanted, subgroupVariant } from './subgroups';

export const evalShader: ShaderSource = { name: 'eval', code: evalWgsl };

/** The subgroup variant (include/reduce-sg.wgsl swapped in): the same sums in another order. */
export const evalSgShader: ShaderSource = subgroupVariant(evalShader, [REDUCE_SWAP]);

/** f32 words per chunk slot: Σ sse, Σ cos, Σ relErr, 0. */
export const EVAL_CHUNK_WORDS = 4;

/** Buffers of one eval reduction. */
export interface EvalReduceBuffers {
  /** f32 [R, 4] from the decoder. */
  rowStats: GPUBuffer;
  /** u32 [S] per-latent counts of this chunk (bucket_count); reset to 0 here. */
  counts: GPUBuffer;
  /** u32 [S], += counts. */
  fireTotal: GPUBuffer;
  /** f32 [chunks, 4]. */
  chunkSums: GPUBuffer;
}

/** The eval reduction for chunks of R rows. */
export interface EvalReduceKernel {
  /** Select the chunk slot written by work submitted after this call (queue.writeBuffer). */
  setChunk(chunk: number): void;
  encode(pass: GPUComputePassEncoder, bufs: EvalReduceBuffers): void;
  destroy(): void;
}

/**
 * @param opts.subgroups the subgroup variant: true (required), false (never); default preferSubgroups
 *   (src/gpu/kernels/subgroups.ts). It changes the float summation order of the chunk sums (counts are exact).
 * @throws GpuError on a non-positive size, or `opts.subgroups` true on a device without subgroups.
 */
export function createEvalReduce(
  gpu: Gpu,
  shape: { rows: number; dSae: number },
  label = 'eval',
  opts: { subgroups?: boolean } = {},
): EvalReduceKernel {
  const { rows: R, dSae: S } = shape;
  positiveInt(label, 'rows', R);
  positiveInt(label, 'd_sae', S);
  const wg = wgSize(gpu, 256);
  const pipe = gpu.pipeline(
    subgroupsWanted(gpu, label, opts.subgroups) ? evalSgShader : evalShader,
    'eval_reduce',
    ['uniform', 'read-only-storage', 'storage', 'storage', 'storage'],
    { WG: wg },
  );
  const params = gpu.uniform(`${label}:params`, new Uint32Array([R, S, 0, 0]));
  let chunk = 0;
  return {
    setChunk(c) {
      chunk = c;
      gpu.write(params, new Uint32Array([R, S, c, 0]));
    },
    encode(pass, b) {
      needBuffer(label, 'row_stats', b.rowStats, R * ROW_STATS);
      needBuffer(label, 'counts', b.counts, S);
      needBuffer(label, 'fire_total', b.fireTotal, S);
      needBuffer(label, 'chunk_sums', b.chunkSums, (chunk + 1) * EVAL_CHUNK_WORDS);
      gpu.dispatch(pass, pipe, [params, b.rowStats, b.counts, b.fireTotal, b.chunkSums], [1]);
    },
    destroy() {
      params.destroy();
    },
  };
}
