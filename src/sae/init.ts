/**
 * Seeded initialisation of a TopK SAE (Gemma Scope §3.2, seed 004_5e13fcf757174fc0.txt; Gao et al. 2024 §2.3,
 * seed 000_03f50111ba1a6c62.txt):
 *   W_dec rows: random directions, unit norm (isotropic normals, then each row divided by its norm);
 *   W_enc = W_decᵀ (copied, not tied afterwards);  b_enc = 0;
 *   b_dec = mean of a data sample when one is given (Gao et al. initialise the pre-encoder bias from the data),
 *   else 0;
 *   θ (JumpReLU) = arch.thresholdInit for every latent (Gemma Scope: 0.001); θ (BatchTopK) = 0 until the first
 *   step sets it (src/reference/batchtopk.ts).
 */

import { Rng } from '../util/rng';
import { hasThreshold, resolveArch } from './arch';
import { archSpec } from './archs';
import type { SaeParams, SaeShape } from './types';

/**
 * Fresh SAE parameters.
 * @param shape d_model, d_sae, arch (k and batchSize are not used here)
 * @param seed any integer; the same seed gives the same parameters everywhere
 * @param sample optional f32 [rows, d_model] activations; b_dec = their per-dimension mean
 * @returns W_enc f32 [d_model, d_sae], W_dec f32 [d_sae, d_model], b_enc f32 [d_sae], b_dec f32 [d_model],
 *   and θ f32 [d_sae] for JumpReLU and BatchTopK
 * @throws RangeError on a non-positive size or a sample whose length is not a multiple of d_model.
 */
export function initSaeParams(shape: SaeShape, seed: number, sample?: Float32Array): SaeParams {
  const { dModel: D, dSae: S } = shape;
  if (!Number.isInteger(D) || D < 1 || !Number.isInteger(S) || S < 1)
    throw new RangeError(`initSaeParams: d_model and d_sae must be positive integers, got ${D}, ${S}`);
  const rng = new Rng(seed);
  const wDec = new Float32Array(S * D);
  const wEnc = new Float32Array(D * S);
  const row = new Float64Array(D);
  for (let s = 0; s < S; s++) {
    let norm2 = 0;
    do {
      norm2 = 0;
      for (let d = 0; d < D; d++) {
        row[d] = rng.normal();
        norm2 += row[d] * row[d];
      }
    } while (norm2 === 0);
    const inv = 1 / Math.sqrt(norm2);
    for (let d = 0; d < D; d++) {
      const w = Math.fround(row[d] * inv);
      wDec[s * D + d] = w;
      wEnc[d * S + s] = w;
    }
  }
  const bDec = new Float32Array(D);
  if (sample && sample.length > 0) {
    if (sample.length % D !== 0)
      throw new RangeError(
        `initSaeParams: sample has ${sample.length} floats, not a multiple of d_model=${D}`,
      );
    const rows = sample.length / D;
    const mean = new Float64Array(D);
    for (let r = 0; r < rows; r++) for (let d = 0; d < D; d++) mean[d] += sample[r * D + d];
    for (let d = 0; d < D; d++) bDec[d] = mean[d] / rows;
  }
  const params: SaeParams = { wEnc, wDec, bEnc: new Float32Array(S), bDec };
  const arch = resolveArch(shape);
  if (hasThreshold(arch.architecture)) {
    const learned = archSpec(arch.architecture).step.threshold === 'learned';
    params.threshold = new Float32Array(S).fill(learned ? arch.thresholdInit : 0);
  }
  return params;
}
