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
import type { StepHyper } from '../sae/types';
import { needLength } from './encoder';

/** The float32 scalars of one Adam step (the GPU receives exactly these in a uniform buffer). */
export interface AdamCoefficients {
  lr: number;
  beta1: number;
  /** 1 − β1. */
  oneMinusBeta1: number;
  beta2: number;
  /** 1 − β2. */
  oneMinusBeta2: number;
  eps: number;
  /** 1 − β1ᵗ (1 when β1 = 0). */
  bc1: number;
  /** 1 − β2ᵗ. */
  bc2: number;
}

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
