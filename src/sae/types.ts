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
 */

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
 * A TopK SAE that trains and evaluates. Implemented on the GPU (src/gpu/sae-engine.ts) and on the CPU
 * (src/reference/sae-engine.ts, the test oracle). Shapes are fixed at creation.
 */
export interface SaeEngine {
  readonly shape: SaeShape;
  /**
   * One training step on a batch x [batchSize, d_model] f32: forward, backward, decoder-gradient projection,
   * Adam, decoder renormalisation, metric sums and dead-latent counters.
   * @param readStats when false the GPU engine may skip the readback and resolve to null (faster).
   */
  step(x: Float32Array, hyper: StepHyper, readStats?: boolean): Promise<StepStats | null>;
  /** Forward-only evaluation of x [rows, d_model] (rows may exceed batchSize; evaluated in chunks). */
  evaluate(x: Float32Array, rows: number): Promise<EvalStats>;
  /** Copy out the whole state (params, Adam moments, t, dead counters). */
  getState(): Promise<SaeState>;
  /** Replace the whole state (resume from a checkpoint). @throws on a shape mismatch. */
  setState(state: SaeState): Promise<void>;
  /** Free every buffer. */
  destroy(): void;
}
