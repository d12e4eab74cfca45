/**
 * CPU twin of shaders/auxk.wgsl: the AuxK loss for dead latents (Gao et al. 2024 §A.2, seed
 * 000_03f50111ba1a6c62.txt) and its gradients, added to the main gradients of a TopK or BatchTopK step.
 *
 * Shape legend: R = rows, D = d_model, S = d_sae, k_aux = dead latents used per token.
 *   dead      = { s : stepsSinceFired[s] ≥ window }  (counters before this step), n_dead = |dead|
 *   pre_aux   = pre on dead latents, −FLT_MAX (the lowest finite float32) elsewhere;  (i, v) = TopK_{k_aux}(pre_aux) per row (src/reference/topk.ts)
 *   e         = x − x̂ (the main residual, a constant here);  ê = Σ_j ReLU(v_j)·W_dec[i_j]  (no b_dec)
 *   s         = min(n_dead / k_aux, 1)
 *   auxk loss = α·s·‖e − ê‖² / ‖e − ē‖²  (sums over the batch; ē = batch mean of e), 0 when n_dead = 0
 * The engine adds α·s·(SST_x/(R·D))·‖e − ê‖²/SST_e to its loss (MSE = (SST_x/(R·D))·FVU, so relative to FVU the
 * AuxK term weighs α·s, as in Gao et al.), hence with coef = 2·α·s·SST_x/(R·D·SST_e) and ρ = coef·(ê − e):
 *   ∂pre_p     = ⟨ρ[r_p], W_dec[i_p]⟩ for fired pairs (v_p > 0)
 *   ∂W_dec[s] += Σ_{p: i_p = s} v_p·ρ[r_p];   ∂W_enc[:, s] += Σ_p ∂pre_p·(x[r_p] − b_dec);   ∂b_enc[s] += Σ_p ∂pre_p
 *   ∂b_dec    −= Σ_p ∂pre_p·W_enc[:, i_p]     (b_dec enters pre, not ê)
 * Per-latent sums in increasing p (the GPU sorts its buckets); the scalar sums in float64 here, f32 tree
 * reductions on the GPU (agree to ~1e-6 relative).
 */
import type { SaeGrads } from './backward';
import { decodeCpu, ROW_STATS } from './decode';
import { needLength } from './encoder';
import { sumSquaredDeviation } from './stats';
import { type TopKResult, topkCpu } from './topk';

/** The largest finite float32; −F32_MAX masks live latents out of the AuxK TopK (never positive). */
export const F32_MAX = 3.4028234663852886e38;

/** AuxK settings of one step. */
export interface AuxkHyper {
  /** k_aux (1 ≤ k_aux ≤ min(d_sae, 256)). */
  kAux: number;
  /** α. */
  alpha: number;
  /** Steps without firing after which a latent is dead. */
  deadWindowSteps: number;
}

/** Inputs of {@link auxkCpu}. */
export interface AuxkInputs {
  /** f32 [R, D]. */
  x: Float32Array;
  /** f32 [R, D] the main reconstruction. */
  xHat: Float32Array;
  /** f32 [R, S] pre-activations. */
  pre: Float32Array;
  /** u32 [S] counters before this step. */
  stepsSinceFired: Uint32Array;
  /** Current W_enc [D, S], W_dec [S, D], b_dec [D]. */
  params: { wEnc: Float32Array; wDec: Float32Array; bDec: Float32Array };
}

/** Everything AuxK computes (for tests); the gradients are added into the `grads` argument. */
export interface AuxkResult {
  /** α·s·SSE_aux/SST_e (0 when nothing is dead). */
  loss: number;
  /** 2·α·s·SST_x/(R·D·SST_e) as f32 (0 when nothing is dead). */
  coef: number;
  nDead: number;
  /** Σ_r ‖e_r − ê_r‖². */
  sseAux: number;
  /** Σ_r ‖e_r − ē‖². */
  sstE: number;
  /** The aux picks [R, k_aux]. */
  picks: TopKResult;
  /** ê f32 [R, D]. */
  eHat: Float32Array;
  /** ρ = coef·(ê − e) f32 [R, D]. */
  rho: Float32Array;
  /** ∂pre per aux pair f32 [R, k_aux] (0 where the pair did not fire). */
  gradPre: Float32Array;
}

/**
 * AuxK loss and gradients; adds the gradients into `grads` (in place, after the main backward pass).
 * @throws RangeError on short inputs or k_aux outside [1, d_sae].
 */
export function auxkCpu(
  inp: AuxkInputs,
  grads: SaeGrads,
  h: AuxkHyper,
  shape: { rows: number; dModel: number; dSae: number },
): AuxkResult {
  const { rows: R, dModel: D, dSae: S } = shape;
  const { x, xHat, pre, stepsSinceFired } = inp;
  const { wEnc, wDec, bDec } = inp.params;
  const fn = 'auxkCpu';
  needLength(fn, 'x', x, R * D);
  needLength(fn, 'x̂', xHat, R * D);
  needLength(fn, 'pre', pre, R * S);
  needLength(fn, 'stepsSinceFired', stepsSinceFired, S);
  const f = Math.fround;
  const kAux = h.kAux;
  let nDead = 0;
  const dead = new Uint8Array(S);
  for (let s = 0; s < S; s++) {
    if (stepsSinceFired[s] >= h.deadWindowSteps) {
      dead[s] = 1;
      nDead++;
    }
  }
  const preAux = new Float32Array(R * S);
  for (let i = 0; i < R * S; i++) preAux[i] = dead[i % S] ? pre[i] : -F32_MAX;
  const picks = topkCpu(preAux, R, S, kAux);
  const e = new Float32Array(R * D);
  for (let i = 0; i < R * D; i++) e[i] = x[i] - xHat[i];
  const fwd = { rows: R, dModel: D, dSae: S, k: kAux };
  const dec = decodeCpu(e, picks.indices, picks.values, wDec, new Float32Array(D), fwd);
  const eHat = dec.xHat;
  let sseAux = 0;
  for (let r = 0; r < R; r++) sseAux += dec.rowStats[r * ROW_STATS];
  const sstE = sumSquaredDeviation(e, R, D);
  const sstX = sumSquaredDeviation(x, R, D);
  const on = nDead > 0 && sstE > 0;
  const sc = Math.min(nDead / kAux, 1);
  const loss = on ? (h.alpha * sc * sseAux) / sstE : 0;
  const coef = on ? f((2 * h.alpha * sc * sstX) / (R * D * sstE)) : 0;
  const rho = new Float32Array(R * D);
  for (let i = 0; i < R * D; i++) rho[i] = f(coef * f(eHat[i] - e[i]));

  const gradPre = new Float32Array(R * kAux);
  const accDec = new Float32Array(S * D);
  const accEnc = new Float32Array(D * S);
  const accB = new Float32Array(S);
  const fired = new Uint8Array(S);
  const encPath = new Float64Array(D);
  for (let r = 0; r < R; r++) {
    for (let j = 0; j < kAux; j++) {
      const p = r * kAux + j;
      const v = picks.values[p];
      if (!(v > 0)) continue;
      const s = picks.indices[p];
      let dot = 0;
      for (let d = 0; d < D; d++) dot = f(dot + f(rho[r * D + d] * wDec[s * D + d]));
      gradPre[p] = dot;
      fired[s] = 1;
      for (let d = 0; d < D; d++) {
        accDec[s * D + d] += f(v * rho[r * D + d]);
        accEnc[d * S + s] += f(dot * f(x[r * D + d] - bDec[d]));
        encPath[d] += dot * wEnc[d * S + s];
      }
      accB[s] += dot;
    }
  }
  for (let s = 0; s < S; s++) {
    if (!fired[s]) continue;
    for (let d = 0; d < D; d++) {
      grads.wDec[s * D + d] += accDec[s * D + d];
      grads.wEnc[d * S + s] += accEnc[d * S + s];
    }
    grads.bEnc[s] += accB[s];
  }
  for (let d = 0; d < D; d++) grads.bDec[d] = f(grads.bDec[d] - f(encPath[d]));
  return { loss, coef, nDead, sseAux, sstE, picks, eHat, rho, gradPre };
}
