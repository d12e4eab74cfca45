/**
 * CPU twin of shaders/decode.wgsl: the sparse TopK decoder and its per-row reconstruction sums.
 *   x̂[r] = Σ_j max(value[r, j], 0) · W_dec[index[r, j]] + b_dec     (Gao et al. 2024 §2.3)
 * Only k rows of W_dec are gathered per token; no dense [R, S] latent matrix exists.
 *
 * Shape legend: R = rows, D = d_model, S = d_sae, k = latents per row.
 * f32 order of the GPU: for each (r, d) the terms are accumulated in f32 in increasing j, then b_dec is added.
 */
import { type DecodeResult, ROW_STATS } from '../sae/kernel-types';
import { type ForwardShape, needLength } from './encoder';

export { type DecodeResult, ROW_STATS } from '../sae/kernel-types';

/**
 * Decode TopK (index, value) pairs and compute per-row sums.
 * @param x f32 [R, D] the inputs (for the row sums)
 * @param indices u32 [R, k]; @param values f32 [R, k] raw pre-activations (ReLU applied here)
 * @param wDec f32 [S, D]; @param bDec f32 [D]
 * @throws RangeError on short inputs or an index ≥ d_sae.
 */
export function decodeCpu(
  x: Float32Array,
  indices: Uint32Array,
  values: Float32Array,
  wDec: Float32Array,
  bDec: Float32Array,
  shape: ForwardShape & { k: number },
): DecodeResult {
  const { rows: R, dModel: D, dSae: S, k } = shape;
  needLength('decodeCpu', 'x', x, R * D);
  needLength('decodeCpu', 'indices', indices, R * k);
  needLength('decodeCpu', 'values', values, R * k);
  needLength('decodeCpu', 'W_dec', wDec, S * D);
  needLength('decodeCpu', 'b_dec', bDec, D);
  const f = Math.fround;
  const xHat = new Float32Array(R * D);
  const rowStats = new Float32Array(R * ROW_STATS);
  const acc = new Float32Array(D);
  for (let r = 0; r < R; r++) {
    acc.fill(0);
    for (let j = 0; j < k; j++) {
      const s = indices[r * k + j];
      if (s >= S) throw new RangeError(`decodeCpu: index ${s} at row ${r} is ≥ d_sae=${S}`);
      const z = Math.max(values[r * k + j], 0);
      if (z === 0) continue; // adds exactly 0 on the GPU too
      for (let d = 0; d < D; d++) acc[d] += f(z * wDec[s * D + d]);
    }
    let sse = 0;
    let xx = 0;
    let hh = 0;
    let xh = 0;
    for (let d = 0; d < D; d++) {
      const h = f(acc[d] + bDec[d]);
      const xv = x[r * D + d];
      xHat[r * D + d] = h;
      const e = f(h - xv);
      sse += e * e;
      xx += xv * xv;
      hh += h * h;
      xh += xv * h;
    }
    rowStats.set([sse, xx, hh, xh], r * ROW_STATS);
  }
  return { xHat, rowStats };
}
