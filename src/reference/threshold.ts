/**
 * CPU twin of shaders/adam.wgsl with LOG_PARAM = 1: Adam on log θ for the JumpReLU threshold, with θ (not log θ) stored.
 * JumpReLU trains log θ (Rajamanoharan et al. 2024; Gemma Scope §3.2, seed 004_5e13fcf757174fc0.txt); the Adam
 * step log θ ← log θ − Δ is applied as θ ← θ·exp(−Δ), so θ stays positive and a saved state holds θ exactly.
 *
 *   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  Δ = lr_θ·(m/bc1)/(√(v/bc2) + ε);  θ ← θ·exp(−Δ)
 * with g = ∂L/∂log θ (from the activation backward) and lr_θ = lr·thresholdLrScale (in the coefficients).
 * float32 as the GPU (exp differs by an ulp or two between the two).
 */
import { type AdamCoefficients, adamStepAt } from './adam';
import { needLength } from './encoder';

/**
 * One Adam step on log θ, in place.
 * @param theta θ f32 [S]; @param m, v Adam moments of log θ f32 [S]; @param g ∂L/∂log θ f32 [S]
 */
export function thresholdAdamCpu(
  theta: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  c: AdamCoefficients,
): void {
  const n = theta.length;
  needLength('thresholdAdamCpu', 'm', m, n);
  needLength('thresholdAdamCpu', 'v', v, n);
  needLength('thresholdAdamCpu', 'g', g, n);
  for (let i = 0; i < n; i++)
    theta[i] = Math.fround(theta[i] * Math.fround(Math.exp(-adamStepAt(m, v, g, i, c))));
}
