/**
 * Every reconstruction metric SAE Lab shows, defined once. The UI labels them with the same names.
 *
 * We use *batch-level* variance explained throughout (seed 003_f847dc3b6a976c85.txt; Gao et al. 2024 §2.1
 * "normalized MSE"): the errors and the variances are summed over all tokens first, then divided.
 * Per-token NMSE (mean of per-token ratios) is a different number and is not used anywhere.
 *
 *   MSE                 = SSE / (N · d_model)
 *   FVU (normalized MSE)= SSE / SST,   SSE = Σ_t ‖x_t − x̂_t‖²,  SST = Σ_t ‖x_t − x̄‖²  (x̄ = mean over the N tokens)
 *   explained variance  = 1 − FVU      (R² in seed 003)
 *   cosine similarity   = (1/N) Σ_t ⟨x_t, x̂_t⟩ / (‖x_t‖ ‖x̂_t‖)
 *   relative error norm = (1/N) Σ_t ‖x_t − x̂_t‖ / ‖x_t‖
 *   L0                  = (1/N) Σ_t #{i : z_{t,i} ≠ 0}
 *   dead fraction       = #{latents not fired within the dead window} / d_sae   (training steps)
 *   held-out dead fraction = #{latents fired on none of the evaluated tokens} / d_sae   (EvalMetrics.deadFraction;
 *                         the run summary labels it "dead latents (no fires in N held-out tokens)")
 *
 * Behavioural metrics (the SAE spliced into the language model at its hook; SAELens `evals.py`
 * `get_recons_loss` / SAEBench "core"). Over held-out documents, with CE the mean next-token cross-entropy per target
 * token (BOS never a target) and KL(clean ‖ patched) the mean over predicting positions:
 *   CE_clean, CE_SAE (hook activations replaced by x̂, un-normalised), CE_zero (hook activations set to 0)
 *   CE-loss score = (CE_zero − CE_SAE) / (CE_zero − CE_clean)     1 = the SAE loses nothing, 0 = as bad as ablation
 *   Δloss         = CE_SAE − CE_clean                              nats per token
 *   KL score      = (KL_zero − KL_SAE) / KL_zero                   KL_x = mean_t KL(p_clean,t ‖ p_x,t)
 * Means are token-weighted (Σ over documents of sums / Σ of tokens). The 95% interval is a percentile bootstrap
 * over documents (resample documents with replacement, recompute the ratio of sums; 1,000 resamples, seeded).
 *   firing density      = #{t : z_{t,i} > 0} / N   per latent i over the N tokens of a feature pass (the feature
 *                         dashboard, src/features/; shown as log10 firing density, −∞ for a dead latent)
 *   max activation      = max_t z_{t,i}             per latent over the same tokens (0 when it never fires)
 *   feature recovery    (synthetic data with known true directions f_i, src/data/synthetic.ts; MCC-style, as in
 *                         Sharkey et al. 2022 "Taking features out of superposition" and SAELens's synthetic tools):
 *                         best_i = max_s |⟨f_i, W_dec[s]⟩| / (‖f_i‖ ‖W_dec[s]‖)   for each true feature i
 *                         mean best cosine = (1/n_features) Σ_i best_i
 *                         fraction recovered = #{i : best_i > 0.9} / n_features
 */
import { Rng } from '../util/rng';
import type { EvalStats, StepStats } from './types';

/** Human labels and tooltips, one per metric, used by charts and tables. */
export const METRIC_LABELS = {
  mse: { label: 'MSE', tooltip: 'MSE = Σ‖x − x̂‖² / (N·d_model): mean squared error per element.' },
  fvu: {
    label: 'FVU (normalized MSE)',
    tooltip: 'FVU = Σ_t‖x_t − x̂_t‖² / Σ_t‖x_t − x̄‖², summed over the batch (x̄ = batch mean). 0 is perfect.',
  },
  explainedVariance: {
    label: 'explained variance',
    tooltip: 'explained variance = 1 − FVU = 1 − Σ_t‖x_t − x̂_t‖² / Σ_t‖x_t − x̄‖² (batch-level R²).',
  },
  cosine: { label: 'cosine similarity', tooltip: 'mean over tokens of cos(x, x̂).' },
  relErr: { label: 'relative error norm', tooltip: 'mean over tokens of ‖x − x̂‖ / ‖x‖.' },
  l0: { label: 'L0', tooltip: 'mean number of nonzero latents per token.' },
  deadFraction: {
    label: 'dead fraction',
    tooltip: 'fraction of latents that have not fired on any token within the dead-latent window.',
  },
  firedFraction: {
    label: 'batch feature usage',
    tooltip: 'fraction of latents that fired on ≥ 1 token of the batch.',
  },
  auxkLoss: {
    label: 'AuxK loss',
    tooltip:
      'AuxK loss = α·min(n_dead/k_aux, 1)·‖e − ê‖²/‖e − ē‖²: the top k_aux dead latents reconstruct the residual e = x − x̂ (Gao et al. 2024). 0 when nothing is dead.',
  },
  ceLossScore: {
    label: 'CE-loss score',
    tooltip:
      'CE-loss score = (CE_zero − CE_SAE) / (CE_zero − CE_clean): how much of the loss of zero-ablating the hook the SAE recovers when spliced in (1 = all, 0 = none). SAELens evals / SAEBench core.',
  },
  deltaLoss: {
    label: 'Δloss',
    tooltip:
      'Δloss = CE_SAE − CE_clean: extra next-token cross-entropy (nats/token) when the SAE replaces the hook.',
  },
  klScore: {
    label: 'KL score',
    tooltip:
      'KL score = (KL_zero − KL_SAE) / KL_zero, KL = mean over tokens of KL(p_clean ‖ p_patched): how close the spliced model’s predictions stay to the clean model’s (1 = identical).',
  },
  featureRecovery: {
    label: 'mean best cosine (feature recovery)',
    tooltip:
      'for each true feature f_i: best |cos(f_i, W_dec[s])| over latents s; the mean over true features (MCC-style). Synthetic data only.',
  },
  recoveredFraction: {
    label: 'features recovered (best |cos| > 0.9)',
    tooltip: 'fraction of true features whose best |cos| with a decoder row exceeds 0.9.',
  },
  sparsityLoss: {
    label: 'sparsity loss',
    tooltip:
      'λ·mean over tokens of the penalty: JumpReLU λ·L0, ReLU λ·Σ_i z_i·‖W_dec,i‖ (λ after its warmup, per-token units).',
  },
} as const;

/** Firing density of a latent: count / nTokens (tokens with z > 0 over tokens scanned); 0 when nTokens = 0. */
export function firingDensity(count: number, nTokens: number): number {
  return nTokens > 0 ? count / nTokens : 0;
}

/** log10 firing density; −∞ for a latent that never fires. */
export function log10FiringDensity(count: number, nTokens: number): number {
  return Math.log10(firingDensity(count, nTokens));
}

/** MSE per element: sse / (nTokens · dModel). */
export function mse(sse: number, nTokens: number, dModel: number): number {
  return sse / (nTokens * dModel);
}

/** FVU = SSE / SST (batch-level). NaN when SST = 0. */
export function fvu(sse: number, sst: number): number {
  return sst > 0 ? sse / sst : Number.NaN;
}

/** Explained variance = 1 − FVU. */
export function explainedVariance(sse: number, sst: number): number {
  return 1 - fvu(sse, sst);
}

/** Metrics of one training step, derived from {@link StepStats}. */
export interface StepMetrics {
  mse: number;
  fvu: number;
  explainedVariance: number;
  l0: number;
  /** firedInBatch / dSae. */
  firedFraction: number;
  /** deadCount / dSae. */
  deadFraction: number;
  /** AuxK loss of the batch (StepStats.auxkLoss; 0 when off). */
  auxkLoss: number;
  /** Sparsity loss of the batch (StepStats.sparsityLoss; 0 for TopK and BatchTopK). */
  sparsityLoss: number;
}

/** Derive the displayed metrics from a step's raw sums. */
export function stepMetrics(s: StepStats, dModel: number, dSae: number): StepMetrics {
  return {
    mse: mse(s.sse, s.nTokens, dModel),
    fvu: fvu(s.sse, s.sst),
    explainedVariance: explainedVariance(s.sse, s.sst),
    l0: s.l0Sum / s.nTokens,
    firedFraction: s.firedInBatch / dSae,
    deadFraction: s.deadCount / dSae,
    auxkLoss: s.auxkLoss,
    sparsityLoss: s.sparsityLoss,
  };
}

/** Metrics of a held-out evaluation. */
export interface EvalMetrics {
  mse: number;
  fvu: number;
  explainedVariance: number;
  cosine: number;
  relErr: number;
  l0: number;
  /** Latents that fired on no evaluated token / d_sae. */
  deadFraction: number;
}

/** Derive held-out metrics from an evaluation's raw sums. */
export function evalMetrics(e: EvalStats, dModel: number): EvalMetrics {
  let dead = 0;
  for (const c of e.fireCounts) if (c === 0) dead++;
  return {
    mse: mse(e.sse, e.nTokens, dModel),
    fvu: fvu(e.sse, e.sst),
    explainedVariance: explainedVariance(e.sse, e.sst),
    cosine: e.cosSum / e.nTokens,
    relErr: e.relErrSum / e.nTokens,
    l0: e.l0Sum / e.nTokens,
    deadFraction: dead / e.fireCounts.length,
  };
}

/** Per-document sums of a patched-CE evaluation (nats, summed over the document's target tokens). */
export interface PatchedDocSums {
  /** Number of target tokens (BOS excluded). */
  tokens: number;
  ceClean: number;
  ceSae: number;
  ceZero: number;
  /** Σ_t KL(p_clean,t ‖ p_SAE,t). */
  klSae: number;
  /** Σ_t KL(p_clean,t ‖ p_zero,t). */
  klZero: number;
}

/** A point estimate with its 95% bootstrap interval. */
export interface WithInterval {
  value: number;
  lo: number;
  hi: number;
}

/** The behavioural metrics of an SAE (module comment) with their intervals. */
export interface PatchedCeMetrics {
  documents: number;
  tokens: number;
  ceClean: number;
  ceSae: number;
  ceZero: number;
  ceLossScore: WithInterval;
  deltaLoss: WithInterval;
  klScore: number;
}

/** CE-loss score = (CE_zero − CE_SAE) / (CE_zero − CE_clean). NaN when CE_zero = CE_clean. */
export function ceLossScore(ceClean: number, ceSae: number, ceZero: number): number {
  const d = ceZero - ceClean;
  return d !== 0 ? (ceZero - ceSae) / d : Number.NaN;
}

/** Δloss = CE_SAE − CE_clean (nats per token). */
export function deltaLoss(ceClean: number, ceSae: number): number {
  return ceSae - ceClean;
}

/** KL score = (KL_zero − KL_SAE) / KL_zero. NaN when KL_zero = 0. */
export function klScore(klSae: number, klZero: number): number {
  return klZero !== 0 ? (klZero - klSae) / klZero : Number.NaN;
}

/** Resamples of the bootstrap intervals. */
export const BOOTSTRAP_RESAMPLES = 1000;

/**
 * Summarise per-document sums: token-weighted means, the three scores, and percentile-bootstrap 95% intervals over
 * documents for the CE-loss score and Δloss (resamples documents with replacement; Rng(seed)).
 * @throws RangeError when docs is empty or holds no target token.
 */
export function patchedCeMetrics(
  docs: readonly PatchedDocSums[],
  seed = 0,
  resamples = BOOTSTRAP_RESAMPLES,
): PatchedCeMetrics {
  const tot = (d: readonly PatchedDocSums[]) => {
    const t = { tokens: 0, ceClean: 0, ceSae: 0, ceZero: 0, klSae: 0, klZero: 0 };
    for (const x of d) {
      t.tokens += x.tokens;
      t.ceClean += x.ceClean;
      t.ceSae += x.ceSae;
      t.ceZero += x.ceZero;
      t.klSae += x.klSae;
      t.klZero += x.klZero;
    }
    return t;
  };
  const all = tot(docs);
  if (docs.length === 0 || all.tokens === 0)
    throw new RangeError('patchedCeMetrics: no target tokens to evaluate');
  const n = all.tokens;
  const scores: number[] = [];
  const deltas: number[] = [];
  const rng = new Rng(seed);
  const pick: PatchedDocSums[] = new Array(docs.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < docs.length; i++) pick[i] = docs[rng.int(docs.length)];
    const t = tot(pick);
    if (t.tokens === 0) continue;
    scores.push(ceLossScore(t.ceClean, t.ceSae, t.ceZero));
    deltas.push(deltaLoss(t.ceClean / t.tokens, t.ceSae / t.tokens));
  }
  const pct = (a: number[], q: number) => {
    const s = a.filter((v) => !Number.isNaN(v)).sort((x, y) => x - y);
    if (s.length === 0) return Number.NaN;
    return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
  };
  return {
    documents: docs.length,
    tokens: n,
    ceClean: all.ceClean / n,
    ceSae: all.ceSae / n,
    ceZero: all.ceZero / n,
    ceLossScore: {
      value: ceLossScore(all.ceClean, all.ceSae, all.ceZero),
      lo: pct(scores, 0.025),
      hi: pct(scores, 0.975),
    },
    deltaLoss: {
      value: deltaLoss(all.ceClean / n, all.ceSae / n),
      lo: pct(deltas, 0.025),
      hi: pct(deltas, 0.975),
    },
    klScore: klScore(all.klSae, all.klZero),
  };
}

/** Threshold on the best |cosine| above which a true feature counts as recovered. */
export const RECOVERY_THRESHOLD = 0.9;

/** Feature recovery of an SAE on synthetic data (see the module comment for the formula). */
export interface FeatureRecovery {
  /** best_i for each true feature [n_features], in the true features' order. */
  bestCosine: Float64Array;
  /** Latent s achieving best_i [n_features]. */
  bestLatent: Int32Array;
  /** (1/n_features) Σ_i best_i. */
  meanBestCosine: number;
  /** #{i : best_i > {@link RECOVERY_THRESHOLD}} / n_features. */
  recoveredFraction: number;
}

/**
 * Feature recovery: for each true feature f_i, the best |cosine| with a row of W_dec.
 * @param features true directions [nFeatures · dModel], row-major, float
 * @param wDec decoder W_dec [dSae · dModel], row-major (any scale: cosines ignore row norms)
 * @throws Error when the lengths are not multiples of dModel or either is empty.
 */
export function featureRecovery(
  features: ArrayLike<number>,
  wDec: ArrayLike<number>,
  dModel: number,
): FeatureRecovery {
  if (
    features.length === 0 ||
    features.length % dModel !== 0 ||
    wDec.length === 0 ||
    wDec.length % dModel !== 0
  )
    throw new Error(
      `featureRecovery: features (${features.length}) and W_dec (${wDec.length}) must be non-empty multiples of d_model ${dModel}`,
    );
  const nF = features.length / dModel;
  const nS = wDec.length / dModel;
  const decNorm = new Float64Array(nS);
  for (let s = 0; s < nS; s++) {
    let n2 = 0;
    for (let j = 0; j < dModel; j++) n2 += wDec[s * dModel + j] ** 2;
    decNorm[s] = Math.sqrt(n2);
  }
  const bestCosine = new Float64Array(nF);
  const bestLatent = new Int32Array(nF).fill(-1);
  let sum = 0;
  let recovered = 0;
  for (let i = 0; i < nF; i++) {
    let fn2 = 0;
    for (let j = 0; j < dModel; j++) fn2 += features[i * dModel + j] ** 2;
    const fn = Math.sqrt(fn2);
    let best = 0;
    for (let s = 0; s < nS; s++) {
      if (decNorm[s] === 0 || fn === 0) continue;
      let dot = 0;
      for (let j = 0; j < dModel; j++) dot += features[i * dModel + j] * wDec[s * dModel + j];
      const c = Math.abs(dot) / (fn * decNorm[s]);
      if (c > best) {
        best = c;
        bestLatent[i] = s;
      }
    }
    bestCosine[i] = best;
    sum += best;
    if (best > RECOVERY_THRESHOLD) recovered++;
  }
  return { bestCosine, bestLatent, meanBestCosine: sum / nF, recoveredFraction: recovered / nF };
}
