/**
 * CPU twin of shaders/batchtopk.wgsl: BatchTopK selection (Bussmann et al. 2024; seed 001_9b5e40b3c1a813c3.txt)
 * and its running threshold.
 *
 * Shape legend: R = rows (tokens), S = d_sae, n = R·S pre-activations, k = mean latents kept per token.
 *
 *   T       = the n_keep-th largest order key of the batch's pre-activations, n_keep = min(k·R, n)
 *   z[i]    = pre[i] if key(pre[i]) ≥ T and pre[i] > 0, else 0          (ReLU of the batch-level TopK)
 *   m       = min { pre[i] : z[i] > 0 }                                  (smallest kept positive activation)
 *   θ       ← m on the first step, else (1 − γ)·θ + γ·m;  unchanged when nothing was kept
 * Ties: every pre-activation equal to the n_keep-th largest is kept (as seed 001's `pre_acts >= threshold`), so a
 * batch keeps more than k·R only when several values equal it exactly. Keys are {@link f32OrderKey} (the GPU
 * compares the same u32 keys). θ is stored per latent (every entry equal) and is SAELens' BatchTopK `threshold`.
 */
import { needLength } from './encoder';
import { f32OrderKey } from './topk';

/** No kept positive activation: the GPU's atomicMin start value. */
export const NO_KEY = 0xffffffff;

/** Output of {@link batchTopkCpu}. */
export interface BatchTopKResult {
  /** Latents f32 [R, S] (0 where not kept). */
  z: Float32Array;
  /** The threshold key T (u32). */
  thresholdKey: number;
  /** Order key of the smallest kept positive pre-activation, or {@link NO_KEY} when none was kept. */
  minKeptKey: number;
  /** Number of kept (nonzero) latents. */
  kept: number;
}

/** Pre-activations kept by a batch of R rows: min(k·R, R·S). */
export function batchKeepCount(rows: number, dSae: number, k: number): number {
  return Math.min(k * rows, rows * dSae);
}

/** The float32 value of a non-negative order key (keys of floats ≥ +0 have the sign bit set). */
export function keyToF32(key: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0, true);
  return v.getFloat32(0, true);
}

/**
 * BatchTopK over a batch.
 * @param pre f32 [R, S] pre-activations
 * @returns latents, the threshold key and the smallest kept key
 * @throws RangeError on a short input or k < 1.
 */
export function batchTopkCpu(pre: Float32Array, rows: number, dSae: number, k: number): BatchTopKResult {
  const n = rows * dSae;
  needLength('batchTopkCpu', 'pre', pre, n);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`batchTopkCpu: k must be an integer ≥ 1, got ${k}`);
  const nKeep = batchKeepCount(rows, dSae, k);
  const keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) keys[i] = f32OrderKey(pre[i]);
  const sorted = keys.slice().sort();
  const thresholdKey = sorted[n - nKeep];
  const z = new Float32Array(n);
  let minKeptKey = NO_KEY;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (keys[i] >= thresholdKey && pre[i] > 0) {
      z[i] = pre[i];
      kept++;
      if (keys[i] < minKeptKey) minKeptKey = keys[i];
    }
  }
  return { z, thresholdKey, minKeptKey, kept };
}

/**
 * The running threshold after a step (float32, as the GPU): θ' = m on the first step (t = 1), else
 * (1 − γ)·θ + γ·m; θ unchanged when minKeptKey is {@link NO_KEY}.
 * @param theta current θ; @param rate γ in (0, 1]; @param t the step number, 1-based
 */
export function batchTopkThresholdUpdate(theta: number, minKeptKey: number, rate: number, t: number): number {
  if (minKeptKey === NO_KEY) return theta;
  const f = Math.fround;
  const m = keyToF32(minKeptKey);
  if (t <= 1) return m;
  return f(f(f(1 - rate) * theta) + f(f(rate) * m));
}
