/**
 * CPU twin of the dense SAE path (BatchTopK, JumpReLU, ReLU): shaders/dense-rows.wgsl plus the matmuls the GPU
 * engine runs with shaders/matmul.wgsl. These SAEs have no fixed number of latents per token, so their latents,
 * ∂z and ∂pre are dense [R, S] and the decoder and its gradients are matmuls:
 *
 *   x̂      = z · W_dec + b_dec                       matmul M=R, N=D, K=S (+ bias)
 *   g      = scale·(x̂ − x),  scale = 2/(R·D)          ∂L/∂x̂ (dense-rows)      xc = x − b_dec (dense-rows)
 *   ∂z     = g · W_decᵀ                               matmul M=R, N=S, K=D, B transposed
 *   ∂W_dec = zᵀ · g                                   matmul M=S, N=D, K=R, A transposed
 *   ∂pre   = activation backward (src/reference/activation.ts)
 *   ∂W_enc = xcᵀ · ∂pre                               matmul M=D, N=S, K=R, A transposed
 *   ∂b_enc = Σ_r ∂pre (activation backward);  ∂b_dec = bdecGradCpu (src/reference/backward.ts)
 *
 * Shape legend: R = rows, D = d_model, S = d_sae.
 */
import type { DenseRowsResult } from '../sae/kernel-types';
import { ROW_STATS } from './decode';
import { needLength } from './encoder';

export type { DenseRowsResult } from '../sae/kernel-types';

/**
 * Per-row sums, the reconstruction gradient and the centred input of a dense decode.
 * @param x, xHat f32 [R, D]; @param bDec f32 [D]; @param scale f32 (2/(R·D) for the engine's loss)
 * @throws RangeError on short inputs.
 */
export function denseRowsCpu(
  x: Float32Array,
  xHat: Float32Array,
  bDec: Float32Array,
  scale: number,
  rows: number,
  dModel: number,
): DenseRowsResult {
  const R = rows;
  const D = dModel;
  needLength('denseRowsCpu', 'x', x, R * D);
  needLength('denseRowsCpu', 'x̂', xHat, R * D);
  needLength('denseRowsCpu', 'b_dec', bDec, D);
  const f = Math.fround;
  const sc = f(scale);
  const rowStats = new Float32Array(R * ROW_STATS);
  const g = new Float32Array(R * D);
  const xc = new Float32Array(R * D);
  for (let r = 0; r < R; r++) {
    let sse = 0;
    let xx = 0;
    let hh = 0;
    let xh = 0;
    for (let d = 0; d < D; d++) {
      const i = r * D + d;
      const h = xHat[i];
      const xv = x[i];
      const e = f(h - xv);
      g[i] = f(e * sc);
      xc[i] = f(xv - bDec[d]);
      sse += e * e;
      xx += xv * xv;
      hh += h * h;
      xh += xv * h;
    }
    rowStats.set([sse, xx, hh, xh], r * ROW_STATS);
  }
  return { rowStats, g, xc };
}
