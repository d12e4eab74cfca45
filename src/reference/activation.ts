/**
 * CPU twin of shaders/activation.wgsl: the dense activations of the BatchTopK, JumpReLU and ReLU SAEs, and their
 * backward pass per latent with the sparsity terms.
 *
 * Shape legend: R = rows, S = d_sae, D = d_model. Dense [R, S] latents (these SAEs have no fixed k per row).
 *
 * Forward (activationForwardCpu):
 *   relu       z = pre if pre > 0 else 0
 *   threshold  z = pre if pre > θ_s else 0       JumpReLU_θ (Rajamanoharan et al. 2024; Gemma Scope §3.2,
 *                                                 seed 004_5e13fcf757174fc0.txt), also BatchTopK at evaluation
 *
 * Backward (activationBackwardCpu), per latent s over r in increasing order, with gz = ∂L/∂z from the decoder
 * (dense [R, S]) and λ' = λ/(R·D) (the engine loss is the per-token loss / d_model, see src/sae/types.ts):
 *   every mode   active = z ≠ 0;  ∂pre = active ? ∂z' : 0;  ∂b_enc[s] = Σ_r ∂pre;  fire count = Σ_r active
 *   masked       ∂z' = gz                                         (BatchTopK: the selection is held fixed)
 *   relu         ∂z' = gz + λ'·‖W_dec,s‖                           (L1 term λ·Σ_s z_s‖W_dec,s‖, seed 002; z ≥ 0)
 *                ∂W_dec[s] += (λ'·Σ_r z_rs / ‖W_dec,s‖)·W_dec[s]   (the norm's gradient; added to the decoder's)
 *   jumprelu     ∂z' = gz (∂z/∂pre = H(pre − θ));  straight-through estimator for θ with the rectangle kernel
 *                K(u) = 1 for |u| < ½, u = (pre − θ)/ε:
 *                  ∂z/∂θ ≈ −(θ/ε)·K(u),  ∂H(pre − θ)/∂θ ≈ −(1/ε)·K(u)   (no gradient to pre from L0)
 *                ∂L/∂log θ = θ·∂L/∂θ = −(θ/ε)·Σ_r K(u_r)·(θ·gz_r + λ')
 * Outputs per latent (the SoA "col" buffer of the GPU): fire count, Σ_r z, ‖W_dec,s‖ (relu; else 0), ∂L/∂log θ
 * (jumprelu; else 0). float32 in the GPU's order.
 */
import type { ActivationBackwardResult, BackwardMode, ForwardMode } from '../sae/kernel-types';
import { needLength } from './encoder';

export type { ActivationBackwardResult, BackwardMode, ForwardMode } from '../sae/kernel-types';

/**
 * Dense activation.
 * @param pre f32 [R, S]; @param threshold f32 [S] θ (mode 'threshold' only)
 * @returns z f32 [R, S]
 * @throws RangeError on a short input or a missing threshold.
 */
export function activationForwardCpu(
  pre: Float32Array,
  threshold: Float32Array | null,
  mode: ForwardMode,
  rows: number,
  dSae: number,
): Float32Array {
  needLength('activationForwardCpu', 'pre', pre, rows * dSae);
  if (mode === 'threshold') {
    if (!threshold) throw new RangeError('activationForwardCpu: mode "threshold" needs θ [d_sae]');
    needLength('activationForwardCpu', 'threshold', threshold, dSae);
  }
  const z = new Float32Array(rows * dSae);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < dSae; s++) {
      const i = r * dSae + s;
      const p = pre[i];
      const cut = mode === 'threshold' ? (threshold as Float32Array)[s] : 0;
      z[i] = p > cut ? p : 0;
    }
  }
  return z;
}

/** Inputs of {@link activationBackwardCpu}. */
export interface ActivationBackwardInputs {
  /** f32 [R, S]. */
  pre: Float32Array;
  /** f32 [R, S] latents of the forward pass. */
  z: Float32Array;
  /** ∂L/∂z f32 [R, S] from the decoder (g·W_decᵀ). */
  gz: Float32Array;
  /** θ f32 [S] (jumprelu). */
  threshold: Float32Array | null;
  /** W_dec f32 [S, D]. */
  wDec: Float32Array;
  /** ∂W_dec f32 [S, D]: the decoder's gradient, the L1 term is added in place (relu). */
  gWdec: Float32Array;
}

/** Scalars of the backward pass: λ' = λ/(R·D) and the bandwidth ε. */
export interface ActivationHyper {
  /** λ' (f32). */
  lambdaScaled: number;
  /** ε (jumprelu). */
  bandwidth: number;
}

/**
 * Backward pass of the dense activation and its sparsity term. Modifies `gWdec` in place (relu).
 * @throws RangeError on short inputs or a missing threshold in jumprelu mode.
 */
export function activationBackwardCpu(
  inp: ActivationBackwardInputs,
  mode: BackwardMode,
  h: ActivationHyper,
  shape: { rows: number; dSae: number; dModel: number },
): ActivationBackwardResult {
  const { rows: R, dSae: S, dModel: D } = shape;
  const fn = 'activationBackwardCpu';
  needLength(fn, 'pre', inp.pre, R * S);
  needLength(fn, 'z', inp.z, R * S);
  needLength(fn, '∂z', inp.gz, R * S);
  needLength(fn, 'W_dec', inp.wDec, S * D);
  needLength(fn, '∂W_dec', inp.gWdec, S * D);
  if (mode === 'jumprelu') {
    if (!inp.threshold) throw new RangeError(`${fn}: jumprelu needs θ [d_sae]`);
    needLength(fn, 'threshold', inp.threshold, S);
  }
  const f = Math.fround;
  const lam = f(h.lambdaScaled);
  const eps = f(h.bandwidth);
  const gPre = new Float32Array(R * S);
  const gBenc = new Float32Array(S);
  const fireCounts = new Uint32Array(S);
  const zSum = new Float32Array(S);
  const decNorm = new Float32Array(S);
  const gLogThreshold = new Float32Array(S);
  for (let s = 0; s < S; s++) {
    let add = 0;
    let norm = 0;
    if (mode === 'relu') {
      let ww = 0;
      for (let d = 0; d < D; d++) ww = f(ww + f(inp.wDec[s * D + d] * inp.wDec[s * D + d]));
      norm = f(Math.sqrt(ww));
      add = f(lam * norm);
    }
    const th = mode === 'jumprelu' ? (inp.threshold as Float32Array)[s] : 0;
    let gb = 0;
    let count = 0;
    let zs = 0;
    let acc = 0;
    for (let r = 0; r < R; r++) {
      const i = r * S + s;
      const zz = inp.z[i];
      const gzz = inp.gz[i];
      const active = zz !== 0;
      const gp = active ? (mode === 'relu' ? f(gzz + add) : gzz) : 0;
      gPre[i] = gp;
      gb = f(gb + gp);
      if (active) count++;
      zs = f(zs + zz);
      if (mode === 'jumprelu') {
        const u = f(f(inp.pre[i] - th) / eps);
        if (u > -0.5 && u < 0.5) acc = f(acc + f(f(th * gzz) + lam));
      }
    }
    gBenc[s] = gb;
    fireCounts[s] = count;
    zSum[s] = zs;
    decNorm[s] = norm;
    if (mode === 'jumprelu') gLogThreshold[s] = f(-f(th * acc) / eps);
    if (mode === 'relu' && norm > 0) {
      const c = f(f(lam * zs) / norm);
      for (let d = 0; d < D; d++) {
        const j = s * D + d;
        inp.gWdec[j] = f(inp.gWdec[j] + f(c * inp.wDec[j]));
      }
    }
  }
  return { gPre, gBenc, fireCounts, zSum, decNorm, gLogThreshold };
}

/** Tokens each latent fires on: counts[s] = #{r : z[r, s] ≠ 0}. @param z f32 [R, S] @returns u32 [S] */
export function activationCountCpu(z: Float32Array, rows: number, dSae: number): Uint32Array {
  needLength('activationCountCpu', 'z', z, rows * dSae);
  const counts = new Uint32Array(dSae);
  for (let i = 0; i < rows * dSae; i++) if (z[i] !== 0) counts[i % dSae]++;
  return counts;
}
