/**
 * Host wrapper for shaders/stats.wgsl: the raw sums of a training step ({@link StepStats}) and the GPU-side
 * per-latent steps-since-fired counters. CPU twin: src/reference/stats.ts (stepStatsCpu).
 */
import statsWgsl from '../../../shaders/stats.wgsl?raw';
import { ROW_STATS } from '../../sae/kernel-types';
import type { StepStats } from '../../sae/types';
import type { Gpu, ShaderSource } from '../device';
import { needBuffer, oneShot, positiveInt, wgSize } from './common';
import { REDUCE2_SWAP, subgroupsWanted, subgroupVariant } from './subgroups';

export const statsShader: ShaderSource = { name: 'stats', code: statsWgsl };

/** The subgroup variant (include/reduce2-sg.wgsl swapped in): the same sums in another order. */
export const statsSgShader: ShaderSource = subgroupVariant(statsShader, [REDUCE2_SWAP]);

/** u32 words of the stats output buffer. */
export const STATS_WORDS = 8;

/**
 * Word of the stats output that holds the sticky non-finite flag: shaders/nonfinite.wgsl ORs 1 into it when the
 * loss or a parameter is NaN/±Inf; the stats kernel never writes it; the engine clears it on setState.
 */
export const NON_FINITE_WORD = 7;

/** Buffers of one stats reduction. */
export interface StatsBuffers {
  /** f32 [R, D]. */
  x: GPUBuffer;
  /** f32 [R, 4] from the decoder. */
  rowStats: GPUBuffer;
  /** u32 [S] fire counts of this batch. */
  fireCounts: GPUBuffer;
  /** u32 [S], updated in place. */
  stepsSinceFired: GPUBuffer;
  /** u32 [8], written. */
  out: GPUBuffer;
}

/** The stats reduction of fixed shape. */
export interface StatsKernel {
  /** Write the dead-latent window (steps); takes effect for work submitted afterwards. */
  setDeadWindow(steps: number): void;
  encode(pass: GPUComputePassEncoder, bufs: StatsBuffers): void;
  destroy(): void;
}

/**
 * Decode the 8-word output buffer into {@link StepStats}. Word 7 is the sticky non-finite flag. Words 5 and 6 (f32 bits) are the AuxK and sparsity
 * losses: the stats kernel writes 0 there and, when the architecture has them, shaders/arch-stats.wgsl
 * overwrites them afterwards.
 */
export function decodeStats(words: Uint32Array, rows: number): StepStats {
  const f = new Float32Array(words.buffer, words.byteOffset, STATS_WORDS);
  return {
    nTokens: rows,
    sse: f[0],
    sst: f[1],
    l0Sum: words[2],
    firedInBatch: words[3],
    deadCount: words[4],
    auxkLoss: f[5],
    sparsityLoss: f[6],
    nonFinite: words[NON_FINITE_WORD] !== 0,
  };
}

/**
 * @param opts.subgroups the subgroup variant: true (required), false (never); default preferSubgroups
 *   (src/gpu/kernels/subgroups.ts). It changes the float summation order of sse and sst (counts are exact).
 * @throws GpuError on a non-positive size, or `opts.subgroups` true on a device without subgroups.
 */
export function createStats(
  gpu: Gpu,
  shape: { rows: number; dModel: number; dSae: number },
  label = 'stats',
  opts: { subgroups?: boolean } = {},
): StatsKernel {
  const { rows: R, dModel: D, dSae: S } = shape;
  for (const [n, v] of Object.entries({ rows: R, d_model: D, d_sae: S })) positiveInt(label, n, v);
  const wg = wgSize(gpu, 256);
  const ro = 'read-only-storage' as const;
  const shader = subgroupsWanted(gpu, label, opts.subgroups) ? statsSgShader : statsShader;
  const pipe = gpu.pipeline(shader, 'stats', ['uniform', ro, ro, ro, 'storage', 'storage'], { WG: wg });
  const params = gpu.uniform(`${label}:params`, new Uint32Array([R, D, S, 1]));
  return {
    setDeadWindow(steps) {
      const w = Math.min(Math.max(Math.ceil(steps), 1), 0xffffffff);
      gpu.write(params, new Uint32Array([R, D, S, w]));
    },
    encode(pass, b) {
      needBuffer(label, 'x', b.x, R * D);
      needBuffer(label, 'row_stats', b.rowStats, R * ROW_STATS);
      needBuffer(label, 'fire_counts', b.fireCounts, S);
      needBuffer(label, 'steps_since_fired', b.stepsSinceFired, S);
      needBuffer(label, 'out', b.out, STATS_WORDS);
      gpu.dispatch(pass, pipe, [params, b.x, b.rowStats, b.fireCounts, b.stepsSinceFired, b.out], [1]);
    },
    destroy() {
      params.destroy();
    },
  };
}

/** One-shot for tests: the step sums and the updated counters. */
export async function statsGpu(
  gpu: Gpu,
  x: Float32Array,
  rowStats: Float32Array,
  fireCounts: Uint32Array,
  stepsSinceFired: Uint32Array,
  deadWindowSteps: number,
  shape: { rows: number; dModel: number },
  opts: { subgroups?: boolean } = {},
): Promise<{ stats: StepStats; stepsSinceFired: Uint32Array }> {
  const S = fireCounts.length;
  const kernel = createStats(gpu, { ...shape, dSae: S }, 'stats', opts);
  kernel.setDeadWindow(deadWindowSteps);
  const bufs = {
    x: gpu.storage('stats:x', x),
    rowStats: gpu.storage('stats:row_stats', rowStats),
    fireCounts: gpu.storage('stats:fire_counts', fireCounts),
    stepsSinceFired: gpu.storage('stats:steps_since_fired', stepsSinceFired),
    out: gpu.storage('stats:out', STATS_WORDS * 4),
  };
  return oneShot(
    gpu,
    'stats',
    Object.values(bufs),
    (pass) => kernel.encode(pass, bufs),
    async () => ({
      stats: decodeStats(await gpu.readU32(bufs.out, STATS_WORDS), shape.rows),
      stepsSinceFired: await gpu.readU32(bufs.stepsSinceFired, S),
    }),
    () => kernel.destroy(),
  );
}
