/**
 * Host wrapper for shaders/batchtopk.wgsl: BatchTopK over a batch of pre-activations [R, S] (global radix select
 * of the min(k·R, R·S)-th largest value, then z = ReLU of the values at or above it) and the running threshold θ.
 * CPU twin: src/reference/batchtopk.ts (same keys, same tie rule: every value equal to the threshold is kept).
 *
 * Dispatches per call: init, 4 × (hist over R·S, digit), apply over R·S, and (training) threshold. Work ∝ 5·R·S
 * reads; workgroup memory 1 KiB; no float atomics. Scratch buffers: hist u32 [256], state u32 [8].
 * Then count (the fullest row's number of kept latents, read by the GPU plan, batchtopk-plan.ts) and compact: the
 * kept latents as (index, value) rows of k_cap slots, the layout the TopK decode and sparse backward take — so a
 * BatchTopK step costs about what a TopK step does instead of dense [R, S] matmuls.
 */
import batchtopkWgsl from '../../../shaders/batchtopk.wgsl?raw';
import { batchKeepCount, MAX_COMPACT_K } from '../../sae/formulas';
import { type Gpu, GpuError, type ShaderSource } from '../device';
import { f32Bits, fitsBinding, grid1d, needBuffer, oneShot, positiveInt, wgSize } from './common';

export const batchtopkShader: ShaderSource = { name: 'batchtopk', code: batchtopkWgsl };

/** Elements per invocation in the hist and apply passes (the ITEMS override). */
const ITEMS = 8;

/** Shape of a BatchTopK: rows, d_sae, k (mean latents kept per row). */
export interface BatchTopKShape {
  rows: number;
  dSae: number;
  k: number;
}

/** Buffers of one BatchTopK call. */
export interface BatchTopKBuffers {
  /** f32 [R, S] pre-activations. */
  pre: GPUBuffer;
  /** f32 [R, S] latents, written. */
  z: GPUBuffer;
  /** f32 [S] running θ, updated by {@link BatchTopKKernel.encodeThreshold}. */
  threshold: GPUBuffer;
  /** u32 and f32 [R, k_cap] compacted (index, value) pairs, written by {@link BatchTopKKernel.encodeCompact}. */
  indices: GPUBuffer;
  values: GPUBuffer;
}

/** A BatchTopK of fixed shape with its scratch buffers. */
export interface BatchTopKKernel {
  readonly shape: Readonly<BatchTopKShape>;
  /**
   * u32 [8]: pass, threshold key T, remaining, min kept key (0xffffffff = none), after encodeSelect; the largest
   * row count (word 4) after encodeCount; k_cap of the compaction (word 5: setCompactCap, or batchtopk_plan on the
   * GPU, src/gpu/kernels/batchtopk-plan.ts).
   */
  readonly state: GPUBuffer;
  /** Write γ and whether the next step is the first (θ takes the batch value). */
  setThresholdUpdate(rate: number, first: boolean): void;
  /** Write k_cap (slots per compacted row, ≤ min(d_sae, 256)) into state word 5 for work submitted afterwards. */
  setCompactCap(kCap: number): void;
  /** Record batchtopk_count (after encodeSelect): the fullest row's count → state word 4. */
  encodeCount(pass: GPUComputePassEncoder, bufs: BatchTopKBuffers): void;
  /** Record batchtopk_compact with k_cap = state word 5 (setCompactCap or the GPU plan). */
  encodeCompact(pass: GPUComputePassEncoder, bufs: BatchTopKBuffers): void;
  /** Record init, the 4 radix passes and apply (z and the min kept key). */
  encodeSelect(pass: GPUComputePassEncoder, bufs: BatchTopKBuffers): void;
  /** Record the running-threshold update (after encodeSelect). */
  encodeThreshold(pass: GPUComputePassEncoder, bufs: BatchTopKBuffers): void;
  destroy(): void;
}

/** @throws GpuError on a non-positive size or when [R, S] exceeds maxStorageBufferBindingSize. */
export function createBatchTopK(gpu: Gpu, shape: BatchTopKShape, label = 'batchtopk'): BatchTopKKernel {
  const { rows: R, dSae: S, k } = shape;
  positiveInt(label, 'rows', R);
  positiveInt(label, 'd_sae', S);
  positiveInt(label, 'k', k);
  const n = R * S;
  fitsBinding(gpu, label, 'pre-activations [rows, d_sae]', n);
  const wg = wgSize(gpu, 256);
  const kinds = [
    'uniform',
    'read-only-storage',
    'storage',
    'storage',
    'storage',
    'storage',
    'storage',
    'storage',
  ] as const;
  const pipe = (entry: string) => gpu.pipeline(batchtopkShader, entry, kinds, { WG: wg, ITEMS });
  const pInit = pipe('batchtopk_init');
  const pHist = pipe('batchtopk_hist');
  const pDigit = pipe('batchtopk_digit');
  const pApply = pipe('batchtopk_apply');
  const pThreshold = pipe('batchtopk_threshold');
  const pCount = pipe('batchtopk_count');
  const pCompact = pipe('batchtopk_compact');
  const maxCap = Math.min(S, MAX_COMPACT_K);
  let rate = 0.01;
  let first = true;
  let kCap = maxCap;
  const words = () =>
    new Uint32Array([n, batchKeepCount(R, S, k), S, first ? 1 : 0, f32Bits(rate), f32Bits(1 - rate), 0, 0]);
  const params = gpu.uniform(`${label}:params`, words());
  const hist = gpu.storage(`${label}:hist`, 256 * 4);
  const state = gpu.storage(`${label}:state`, 8 * 4);
  const grid = grid1d(gpu, label, Math.ceil(n / (wg * ITEMS)));
  const rowGrid = grid1d(gpu, label, Math.ceil(R / wg));
  const bind = (b: BatchTopKBuffers) => {
    needBuffer(label, 'pre', b.pre, n);
    needBuffer(label, 'z', b.z, n);
    needBuffer(label, 'threshold', b.threshold, S);
    needBuffer(label, 'indices', b.indices, R * kCap);
    needBuffer(label, 'values', b.values, R * kCap);
    return [params, b.pre, hist, state, b.z, b.threshold, b.indices, b.values];
  };
  return {
    shape: { ...shape },
    state,
    setThresholdUpdate(r, f) {
      rate = r;
      first = f;
      gpu.write(params, words());
    },
    setCompactCap(cap) {
      if (!Number.isInteger(cap) || cap < 1 || cap > maxCap)
        throw new GpuError(`${label}: k_cap=${cap} must be an integer in [1, min(d_sae, 256) = ${maxCap}]`);
      kCap = cap;
      gpu.write(state, new Uint32Array([cap]), 5 * 4);
    },
    encodeCount(pass, b) {
      gpu.dispatch(pass, pCount, bind(b), rowGrid);
    },
    encodeCompact(pass, b) {
      gpu.dispatch(pass, pCompact, bind(b), rowGrid);
    },
    encodeSelect(pass, b) {
      const bufs = bind(b);
      gpu.dispatch(pass, pInit, bufs, [1]);
      for (let i = 0; i < 4; i++) {
        gpu.dispatch(pass, pHist, bufs, grid);
        gpu.dispatch(pass, pDigit, bufs, [1]);
      }
      gpu.dispatch(pass, pApply, bufs, grid);
    },
    encodeThreshold(pass, b) {
      gpu.dispatch(pass, pThreshold, bind(b), [1]);
    },
    destroy() {
      for (const b of [params, hist, state]) b.destroy();
    },
  };
}

/**
 * One-shot BatchTopK for tests: latents, the state words (threshold key, min kept key, largest row count), θ after
 * the update and the compacted rows of kCap slots.
 * @param pre f32 [R, S]; @param threshold f32 [S] θ before; @param rate γ; @param first first step?
 */
export async function batchTopkGpu(
  gpu: Gpu,
  pre: Float32Array,
  threshold: Float32Array,
  shape: BatchTopKShape,
  rate: number,
  first: boolean,
  kCap: number,
): Promise<{
  z: Float32Array;
  thresholdKey: number;
  minKeptKey: number;
  maxRowCount: number;
  threshold: Float32Array;
  indices: Uint32Array;
  values: Float32Array;
}> {
  const kernel = createBatchTopK(gpu, shape);
  kernel.setThresholdUpdate(rate, first);
  kernel.setCompactCap(kCap);
  const n = shape.rows * shape.dSae;
  const bufs = {
    pre: gpu.storage('batchtopk:pre', pre),
    z: gpu.storage('batchtopk:z', n * 4),
    threshold: gpu.storage('batchtopk:threshold', threshold),
    indices: gpu.storage('batchtopk:indices', shape.rows * kCap * 4),
    values: gpu.storage('batchtopk:values', shape.rows * kCap * 4),
  };
  return oneShot(
    gpu,
    'batchtopk',
    Object.values(bufs),
    (pass) => {
      kernel.encodeSelect(pass, bufs);
      kernel.encodeThreshold(pass, bufs);
      kernel.encodeCount(pass, bufs);
      kernel.encodeCompact(pass, bufs);
    },
    async () => {
      const st = await gpu.readU32(kernel.state, 8);
      return {
        z: await gpu.readF32(bufs.z, n),
        thresholdKey: st[1],
        minKeptKey: st[3],
        maxRowCount: st[4],
        threshold: await gpu.readF32(bufs.threshold, shape.dSae),
        indices: await gpu.readU32(bufs.indices, shape.rows * kCap),
        values: await gpu.readF32(bufs.values, shape.rows * kCap),
      };
    },
    () => kernel.destroy(),
  );
}
