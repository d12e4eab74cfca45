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
import { batchKeepCount, keyToF32, NO_KEY } from '../sae/formulas';
import { needLength } from './encoder';
import { f32OrderKeys, kthLargestKey } from './radix-select';

export { batchKeepCount, batchTopkCap, keyToF32, MAX_COMPACT_K, NO_KEY } from '../sae/formulas';

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
  const keys = f32OrderKeys(pre, n);
  const thresholdKey = kthLargestKey(keys, nKeep); // the ascending sort's element n − nKeep, in O(n)
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

/** Output of {@link batchTopkCompactCpu}. */
export interface CompactResult {
  /** u32 [R, kCap] latent indices (index order; 0 in unused slots). */
  indices: Uint32Array;
  /** f32 [R, kCap] kept values (0 in unused slots: a latent that did not fire). */
  values: Float32Array;
}

/**
 * CPU twin of batchtopk_count: the largest number of kept (nonzero) latents in a row of z [R, S].
 */
export function batchTopkMaxRowCount(z: Float32Array, rows: number, dSae: number): number {
  needLength('batchTopkMaxRowCount', 'z', z, rows * dSae);
  let max = 0;
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (let s = 0; s < dSae; s++) if (z[r * dSae + s] !== 0) c++;
    max = Math.max(max, c);
  }
  return max;
}

/**
 * CPU twin of batchtopk_compact: each row's kept latents as (index, value) in index order in the first slots of a
 * [R, kCap] row (the TopK layout), the rest (0, 0). Rows with more than kCap kept are cut (callers pick
 * kCap ≥ the largest row count with {@link batchTopkCap}).
 */
export function batchTopkCompactCpu(
  z: Float32Array,
  rows: number,
  dSae: number,
  kCap: number,
): CompactResult {
  needLength('batchTopkCompactCpu', 'z', z, rows * dSae);
  const indices = new Uint32Array(rows * kCap);
  const values = new Float32Array(rows * kCap);
  for (let r = 0; r < rows; r++) {
    let j = 0;
    for (let s = 0; s < dSae && j < kCap; s++) {
      const v = z[r * dSae + s];
      if (v !== 0) {
        indices[r * kCap + j] = s;
        values[r * kCap + j] = v;
        j++;
      }
    }
  }
  return { indices, values };
}
