/**
 * CPU twin of shaders/encoder.wgsl: the fused TopK-SAE encoder
 *   pre = (x − b_dec) · W_enc + b_enc          (Gao et al. 2024 §2.3; seed 000_03f50111ba1a6c62.txt)
 *
 * Shape legend: R = rows (tokens), D = d_model, S = d_sae.
 * float32 arithmetic in the GPU's order: xc = f32(x − b_dec), then for each latent the products xc[d]·W_enc[d, s]
 * are accumulated in f32 in increasing d, and b_enc is added last.
 */
import { type ForwardShape, needLength } from '../sae/kernel-types';

export { type ForwardShape, needLength } from '../sae/kernel-types';

/**
 * Pre-activations of the encoder.
 * @param x f32 [R, D] activations
 * @param wEnc f32 [D, S] W_enc
 * @param bEnc f32 [S] b_enc
 * @param bDec f32 [D] b_dec (subtracted from x before encoding)
 * @returns pre-activations f32 [R, S]
 * @throws RangeError when an input is shorter than its shape needs.
 */
export function encoderCpu(
  x: Float32Array,
  wEnc: Float32Array,
  bEnc: Float32Array,
  bDec: Float32Array,
  shape: ForwardShape,
): Float32Array {
  const { rows: R, dModel: D, dSae: S } = shape;
  needLength('encoderCpu', 'x', x, R * D);
  needLength('encoderCpu', 'W_enc', wEnc, D * S);
  needLength('encoderCpu', 'b_enc', bEnc, S);
  needLength('encoderCpu', 'b_dec', bDec, D);
  const f = Math.fround;
  const pre = new Float32Array(R * S);
  const acc = new Float32Array(S); // a Float32Array store rounds to f32, like the GPU accumulator
  for (let r = 0; r < R; r++) {
    acc.fill(0);
    for (let d = 0; d < D; d++) {
      const xc = f(x[r * D + d] - bDec[d]);
      const row = d * S;
      for (let s = 0; s < S; s++) acc[s] += f(xc * wEnc[row + s]);
    }
    const out = r * S;
    for (let s = 0; s < S; s++) pre[out + s] = acc[s] + bEnc[s];
  }
  return pre;
}
