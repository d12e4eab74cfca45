/**
 * CPU twin of shaders/decoder-constraint.wgsl: the unit-norm decoder constraint of Gemma Scope §3.2
 * (seed 004_5e13fcf757174fc0.txt, after Bricken et al. 2023): before the optimizer step the component of each
 * W_dec row's gradient parallel to that row is removed; after the step each row is rescaled to unit norm.
 *
 * Shape legend: S = d_sae, D = d_model. f32 sums in increasing d, as each GPU invocation does.
 */
import { needLength } from './encoder';

/**
 * In place: g[s] ← g[s] − (⟨g[s], w[s]⟩ / ⟨w[s], w[s]⟩) · w[s] for every row s (rows with w = 0 are left alone).
 * @param gWdec f32 [S, D] ∂W_dec, modified; @param wDec f32 [S, D] W_dec
 */
export function projectDecoderGradCpu(
  gWdec: Float32Array,
  wDec: Float32Array,
  dSae: number,
  dModel: number,
): void {
  needLength('projectDecoderGradCpu', '∂W_dec', gWdec, dSae * dModel);
  needLength('projectDecoderGradCpu', 'W_dec', wDec, dSae * dModel);
  const f = Math.fround;
  const D = dModel;
  for (let s = 0; s < dSae; s++) {
    let gw = 0;
    let ww = 0;
    for (let d = 0; d < D; d++) {
      gw = f(gw + f(gWdec[s * D + d] * wDec[s * D + d]));
      ww = f(ww + f(wDec[s * D + d] * wDec[s * D + d]));
    }
    if (!(ww > 0)) continue;
    const c = f(gw / ww);
    for (let d = 0; d < D; d++) gWdec[s * D + d] = f(gWdec[s * D + d] - f(c * wDec[s * D + d]));
  }
}

/**
 * In place: w[s] ← w[s] / ‖w[s]‖ for every row s of W_dec (rows with norm 0 are left at 0).
 * @param wDec f32 [S, D], modified
 */
export function normalizeDecoderRowsCpu(wDec: Float32Array, dSae: number, dModel: number): void {
  needLength('normalizeDecoderRowsCpu', 'W_dec', wDec, dSae * dModel);
  const f = Math.fround;
  const D = dModel;
  for (let s = 0; s < dSae; s++) {
    let ww = 0;
    for (let d = 0; d < D; d++) ww = f(ww + f(wDec[s * D + d] * wDec[s * D + d]));
    if (!(ww > 0)) continue;
    const norm = f(Math.sqrt(ww));
    for (let d = 0; d < D; d++) wDec[s * D + d] = f(wDec[s * D + d] / norm);
  }
}
