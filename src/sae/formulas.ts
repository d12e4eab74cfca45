/**
 * Formulas and constants that the GPU engine (src/gpu/) and its CPU twin (src/reference/) must compute the same
 * way: Adam's float32 step scalars, the loss-gradient scale, the order-preserving key of a float32 (TopK and
 * BatchTopK ties), BatchTopK's keep count and compaction size, and the float64 sum of squares about the mean (SST).
 * Neutral ground: both sides import them from here, so the oracle stays independent of the code it checks.
 */

import { type AdamCoefficients, needLength } from './kernel-types';
import type { StepHyper } from './types';

const keyView = new DataView(new ArrayBuffer(4));

/**
 * Adam scalars for step number t (1-based), computed in float64 and rounded to float32.
 * @throws RangeError when t < 1, lr < 0, or a β is outside [0, 1).
 */
export function adamCoefficients(
  hyper: Pick<StepHyper, 'lr' | 'beta1' | 'beta2' | 'eps'>,
  t: number,
): AdamCoefficients {
  const { lr, beta1, beta2, eps } = hyper;
  if (!Number.isInteger(t) || t < 1)
    throw new RangeError(`adam: step number t must be an integer ≥ 1, got ${t}`);
  if (!(lr >= 0)) throw new RangeError(`adam: lr must be ≥ 0, got ${lr}`);
  if (!(beta1 >= 0 && beta1 < 1)) throw new RangeError(`adam: beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new RangeError(`adam: beta2 must be in [0, 1), got ${beta2}`);
  if (!(eps > 0)) throw new RangeError(`adam: eps must be > 0, got ${eps}`);
  const f = Math.fround;
  return {
    lr: f(lr),
    beta1: f(beta1),
    oneMinusBeta1: f(1 - beta1),
    beta2: f(beta2),
    oneMinusBeta2: f(1 - beta2),
    eps: f(eps),
    bc1: f(1 - beta1 ** t),
    bc2: f(1 - beta2 ** t),
  };
}

/** The loss scale 2/(R·D) as a float32 (∂loss/∂x̂ = scale·(x̂ − x)). */
export function lossGradScale(rows: number, dModel: number): number {
  return Math.fround(2 / (rows * dModel));
}

/**
 * Order-preserving u32 key of a float32: negative floats get all bits flipped, non-negative ones get the sign
 * bit set. Unsigned comparison of keys equals float comparison (and puts +0 above −0).
 */
export function f32OrderKey(v: number): number {
  keyView.setFloat32(0, v, true);
  const u = keyView.getUint32(0, true);
  return (u & 0x80000000 ? ~u : u | 0x80000000) >>> 0;
}

/** No kept positive activation: the GPU's atomicMin start value. */
export const NO_KEY = 0xffffffff;

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

/** Largest compacted row: the per-row limit of the TopK kernels (MAX_K). */
export const MAX_COMPACT_K = 256;

/**
 * Slots per row of the compacted BatchTopK output for a batch whose fullest row keeps `maxCount` latents: the
 * smallest of 16, 32, 64, 128, 256 that holds it, at most d_sae; null when maxCount > 256 (the engines then use
 * the dense path for that step).
 */
export function batchTopkCap(maxCount: number, dSae: number): number | null {
  if (maxCount > MAX_COMPACT_K) return null;
  let cap = 16;
  while (cap < maxCount) cap *= 2;
  return Math.min(cap, dSae);
}

/** Σ_r ‖x_r − x̄‖² about the mean x̄ of the R rows, two-pass in float64. @param x f32 [R, D] */
export function sumSquaredDeviation(x: Float32Array, rows: number, dModel: number): number {
  needLength('sumSquaredDeviation', 'x', x, rows * dModel);
  if (rows === 0) return 0;
  const mean = new Float64Array(dModel);
  for (let r = 0; r < rows; r++) for (let d = 0; d < dModel; d++) mean[d] += x[r * dModel + d];
  for (let d = 0; d < dModel; d++) mean[d] /= rows;
  let sst = 0;
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < dModel; d++) {
      const e = x[r * dModel + d] - mean[d];
      sst += e * e;
    }
  }
  return sst;
}
