/**
 * Host wrapper for shaders/arch-stats.wgsl: writes the AuxK loss and the sparsity loss into words 5 and 6 of a
 * step's stats buffer (after shaders/stats.wgsl). CPU twin: sparsityLossOf in src/reference/sae-engine.ts.
 */
import archStatsWgsl from '../../../shaders/arch-stats.wgsl?raw';
import type { Gpu, ShaderSource } from '../device';
import { COL_PLANES } from './activation';
import { f32Bits, needBuffer, positiveInt, wgSize } from './common';
import { STATS_WORDS } from './stats';
import { REDUCE_SWAP, subgroupsWanted, subgroupVariant } from './subgroups';

export const archStatsShader: ShaderSource = { name: 'arch-stats', code: archStatsWgsl };

/** The subgroup variant (include/reduce-sg.wgsl swapped in): the same sum in another order. */
export const archStatsSgShader: ShaderSource = subgroupVariant(archStatsShader, [REDUCE_SWAP]);

/** Which sparsity term the stats report. */
export type SparsityMode = 'none' | 'relu' | 'jumprelu';

/** Buffers of one arch-stats call. */
export interface ArchStatsBuffers {
  /** u32 [4·S] from the activation backward (any buffer when mode is 'none'). */
  col: GPUBuffer;
  /** f32 [8] AuxK scalars (any buffer when AuxK is off). */
  auxScalars: GPUBuffer;
  /** u32 [8] step stats, words 5 and 6 written. */
  out: GPUBuffer;
}

/** The arch-stats reduction. */
export interface ArchStatsKernel {
  /** Write this step's λ (per-token units). */
  setLambda(lambda: number): void;
  encode(pass: GPUComputePassEncoder, bufs: ArchStatsBuffers): void;
  destroy(): void;
}

/**
 * @param opts.subgroups the subgroup variant: true (required), false (never); default preferSubgroups
 *   (src/gpu/kernels/subgroups.ts). It changes the float summation order of the sparsity sum.
 * @throws GpuError on a non-positive size, or `opts.subgroups` true on a device without subgroups.
 */
export function createArchStats(
  gpu: Gpu,
  shape: { dSae: number; rows: number },
  mode: SparsityMode,
  hasAux: boolean,
  label = 'arch-stats',
  opts: { subgroups?: boolean } = {},
): ArchStatsKernel {
  const { dSae: S, rows: R } = shape;
  positiveInt(label, 'd_sae', S);
  positiveInt(label, 'rows', R);
  const wg = wgSize(gpu, 256);
  const ro = 'read-only-storage' as const;
  const shader = subgroupsWanted(gpu, label, opts.subgroups) ? archStatsSgShader : archStatsShader;
  const pipe = gpu.pipeline(shader, 'arch_stats', ['uniform', ro, ro, 'storage'], { WG: wg });
  const m = { none: 0, relu: 1, jumprelu: 2 }[mode];
  const words = (lambda: number) => new Uint32Array([S, R, m, hasAux ? 1 : 0, f32Bits(lambda), 0, 0, 0]);
  const params = gpu.uniform(`${label}:params`, words(0));
  return {
    setLambda(lambda) {
      gpu.write(params, words(lambda));
    },
    encode(pass, b) {
      if (mode !== 'none') needBuffer(label, 'col', b.col, COL_PLANES * S);
      if (hasAux) needBuffer(label, 'aux scalars', b.auxScalars, 8);
      needBuffer(label, 'out', b.out, STATS_WORDS);
      gpu.dispatch(pass, pipe, [params, b.col, b.auxScalars, b.out], [1]);
    },
    destroy() {
      params.destroy();
    },
  };
}
