/**
 * CPU twin of shaders/adam.wgsl: one Adam step with bias correction, in place (Kingma & Ba 2015, Algorithm 1).
 * β1 = 0 is allowed (Gemma Scope §3.2, seed 004_5e13fcf757174fc0.txt: (β1, β2) = (0, 0.999)); then m = g and the
 * first-moment correction is 1.
 *
 *   m ← β1·m + (1 − β1)·g
 *   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr · (m / bc1) / (√(v / bc2) + ε),   bc1 = 1 − β1ᵗ,  bc2 = 1 − β2ᵗ
 *
 * Every operation is rounded to float32 as the GPU does; the coefficients come from {@link adamCoefficients}.
 */

import type { AdamCoefficients } from '../sae/kernel-types';
import { needLength } from './encoder';

export { adamCoefficients } from '../sae/formulas';
export type { AdamCoefficients } from '../sae/kernel-types';

/**
 * One Adam step over a flat tensor, in place.
 * @param p parameters f32 [n]; @param m first moments f32 [n]; @param v second moments f32 [n]; @param g gradient f32 [n]
 */
export function adamCpu(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  c: AdamCoefficients,
): void {
  const n = p.length;
  needLength('adamCpu', 'm', m, n);
  needLength('adamCpu', 'v', v, n);
  needLength('adamCpu', 'g', g, n);
  for (let i = 0; i < n; i++) p[i] = Math.fround(p[i] - adamStepAt(m, v, g, i, c));
}

/**
 * The Adam update of element i shared by {@link adamCpu} and the log-θ twin (src/reference/threshold.ts): updates
 * m[i] and v[i] in place and returns the f32 step Δ = lr·(m/bc1)/(√(v/bc2) + ε), each operation rounded to float32
 * in the order of shaders/adam.wgsl. @param g the gradient f32 [n]
 */
export function adamStepAt(
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  i: number,
  c: AdamCoefficients,
): number {
  const f = Math.fround;
  const gi = g[i];
  const mi = f(f(c.beta1 * m[i]) + f(c.oneMinusBeta1 * gi));
  const vi = f(f(c.beta2 * v[i]) + f(c.oneMinusBeta2 * f(gi * gi)));
  m[i] = mi;
  v[i] = vi;
  return f(c.lr * f(f(mi / c.bc1) / f(f(Math.sqrt(f(vi / c.bc2))) + c.eps)));
}
