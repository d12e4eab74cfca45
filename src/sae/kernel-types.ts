/**
 * Shapes, result layouts and size constants shared by the GPU kernels' host wrappers (src/gpu/kernels/) and their
 * plain-TypeScript CPU twins (src/reference/). Both sides import them from here so that the test oracle never has
 * to be imported by the production GPU path (src/gpu/ may not import src/reference/, except the self-check).
 *
 * Shape legend: R = rows (tokens), D = d_model, S = d_sae, k = latents per row.
 */

/** Largest k the GPU TopK kernel supports (one workgroup-memory buffer of k entries per row). */
export const MAX_K = 256;

/** Shape of one matmul. All dims are element counts (≥ 1). */
export interface MatmulShape {
  /** Rows of C and of op(A). */
  M: number;
  /** Columns of C and of op(B). */
  N: number;
  /** Inner dimension. */
  K: number;
  /** A is stored transposed, as [K, M]. Default false. */
  transA?: boolean;
  /** B is stored transposed, as [N, K]. Default false. */
  transB?: boolean;
}

/** Sizes of a forward pass over `rows` tokens. */
export interface ForwardShape {
  /** R: tokens in this pass. */
  rows: number;
  /** D: d_model. */
  dModel: number;
  /** S: d_sae. */
  dSae: number;
}

/** Throw a RangeError naming `fn` when `arr` has fewer than `n` elements. */
export function needLength(fn: string, what: string, arr: ArrayLike<number>, n: number): void {
  if (arr.length < n) throw new RangeError(`${fn}: ${what} has ${arr.length} elements, needs ${n}`);
}

/** TopK output: (index, value) pairs per row, [R, k] each. */
export interface TopKResult {
  /** u32 [R, k] latent indices. */
  indices: Uint32Array;
  /** f32 [R, k] pre-activation values at those indices (not ReLU'd). */
  values: Float32Array;
}

/** Per-row sums, ROW_STATS floats per row: Σ(x̂−x)², Σx², Σx̂², Σx·x̂ over d_model. */
export const ROW_STATS = 4;

/** Output of decodeCpu (src/reference/). */
export interface DecodeResult {
  /** x̂ f32 [R, D]. */
  xHat: Float32Array;
  /** f32 [R, 4]: sse = ‖x − x̂‖², xx = ‖x‖², hh = ‖x̂‖², xh = ⟨x, x̂⟩ per row. */
  rowStats: Float32Array;
}

/** Gradients of one batch, same shapes as the parameters. */
export interface SaeGrads {
  /** ∂W_enc f32 [D, S]. */
  wEnc: Float32Array;
  /** ∂W_dec f32 [S, D] (before the decoder-norm projection). */
  wDec: Float32Array;
  /** ∂b_enc f32 [S]. */
  bEnc: Float32Array;
  /** ∂b_dec f32 [D]. */
  bDec: Float32Array;
}

/** Output of backwardCpu (src/reference/). */
export interface BackwardResult {
  grads: SaeGrads;
  /** ∂pre per pair f32 [R, k] (0 where value ≤ 0). */
  gradPre: Float32Array;
  /** Tokens each latent fired on in this batch, u32 [S]. */
  fireCounts: Uint32Array;
}

/** Forward activation modes. */
export type ForwardMode = 'relu' | 'threshold';

/** Backward modes. */
export type BackwardMode = 'masked' | 'relu' | 'jumprelu';

/** Per-latent outputs of activationBackwardCpu (src/reference/). */
export interface ActivationBackwardResult {
  /** ∂pre f32 [R, S]. */
  gPre: Float32Array;
  /** ∂b_enc f32 [S]. */
  gBenc: Float32Array;
  /** Tokens each latent fired on, u32 [S]. */
  fireCounts: Uint32Array;
  /** Σ_r z[r, s] f32 [S]. */
  zSum: Float32Array;
  /** ‖W_dec,s‖ f32 [S] (relu mode; 0 otherwise). */
  decNorm: Float32Array;
  /** ∂L/∂log θ f32 [S] (jumprelu mode; 0 otherwise). */
  gLogThreshold: Float32Array;
}

/** Output of denseRowsCpu (src/reference/). */
export interface DenseRowsResult {
  /** f32 [R, 4]: ‖x − x̂‖², ‖x‖², ‖x̂‖², ⟨x, x̂⟩ per row (as decode.wgsl). */
  rowStats: Float32Array;
  /** g = scale·(x̂ − x) f32 [R, D]. */
  g: Float32Array;
  /** xc = x − b_dec f32 [R, D] (the encoder's input). */
  xc: Float32Array;
}

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
