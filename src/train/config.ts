/**
 * Training configuration of an SAE run (any architecture of the registry, src/sae/archs/; optionally with AuxK):
 * every field, its default and its validation.
 *
 * Defaults follow SAELens / Gemma Scope practice where it applies (Adam β2 = 0.999, ε = 1e-8, activations
 * scaled so the mean squared norm is d_model — Gemma Scope §3.2, seed 004_5e13fcf757174fc0.txt). The learning rate
 * is constant by default (SAELens's default): on held-out activations of another layer of the same model, at
 * d_sae 512, k 8, batch 512, 300 steps, lr 1e-3, the former default (20 warmup steps, cosine decay over the last
 * 20%) reached an explained variance 0.017 below an independent PyTorch TopK SAE, the constant rate within 0.001
 * (warmup cost ~0.009, the decayed tail ~0.010; measurements reported in issue 10). Warmup and decay stay
 * available as options.
 *
 * Validation is field by field (valibot) and then across fields (k ≤ d_sae, warmup + decay ≤ steps, batch ≤
 * training rows, …); every problem comes back as a message keyed by the field it concerns, for the form.
 */
import * as v from 'valibot';
import {
  ARCH_FIELD_DEFAULTS,
  ARCH_FIELDS,
  ARCHITECTURES,
  type ArchConfigField,
  archSpec,
  DEFAULT_ARCHITECTURE,
} from '../sae/archs';
import { intSchema, MAX_STEPS, realSchema } from '../sae/archs/fields';
import type { Architecture, SaeArch, SaeShape } from '../sae/types';

export type { Architecture };

/** How the learning rate decays after warmup (see src/train/schedule.ts). */
export type LrDecay = 'cosine' | 'linear' | 'none';

/** Everything that defines a training run. Plain data (structured-cloneable, JSON-safe). */
export interface TrainConfig {
  /**
   * SAE architecture: an id of the registry (src/sae/archs/index.ts ARCH_SPECS; the math of each is at the top of
   * src/sae/types.ts). Default: the registry's first (TopK).
   */
  architecture: Architecture;
  /** d_sae: number of latents. null = expansionFactor × d_model. Default null. */
  dSae: number | null;
  /** Latents per d_model unit, used when dSae is null (d_sae = expansionFactor · d_model). Default 8. */
  expansionFactor: number;
  /**
   * k: latents kept per token by TopK, mean latents per token kept by BatchTopK (k·B per batch); ignored by
   * JumpReLU and ReLU. 1 ≤ k ≤ min(d_sae, MAX_K of src/sae/validate.ts). Default 32.
   */
  k: number;
  /** Tokens (rows) per training batch. Default 1024. */
  batchSize: number;
  /** Number of optimiser steps; the run trains on steps × batchSize tokens. Default 1000. */
  steps: number;
  /** Peak learning rate η of Adam (reached after warmup). Default 1e-3. */
  lr: number;
  /** Steps of linear warmup from η/warmupSteps to η. 0 = none. Default 0 (opt-in: it cost ~0.009 EV at 300 steps). */
  warmupSteps: number;
  /**
   * Shape of the decay at the end of the run: 'cosine', 'linear' or 'none' (constant). Default 'none' (SAELens's
   * constant rate; the 20% cosine tail cost ~0.010 EV at 300 steps).
   */
  decay: LrDecay;
  /** Fraction of the steps, at the end of the run, over which the rate decays to 0. Default 0.2. */
  decayFraction: number;
  /** Adam β1. Default 0.9 (Gemma Scope uses 0). */
  beta1: number;
  /** Adam β2. Default 0.999. */
  beta2: number;
  /** Adam ε. Default 1e-8. */
  eps: number;
  /** Seed of the initialisation and the data shuffle: same seed + config + dataset = same run. Default 42. */
  seed: number;
  /**
   * Dead-latent window in tokens: a latent is dead when it has not fired on any of the last
   * min(deadWindowTokens, 25% of the run's steps × batchSize) training tokens (converted to steps, rounded up), so
   * a browser-length run sees latents die during the run. Default 10M.
   */
  deadWindowTokens: number;
  /**
   * Steps between two held-out evaluations (the last step is always evaluated), lowered to ⌊steps/10⌋ when that
   * is smaller so every run is evaluated at least 10 times ({@link evalIntervalSteps}). Default 100.
   */
  evalInterval: number;
  /** Held-out rows evaluated at each periodic evaluation (the first ones of the split). Default 8192. */
  evalTokens: number;
  /** Fraction of the dataset, taken from its end, held out for evaluation and never trained on. Default 0.05. */
  heldOutFraction: number;
  /**
   * Scale activations by √(d_model / E‖x‖²) so that the mean squared norm is d_model (SAELens / Gemma Scope);
   * the factor is folded into the exported weights. Default true.
   */
  normalize: boolean;
  /** Seconds of training between two checkpoints into IndexedDB (also saved on pause). Default 30. */
  checkpointIntervalSec: number;
  /**
   * JumpReLU: λ of the sparsity loss λ·L0, per-token units of Gemma Scope / SAELens (`l0_coefficient`). Default 0.3
   * (on the demo, 300 steps, with the other defaults: held-out L0 ≈ 30; see src/sae/README.md).
   */
  l0Coefficient: number;
  /**
   * ReLU + L1: λ of λ·Σ_i z_i·‖W_dec,i‖ (SAELens `l1_coefficient`, per-token units). Default 1: Anthropic's 5 is for
   * runs of ~10⁵ steps; on the 300-step demo (lr 3e-3) it collapses the SAE (held-out L0 2.5, FVU 1.03), while 2
   * gives L0 29 / FVU 0.43 and 1 gives L0 65 / FVU 0.20 (`npm run cpu-train`; see src/sae/README.md).
   */
  l1Coefficient: number;
  /**
   * JumpReLU and ReLU: λ rises linearly from 0 to its value over this many steps (Gemma Scope warms up over 10,000
   * steps of much longer runs; 100 suits the 300–1,000-step runs of a browser). Default 100.
   */
  sparsityWarmupSteps: number;
  /**
   * JumpReLU: bandwidth ε of the rectangle-kernel straight-through estimator. Gemma Scope uses 0.001 with batches
   * of 4,096 over ~10⁵ steps; the window |pre − θ| < ε/2 then holds about 0.15 of a 512-token batch per latent, too
   * few for a 300-step run. Default 0.01 (the demo reaches L0 ≈ 30 with the other defaults).
   */
  bandwidth: number;
  /** JumpReLU: initial threshold θ of every latent. Default 0.001 (Gemma Scope). */
  thresholdInit: number;
  /**
   * JumpReLU: learning rate of log θ relative to lr. Adam moves log θ by about lr·factor per step, so θ can only
   * travel e^(steps·lr·factor): Gemma Scope's factor 1 needs ~10⁵ steps. Default 30 (for short runs).
   */
  thresholdLrScale: number;
  /**
   * BatchTopK: rate γ of the running threshold θ ← (1 − γ)·θ + γ·(smallest kept activation). SAELens uses 0.01 for
   * long runs; on the 300-step demo θ then still remembers the early batches (held-out L0 5.6 for k = 8), so the
   * default is 0.05 (held-out L0 ≈ 7.6–7.9).
   */
  thresholdEmaRate: number;
  /** AuxK loss for dead latents (TopK and BatchTopK; Gao et al. 2024 §A.2). Default false. */
  auxk: boolean;
  /** k_aux: dead latents per token in the AuxK loss; 0 = d_model/2 (Gao et al.), capped at d_sae and 256. Default 0. */
  kAux: number;
  /** α: AuxK weight relative to FVU. Default 1/32 (Gao et al.). */
  auxkAlpha: number;
  /**
   * AuxK counts a latent as dead after this many tokens without firing (Gao et al.: 10M, for runs of billions of
   * tokens; converted to steps, rounded up, at least 1). Default 50,000 (about 100 steps of 512 tokens).
   */
  auxkDeadWindowTokens: number;
  /**
   * Matryoshka: nested prefix widths as fractions of d_sae, strictly increasing, the last 1, 1 to 8 of them (the
   * form takes them comma-separated). Default 1/16, 1/8, 1/4, 1/2, 1 (src/sae/archs/matryoshka.ts).
   */
  matryoshkaWidths: readonly number[];
}

/** The defaults of every field (see the field docs of {@link TrainConfig}). */
export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze({
  architecture: DEFAULT_ARCHITECTURE,
  dSae: null,
  expansionFactor: 8,
  batchSize: 1024,
  steps: 1000,
  lr: 1e-3,
  warmupSteps: 0,
  decay: 'none',
  decayFraction: 0.2,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  seed: 42,
  deadWindowTokens: 10_000_000,
  evalInterval: 100,
  evalTokens: 8192,
  heldOutFraction: 0.05,
  normalize: true,
  checkpointIntervalSec: 30,
  // k, λ, θ and AuxK fields: the architecture registry (src/sae/archs/) holds their defaults.
  ...(ARCH_FIELD_DEFAULTS as Pick<TrainConfig, ArchConfigField>),
});

/** Upper bounds that keep a run inside what a browser GPU can hold; generous on purpose. */
export const LIMITS = {
  maxDSae: 1 << 20,
  maxBatchSize: 65_536,
  maxSteps: MAX_STEPS,
} as const;

const int = intSchema;
const real = realSchema;

/** Field-level schema of {@link TrainConfig}; cross-field rules are in {@link validateConfig}. */
export const TrainConfigSchema = v.object({
  architecture: v.picklist(ARCHITECTURES, `architecture must be one of ${ARCHITECTURES.join(', ')}`),
  dSae: v.nullable(int(1, LIMITS.maxDSae, 'd_sae')),
  expansionFactor: v.pipe(
    real('expansion factor'),
    v.gtValue(0, 'expansion factor must be positive'),
    v.maxValue(1024, 'expansion factor must be at most 1024'),
  ),
  batchSize: int(1, LIMITS.maxBatchSize, 'batch size'),
  steps: int(1, LIMITS.maxSteps, 'steps'),
  lr: v.pipe(
    real('learning rate'),
    v.gtValue(0, 'learning rate must be positive'),
    v.maxValue(1, 'learning rate must be at most 1'),
  ),
  warmupSteps: int(0, LIMITS.maxSteps, 'warmup steps'),
  decay: v.picklist(['cosine', 'linear', 'none'], 'decay must be cosine, linear or none'),
  decayFraction: v.pipe(
    real('decay fraction'),
    v.minValue(0, 'decay fraction must be between 0 and 1'),
    v.maxValue(1, 'decay fraction must be between 0 and 1'),
  ),
  beta1: v.pipe(real('β1'), v.minValue(0, 'β1 must be in [0, 1)'), v.ltValue(1, 'β1 must be in [0, 1)')),
  beta2: v.pipe(real('β2'), v.minValue(0, 'β2 must be in [0, 1)'), v.ltValue(1, 'β2 must be in [0, 1)')),
  eps: v.pipe(real('ε'), v.gtValue(0, 'ε must be positive'), v.maxValue(1, 'ε must be at most 1')),
  seed: int(0, 2 ** 32 - 1, 'seed'),
  deadWindowTokens: int(1, Number.MAX_SAFE_INTEGER, 'dead window'),
  evalInterval: int(1, LIMITS.maxSteps, 'evaluation interval'),
  evalTokens: int(1, 1 << 24, 'evaluation tokens'),
  heldOutFraction: v.pipe(
    real('held-out fraction'),
    v.gtValue(0, 'held-out fraction must be above 0'),
    v.maxValue(0.5, 'held-out fraction must be at most 0.5'),
  ),
  normalize: v.boolean('normalize must be true or false'),
  checkpointIntervalSec: v.pipe(
    real('checkpoint interval'),
    v.minValue(1, 'checkpoint interval must be at least 1 s'),
    v.maxValue(86_400, 'checkpoint interval must be at most one day'),
  ),
  // k, λ, θ and AuxK fields: each architecture's registry spec validates its own (src/sae/archs/).
  ...Object.fromEntries(ARCH_FIELDS.map((f) => [f.field, f.schema])),
});

/** Per-field problems: the key is the {@link TrainConfig} field, the value a sentence for the form. */
export type ConfigErrors = Partial<Record<keyof TrainConfig | 'dataset', string>>;

/** Facts about the dataset that the cross-field rules need. */
export interface DatasetFacts {
  /** d_model of the dataset's rows. */
  dModel: number;
  /** Rows in the dataset. */
  nTokens: number;
}

/** Result of {@link validateConfig}. */
export type ConfigValidation = { ok: true; config: TrainConfig } | { ok: false; errors: ConfigErrors };

/**
 * Validate a candidate config (e.g. from the form, or a checkpoint). Missing fields take their default.
 * With `data`, also checks the rules that depend on the dataset (d_sae resolvable, batch ≤ training rows, a
 * non-empty held-out split).
 * @returns the typed config, or one message per offending field (first problem of each field).
 */
export function validateConfig(input: unknown, data?: DatasetFacts): ConfigValidation {
  const merged = { ...DEFAULT_CONFIG, ...(typeof input === 'object' && input !== null ? input : {}) };
  const parsed = v.safeParse(TrainConfigSchema, merged);
  const errors: ConfigErrors = {};
  if (!parsed.success) {
    for (const issue of parsed.issues) {
      const key = issue.path?.[0]?.key as keyof TrainConfig | undefined;
      if (key && !errors[key]) errors[key] = issue.message;
    }
    return { ok: false, errors };
  }
  const c = parsed.output as TrainConfig;
  if (c.dSae !== null && c.k > c.dSae) errors.k = `k (${c.k}) must not exceed d_sae (${c.dSae})`;
  const tail = Math.ceil(c.decay === 'none' ? 0 : c.decayFraction * c.steps);
  if (c.warmupSteps + tail > c.steps) {
    errors.warmupSteps = `warmup (${c.warmupSteps}) plus decay (${tail}) steps exceed the run (${c.steps} steps)`;
  }
  if (data) {
    const dSae = resolveDSae(c, data.dModel);
    if (!Number.isInteger(dSae) || dSae < 1) {
      errors.expansionFactor = `expansion factor × d_model (${c.expansionFactor} × ${data.dModel}) must be a whole number ≥ 1`;
    } else if (dSae > LIMITS.maxDSae) {
      errors.expansionFactor = `d_sae = ${dSae} exceeds ${LIMITS.maxDSae}`;
    } else if (c.k > dSae) {
      errors.k = `k (${c.k}) must not exceed d_sae (${dSae})`;
    }
    const { trainRows, heldOutRows } = splitRows(data.nTokens, c.heldOutFraction);
    if (heldOutRows < 1 || trainRows < 1) {
      errors.heldOutFraction = `the dataset has ${data.nTokens} rows: too few for a training and a held-out split`;
    } else if (c.batchSize > trainRows) {
      errors.batchSize = `batch size (${c.batchSize}) exceeds the ${trainRows} training rows of the dataset`;
    }
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, config: c };
}

/** d_sae of a config on a dataset of width `dModel`: dSae, or round(expansionFactor · dModel). */
export function resolveDSae(c: Pick<TrainConfig, 'dSae' | 'expansionFactor'>, dModel: number): number {
  return c.dSae ?? Math.round(c.expansionFactor * dModel);
}

/**
 * Training / held-out split of `nTokens` rows: the held-out rows are the LAST ceil(nTokens · fraction) rows,
 * never trained on.
 */
export function splitRows(
  nTokens: number,
  heldOutFraction: number,
): { trainRows: number; heldOutRows: number } {
  const heldOutRows = Math.min(nTokens, Math.ceil(nTokens * heldOutFraction));
  return { trainRows: nTokens - heldOutRows, heldOutRows };
}

/** The engine's architecture for a config (src/sae/types.ts SaeArch). */
export function archOf(c: TrainConfig): SaeArch {
  return {
    architecture: c.architecture,
    thresholdEmaRate: c.thresholdEmaRate,
    bandwidth: c.bandwidth,
    thresholdInit: c.thresholdInit,
    thresholdLrScale: c.thresholdLrScale,
    auxk: c.auxk,
    kAux: c.kAux,
    auxkAlpha: c.auxkAlpha,
    matryoshkaWidths: c.matryoshkaWidths,
  };
}

/** The engine shape of a run of `c` on data of width `dModel` with `dSae` latents. */
export function engineShape(c: TrainConfig, dModel: number, dSae: number): SaeShape {
  return { dModel, dSae, k: c.k, batchSize: c.batchSize, arch: archOf(c) };
}

/**
 * λ of step t (0-based): the architecture's coefficient (its spec's sparsityCoefficient field — l0Coefficient for
 * JumpReLU, l1Coefficient for ReLU — 0 when it has none) times min(1, (t + 1)/sparsityWarmupSteps) — a linear warmup from 0 (Gemma Scope §3.2, seed 004).
 */
export function sparsityCoeff(
  c: Pick<TrainConfig, 'architecture' | 'l0Coefficient' | 'l1Coefficient' | 'sparsityWarmupSteps'>,
  t: number,
): number {
  const field = archSpec(c.architecture).sparsityCoefficient;
  const lambda = field ? c[field] : 0;
  if (c.sparsityWarmupSteps <= 0) return lambda;
  return lambda * Math.min(1, (t + 1) / c.sparsityWarmupSteps);
}

/** AuxK's dead window in steps: ceil(auxkDeadWindowTokens / batchSize), at least 1 (StepHyper.auxkDeadWindowSteps). */
export function auxkDeadWindowSteps(c: Pick<TrainConfig, 'auxkDeadWindowTokens' | 'batchSize'>): number {
  return Math.max(1, Math.ceil(c.auxkDeadWindowTokens / c.batchSize));
}

/**
 * The dead-latent window in steps: ceil(min(deadWindowTokens, 0.25 · steps · batchSize) / batchSize), at least 1.
 * A latent is dead when it has not fired for this many steps (StepHyper.deadWindowSteps).
 */
export function deadWindowSteps(c: Pick<TrainConfig, 'deadWindowTokens' | 'steps' | 'batchSize'>): number {
  const tokens = Math.min(c.deadWindowTokens, DEAD_WINDOW_RUN_FRACTION * c.steps * c.batchSize);
  return Math.max(1, Math.ceil(tokens / c.batchSize));
}

/** Largest share of a run's tokens the dead-latent window may span (see {@link TrainConfig.deadWindowTokens}). */
export const DEAD_WINDOW_RUN_FRACTION = 0.25;

/** Held-out evaluations a run gets at least (see {@link evalIntervalSteps}). */
export const MIN_EVALS_PER_RUN = 10;

/** Steps between held-out evaluations: min(evalInterval, ⌊steps / 10⌋), at least 1. */
export function evalIntervalSteps(c: Pick<TrainConfig, 'evalInterval' | 'steps'>): number {
  return Math.max(1, Math.min(c.evalInterval, Math.floor(c.steps / MIN_EVALS_PER_RUN)));
}
