/**
 * SAE model types shared by the CPU reference, the GPU engine, the trainer and export.
 *
 * Shape legend: B = batch (tokens), D = d_model (SAELens d_in), S = d_sae, k = latents kept per token.
 *
 * TopK SAE (Gao et al. 2024, "Scaling and Evaluating Sparse Autoencoders", §2; seed 000_03f50111ba1a6c62.txt):
 *   pre    = (x − b_dec) · W_enc + b_enc          pre-activations [B, S]
 *   z      = ReLU(TopK_k(pre))                     latents [B, S], ≤ k nonzero per row
 *   x̂      = z · W_dec + b_dec                      reconstruction [B, D]
 *   loss   = mean over B·D elements of (x − x̂)²     MSE
 * Decoder rows are kept at unit norm (Gemma Scope §3.2, seed 004_5e13fcf757174fc0.txt).
 *
 * Other architectures (same encoder, decoder and unit-norm constraint; only the activation and the loss change):
 *   BatchTopK (Bussmann et al. 2024; seed 001_9b5e40b3c1a813c3.txt): z = ReLU(pre · [key(pre) ≥ T]) with T the
 *     (k·B)-th largest pre-activation of the whole batch; a running θ (EMA of the smallest kept positive
 *     activation) replaces T at evaluation and export, where the SAE behaves as a JumpReLU SAE.
 *   JumpReLU (Rajamanoharan et al. 2024; Gemma Scope §3.2, seed 004): z = pre · H(pre − θ), θ = exp(log θ) learned
 *     per latent with a rectangle-kernel straight-through estimator of bandwidth ε; sparsity term λ·L0.
 *   ReLU + L1 (Bricken et al. 2023; seed 002_282dec4f4b7cc585.txt): z = ReLU(pre); sparsity term λ·Σ_i z_i·‖W_dec,i‖.
 *   Matryoshka BatchTopK (Bussmann et al. 2025): BatchTopK's latents; the loss sums the MSE of the reconstructions
 *     x̂_m = b_dec + Σ_{s<e_m} z_s·W_dec[s] of nested prefixes e_1 < … < e_M = d_sae of the dictionary
 *     (SaeArch.matryoshkaWidths; src/sae/archs/matryoshka.ts); exported like BatchTopK.
 *   AuxK (Gao et al. 2024 §A.2, seed 000): for TopK, BatchTopK and Matryoshka, the top k_aux pre-activations among dead
 *     latents reconstruct the residual e = x − x̂ (decoded without b_dec); loss α·s·‖e − ê‖²/‖e − ē‖²,
 *     s = min(n_dead/k_aux, 1); 0 when nothing is dead.
 * Loss units. The engines minimise L = (1/(B·D)) Σ_t [‖x_t − x̂_t‖² + λ·P_t] + AuxK term, i.e. the per-token
 * objective of Gemma Scope / SAELens (sum over d_model, mean over tokens; λ has their meaning) divided by
 * d_model — a constant Adam does not see. The AuxK term is α·s·(SST_x/(B·D))·SSE_aux/SST_e: relative to
 * FVU = SSE/SST_x it weighs exactly α·s, as in Gao et al. (both normalised MSEs).
 */

/** SAE architecture ids: those of the registry (src/sae/archs/index.ts). */
export type { Architecture } from './archs';

import type { Architecture } from './archs';

/**
 * The architecture of an SAE and its hyper-parameters that are fixed for a run (step-varying ones, λ and
 * the learning rate, are in {@link StepHyper}). Every field has a default (DEFAULT_ARCH in src/sae/arch.ts).
 */
export interface SaeArch {
  /** Which SAE (an id of the registry, src/sae/archs/). Default: the registry's first. */
  architecture: Architecture;
  /**
   * BatchTopK: rate γ of the running threshold, θ ← (1 − γ)·θ + γ·m with m the smallest positive pre-activation
   * kept in the batch (θ = m after the first step). Default 0.01 (SAELens' topk_threshold_lr).
   */
  thresholdEmaRate: number;
  /** JumpReLU: bandwidth ε of the rectangle kernel of the straight-through estimator. Default 0.001 (Gemma Scope). */
  bandwidth: number;
  /** JumpReLU: initial θ of every latent. Default 0.001 (Gemma Scope §3.2). */
  thresholdInit: number;
  /**
   * JumpReLU: learning rate of log θ relative to the step's lr. Default 1 (Gemma Scope: one rate for all). Adam
   * moves log θ by about lr per step, so short runs need a larger factor for θ to leave its initial value.
   */
  thresholdLrScale: number;
  /** AuxK loss on (architectures whose registry spec has `auxk`; ignored otherwise). Default false. */
  auxk: boolean;
  /** k_aux: dead latents used per token by AuxK. 0 = min(⌊d_model/2⌋, d_sae, 256). Default 0. */
  kAux: number;
  /** α: weight of the AuxK loss relative to FVU. Default 1/32 (Gao et al. 2024 §A.2). */
  auxkAlpha: number;
  /**
   * Matryoshka: the nested prefix widths as fractions of d_sae, strictly increasing, the last 1, 1 to 8 of them
   * (src/sae/archs/matryoshka.ts matryoshkaPrefixEnds turns them into latent counts). Default 1/16, 1/8, 1/4, 1/2, 1.
   */
  matryoshkaWidths: readonly number[];
}

/** Sizes of an SAE and its training batch. All positive integers. */
export interface SaeShape {
  /** d_model (d_in): width of the activations. */
  dModel: number;
  /** d_sae: number of latents. */
  dSae: number;
  /** k: latents kept per token by TopK (1 ≤ k ≤ dSae). */
  k: number;
  /** Training batch size B in tokens. */
  batchSize: number;
  /**
   * Architecture and its fixed hyper-parameters; missing = TopK with defaults (see resolveArch in src/sae/arch.ts).
   * For BatchTopK, k is the mean number of latents kept per token (k·B per batch); JumpReLU and ReLU ignore k.
   */
  arch?: Partial<SaeArch>;
}

/** SAE parameters, float32, row-major. */
export interface SaeParams {
  /** W_enc [d_model, d_sae]. */
  wEnc: Float32Array;
  /** W_dec [d_sae, d_model]; rows unit-norm. */
  wDec: Float32Array;
  /** b_enc [d_sae]. */
  bEnc: Float32Array;
  /** b_dec [d_model]. */
  bDec: Float32Array;
  /**
   * θ [d_sae], the per-latent threshold — JumpReLU and BatchTopK only (absent otherwise). JumpReLU trains it as
   * log θ (the Adam moments in SaeState are those of log θ; the update is θ ← θ·exp(−Δ)); BatchTopK holds its
   * running threshold here (every entry equal). Exported as SAELens' `threshold`.
   */
  threshold?: Float32Array;
}

/** Adam hyper-parameters and the learning rate of one step (Kingma & Ba 2015, Algorithm 1). */
export interface StepHyper {
  /** Learning rate η of this step (the trainer applies warmup/decay before passing it). */
  lr: number;
  /** β1 (Gemma Scope uses 0). Default 0.9. */
  beta1: number;
  /** β2. Default 0.999. */
  beta2: number;
  /** ε. Default 1e-8. */
  eps: number;
  /** A latent is dead when it has not fired for at least this many steps. */
  deadWindowSteps: number;
  /**
   * λ of this step, after its warmup (the trainer applies the schedule): JumpReLU λ·L0, ReLU λ·Σ z·‖W_dec‖.
   * Same units as Gemma Scope / SAELens (per-token sums). Default 0.
   */
  sparsityCoeff?: number;
  /** AuxK counts a latent as dead after this many steps without firing. Default deadWindowSteps. */
  auxkDeadWindowSteps?: number;
}

/** Full training state: enough to resume bit-for-bit on the same adapter. */
export interface SaeState {
  params: SaeParams;
  /** Adam first moments, same shapes as params. */
  adamM: SaeParams;
  /** Adam second moments, same shapes as params. */
  adamV: SaeParams;
  /** Number of Adam steps taken (t in the bias correction). */
  t: number;
  /** Per-latent steps since the latent last fired [d_sae], u32. */
  stepsSinceFired: Uint32Array;
}

/**
 * Raw sums from one training step's batch, computed on the GPU in the same pass as the step.
 * Turn them into metrics with the functions of src/sae/metrics.ts — never by hand.
 */
export interface StepStats {
  /** Rows in the batch (B). */
  nTokens: number;
  /** Σ over the batch of ‖x − x̂‖² (before the update). */
  sse: number;
  /** Σ over the batch of ‖x − mean_batch(x)‖². */
  sst: number;
  /** Σ over tokens of the number of nonzero latents. */
  l0Sum: number;
  /** Number of latents that fired on at least one token of the batch. */
  firedInBatch: number;
  /** Number of latents whose steps-since-fired ≥ deadWindowSteps after this step. */
  deadCount: number;
  /** AuxK loss α·s·‖e − ê‖²/‖e − ē‖² of this batch (0 when AuxK is off or nothing is dead). */
  auxkLoss: number;
  /**
   * Sparsity term λ·(1/B)·Σ_t P_t of this batch in per-token units: JumpReLU P = L0, ReLU P = Σ_i z_i‖W_dec,i‖;
   * 0 for TopK and BatchTopK.
   */
  sparsityLoss: number;
  /**
   * Sticky divergence flag: true when the loss terms or any parameter (W_enc, W_dec, b_enc, b_dec, θ) held a NaN
   * or ±Inf after this step or any earlier step since the engine was created or its state last set (the GPU ORs
   * it every step, read or not: shaders/nonfinite.wgsl). Absent = engine without the check (treat as false).
   */
  nonFinite?: boolean;
}

/** Raw sums from a forward-only evaluation over some rows (held-out split). */
export interface EvalStats {
  nTokens: number;
  /** Σ ‖x − x̂‖². */
  sse: number;
  /** Σ ‖x − mean(x)‖², with the mean over the evaluated rows. */
  sst: number;
  /** Σ over tokens of cos(x, x̂). */
  cosSum: number;
  /** Σ over tokens of ‖x − x̂‖ / ‖x‖. */
  relErrSum: number;
  l0Sum: number;
  /** Per-latent number of tokens it fired on [d_sae], u32. */
  fireCounts: Uint32Array;
}

/**
 * An SAE of any {@link Architecture} that trains and evaluates. Implemented on the GPU (src/gpu/sae-engine.ts) and on the CPU
 * (src/reference/sae-engine.ts, the test oracle; src/cpu/sae-engine.ts, the fast WebAssembly engine). Shapes are fixed at creation.
 */
export interface SaeEngine {
  readonly shape: SaeShape;
  /**
   * One training step on a batch x [batchSize, d_model] f32: forward, backward, decoder-gradient projection,
   * Adam, decoder renormalisation, metric sums and dead-latent counters.
   * @param readStats when false the GPU engine may skip the readback and resolve to null (faster).
   */
  step(x: Float32Array, hyper: StepHyper, readStats?: boolean): Promise<StepStats | null>;
  /**
   * Optional stats ring, for batched readback of the metric history: slots of {@link StepStats} kept where the
   * engine computes them (GPU memory). Engines without it return the stats from {@link step}.
   */
  readonly statsRingSlots?: number;
  /**
   * Copy the sums of the last submitted step into ring slot `slot` (0 ≤ slot < statsRingSlots), queued after
   * that step; nothing is read back. @throws RangeError on a bad slot.
   */
  recordStats?(slot: number): void;
  /** Read slots 0 … count−1 of the ring in one readback, in slot order. @throws on a lost device. */
  readRecordedStats?(count: number): Promise<StepStats[]>;
  /** Forward-only evaluation of x [rows, d_model] (rows may exceed batchSize; evaluated in chunks). */
  evaluate(x: Float32Array, rows: number): Promise<EvalStats>;
  /** Copy out the whole state (params, Adam moments, t, dead counters). */
  getState(): Promise<SaeState>;
  /** Replace the whole state (resume from a checkpoint). @throws on a shape mismatch. */
  setState(state: SaeState): Promise<void>;
  /** Free every buffer. */
  destroy(): void;
}
