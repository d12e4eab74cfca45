/**
 * CPU twin of the sparse backward pass (shaders/backward.wgsl, shaders/bucket.wgsl, shaders/sparse-grads.wgsl,
 * shaders/bdec-grad.wgsl) of the TopK SAE loss
 *   loss = (1 / (R·D)) Σ_{r,d} (x̂ − x)²,   x̂ = Σ_j z_j W_dec[i_j] + b_dec,   z_j = max(pre[i_j], 0),
 *   pre = (x − b_dec)·W_enc + b_enc                     (Gao et al. 2024 §2.3; seed 000_03f50111ba1a6c62.txt)
 *
 * Shape legend: R = rows, D = d_model, S = d_sae, k = latents per row, p = r·k + j a (row, slot) pair.
 *
 * Gradients (g = ∂loss/∂x̂ = 2(x̂ − x)/(R·D), the grad of x̂, dense [R, D], never stored: recomputed from x̂ − x):
 *   ∂z_p       = ⟨g[r], W_dec[i_p]⟩;  ∂pre_p = ∂z_p when value_p > 0 else 0      sparse [R, k]
 *   ∂W_dec[s]  = Σ_{p: i_p = s, value_p > 0} z_p · g[r_p]                      sparse: rows that fired only
 *   ∂W_enc[:,s]= Σ_{p: i_p = s} ∂pre_p · (x[r_p] − b_dec)                       sparse: columns that fired only
 *   ∂b_enc[s]  = Σ_{p: i_p = s} ∂pre_p                                          sparse
 *   ∂b_dec     = Σ_r g[r] − W_enc · ∂b_enc                                      dense [D] (decoder bias + encoder path)
 * The sparse ones are still returned as dense arrays (zeros where no latent fired) because Adam updates every
 * element. "Fired" means value > 0 (a TopK pick whose pre-activation is ≤ 0 is a zero latent).
 *
 * f32 order of the GPU: per-pair dot products in increasing d; per-latent sums in increasing p (the GPU sorts
 * each latent's bucket by p); the scale 2/(R·D) is applied after each sum. ∂b_dec uses tree reductions on the
 * GPU, here a float64 sum rounded once (agrees to a few ulps).
 */

import { lossGradScale } from '../sae/formulas';
import type { BackwardResult } from '../sae/kernel-types';
import { type ForwardShape, needLength } from './encoder';

export { lossGradScale } from '../sae/formulas';
export type { BackwardResult, SaeGrads } from '../sae/kernel-types';

/**
 * Sparse backward pass.
 * @param x f32 [R, D]; @param indices u32 [R, k]; @param values f32 [R, k] (raw pre-activations from TopK)
 * @param xHat f32 [R, D] from the decoder; @param params current W_enc [D, S], W_dec [S, D], b_dec [D]
 * @throws RangeError on short inputs.
 */
export function backwardCpu(
  x: Float32Array,
  indices: Uint32Array,
  values: Float32Array,
  xHat: Float32Array,
  params: { wEnc: Float32Array; wDec: Float32Array; bDec: Float32Array },
  shape: ForwardShape & { k: number },
): BackwardResult {
  const { rows: R, dModel: D, dSae: S, k } = shape;
  const { wEnc, wDec, bDec } = params;
  needLength('backwardCpu', 'x', x, R * D);
  needLength('backwardCpu', 'x̂', xHat, R * D);
  needLength('backwardCpu', 'indices', indices, R * k);
  needLength('backwardCpu', 'values', values, R * k);
  needLength('backwardCpu', 'W_enc', wEnc, D * S);
  needLength('backwardCpu', 'W_dec', wDec, S * D);
  needLength('backwardCpu', 'b_dec', bDec, D);
  const f = Math.fround;
  const scale = lossGradScale(R, D);
  const diff = new Float32Array(R * D); // x̂ − x
  for (let i = 0; i < R * D; i++) diff[i] = xHat[i] - x[i];

  const gradPre = new Float32Array(R * k);
  const fireCounts = new Uint32Array(S);
  const accDec = new Float32Array(S * D); // Σ z·(x̂ − x), scaled at the end
  const gWenc = new Float32Array(D * S);
  const gBenc = new Float32Array(S);
  for (let r = 0; r < R; r++) {
    for (let j = 0; j < k; j++) {
      const p = r * k + j;
      const v = values[p];
      if (!(v > 0)) continue;
      const s = indices[p];
      if (s >= S) throw new RangeError(`backwardCpu: index ${s} at row ${r} is ≥ d_sae=${S}`);
      let dot = 0;
      for (let d = 0; d < D; d++) dot = f(dot + f(diff[r * D + d] * wDec[s * D + d]));
      const gp = f(dot * scale);
      gradPre[p] = gp;
      fireCounts[s]++;
      // Pairs are visited in increasing p, the order of the GPU's sorted buckets.
      for (let d = 0; d < D; d++) {
        accDec[s * D + d] += f(v * diff[r * D + d]);
        gWenc[d * S + s] += f(gp * f(x[r * D + d] - bDec[d]));
      }
      gBenc[s] += gp;
    }
  }
  const gWdec = new Float32Array(S * D);
  for (let i = 0; i < S * D; i++) gWdec[i] = accDec[i] * scale;
  const gBdec = bdecGradCpu(x, xHat, wEnc, gBenc, shape);
  return { grads: { wEnc: gWenc, wDec: gWdec, bEnc: gBenc, bDec: gBdec }, gradPre, fireCounts };
}

/**
 * CPU twin of shaders/bdec-grad.wgsl: ∂b_dec[d] = scale·Σ_r (x̂[r, d] − x[r, d]) − Σ_s W_enc[d, s]·∂b_enc[s]
 * (b_dec is added to x̂ and subtracted before the encoder), scale = 2/(R·D). Both sums in float64, each rounded
 * once (the GPU tree-reduces in f32; they agree to a few ulps).
 * @param x, xHat f32 [R, D]; @param wEnc f32 [D, S]; @param gBenc f32 [S] @returns ∂b_dec f32 [D]
 */
export function bdecGradCpu(
  x: Float32Array,
  xHat: Float32Array,
  wEnc: Float32Array,
  gBenc: Float32Array,
  shape: ForwardShape,
): Float32Array {
  const { rows: R, dModel: D, dSae: S } = shape;
  const f = Math.fround;
  const scale = lossGradScale(R, D);
  const gBdec = new Float32Array(D);
  for (let d = 0; d < D; d++) {
    let colSum = 0;
    for (let r = 0; r < R; r++) colSum += f(xHat[r * D + d] - x[r * D + d]);
    let encPath = 0;
    for (let s = 0; s < S; s++) encPath += wEnc[d * S + s] * gBenc[s];
    gBdec[d] = f(f(colSum) * scale) - f(encPath);
  }
  return gBdec;
}
