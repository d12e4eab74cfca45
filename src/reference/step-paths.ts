/**
 * The CPU engine's step paths (the CPU twin of GpuSaeEngine's): per-row TopK ('sparse-topk'), batch TopK
 * compacted into TopK-style rows with the dense fallback ('sparse-batchtopk'), and dense latents ('dense').
 * Each path implements {@link CpuStepPath}: the gradients of one training batch and the forward pass of one
 * evaluation chunk, the same forward code in both. CpuSaeEngine (src/reference/sae-engine.ts) picks the path named
 * by the architecture's registry spec (src/sae/archs/) and does the rest of the step (AuxK, decoder constraint,
 * Adam, θ, counters) the same way for every path.
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, k.
 */
import { archSpec, type StepPathSpec } from '../sae/archs';
import { matryoshkaEndsOf } from '../sae/archs/matryoshka';
import type { SaeArch, SaeParams, SaeShape } from '../sae/types';
import {
  type ActivationBackwardResult,
  activationBackwardCpu,
  activationCountCpu,
  activationForwardCpu,
} from './activation';
import { backwardCpu, bdecGradCpu, lossGradScale, type SaeGrads } from './backward';
import { batchTopkCap, batchTopkCompactCpu, batchTopkCpu, batchTopkMaxRowCount } from './batchtopk';
import { decodeCpu } from './decode';
import { type DenseRowsResult, denseRowsCpu } from './dense';
import { encoderCpu } from './encoder';
import { matmulCpu } from './matmul';
import {
  matryoshkaGradBdecCpu,
  matryoshkaGradWdecRows,
  matryoshkaGradZCpu,
  matryoshkaLatentRows,
  matryoshkaResidualRows,
} from './matryoshka';
import { topkCpu } from './topk';

/** What a step path returns for one training batch (before AuxK, the decoder constraint and Adam). */
export interface CpuStepResult {
  /** Gradients of the four tensors (∂W_dec not yet projected). */
  grads: SaeGrads;
  /** f32 [B, 4] per-row sums Σ(x̂−x)², Σx², Σx̂², Σx·x̂. */
  rowStats: Float32Array;
  /** Tokens each latent fired on, u32 [S]. */
  fireCounts: Uint32Array;
  /** f32 [B, D] reconstruction. */
  xHat: Float32Array;
  /** f32 [B, S] pre-activations. */
  pre: Float32Array;
  /** ∂L/∂log θ f32 [S] for a learned threshold, else null. */
  gLogThreshold: Float32Array | null;
  /** BatchTopK: order key of the smallest kept positive activation (updates the running θ), else undefined. */
  minKeptKey?: number;
  /** Sparsity term λ·(1/B)·Σ_t P_t of the batch (0 without one). */
  sparsityLoss: number;
}

/** The forward pass of one evaluation chunk: per-row sums and per-latent fire counts. */
export interface CpuEvalForward {
  /** f32 [n, 4] per-row sums. */
  rowStats: Float32Array;
  /** u32 [S]: tokens of the chunk each latent fired on. */
  fireCounts: Uint32Array;
}

/** One step path of the CPU engine. */
export interface CpuStepPath {
  /**
   * Forward and backward pass of a training batch x [B, D] (`params` not modified).
   * @param lambda λ of this step (per-token units)
   * @param pre f32 [B, S] the batch's pre-activations when the caller already has them bit for bit (the fast CPU
   *   engine's encoder); a path may use them instead of running encoderCpu again
   */
  train(
    x: Float32Array,
    params: SaeParams,
    shape: SaeShape,
    arch: SaeArch,
    lambda: number,
    pre?: Float32Array,
  ): CpuStepResult;
  /** Forward pass of an evaluation chunk x [n, D] (n ≤ B). */
  evaluate(x: Float32Array, n: number, params: SaeParams, shape: SaeShape, arch: SaeArch): CpuEvalForward;
}

/** Forward pass of the CPU engine over `rows` rows. */
export interface CpuForward {
  /** f32 [rows, S]. */
  pre: Float32Array;
  /** u32 [rows, k]. */
  indices: Uint32Array;
  /** f32 [rows, k] raw pre-activations of the picks. */
  values: Float32Array;
  /** f32 [rows, D]. */
  xHat: Float32Array;
  /** f32 [rows, 4]: Σ(x̂−x)², Σx², Σx̂², Σx·x̂. */
  rowStats: Float32Array;
}

/** Forward pass of a TopK SAE on the CPU (encoder → TopK → decode). @param x f32 [rows, D] */
export function forwardCpu(x: Float32Array, rows: number, params: SaeParams, shape: SaeShape): CpuForward {
  const fwd = { rows, dModel: shape.dModel, dSae: shape.dSae, k: shape.k };
  const pre = encoderCpu(x, params.wEnc, params.bEnc, params.bDec, fwd);
  const { indices, values } = topkCpu(pre, rows, shape.dSae, shape.k);
  const { xHat, rowStats } = decodeCpu(x, indices, values, params.wDec, params.bDec, fwd);
  return { pre, indices, values, xHat, rowStats };
}

/** Forward pass of a dense-path SAE (BatchTopK, JumpReLU, ReLU) on the CPU. */
export interface CpuDenseForward {
  /** f32 [rows, S]. */
  pre: Float32Array;
  /** Latents f32 [rows, S]. */
  z: Float32Array;
  /** f32 [rows, D]. */
  xHat: Float32Array;
  /** BatchTopK in training: order key of the smallest kept positive activation (else undefined). */
  minKeptKey?: number;
}

/**
 * Dense forward pass: encoder → activation → x̂ = z·W_dec + b_dec. `training` selects BatchTopK's batch-level
 * selection; at evaluation BatchTopK is a JumpReLU with its running θ.
 * @param x f32 [rows, D]
 */
export function forwardDenseCpu(
  x: Float32Array,
  rows: number,
  params: SaeParams,
  shape: SaeShape,
  arch: SaeArch,
  training: boolean,
): CpuDenseForward {
  const { dModel: D, dSae: S } = shape;
  const pre = encoderCpu(x, params.wEnc, params.bEnc, params.bDec, { rows, dModel: D, dSae: S });
  let z: Float32Array;
  let minKeptKey: number | undefined;
  const step = archSpec(arch.architecture).step;
  if (step.path === 'sparse-batchtopk' && training) {
    const bt = batchTopkCpu(pre, rows, S, shape.k);
    z = bt.z;
    minKeptKey = bt.minKeptKey;
  } else {
    z = activationForwardCpu(pre, params.threshold ?? null, step.forward, rows, S);
  }
  const xHat = matmulCpu(z, params.wDec, params.bDec, { M: rows, N: D, K: S });
  return { pre, z, xHat, minKeptKey };
}

/**
 * Gradients of one dense-path training batch (the backward pass of src/reference/dense.ts), without the
 * decoder-gradient projection. `params` is not modified.
 * @param x f32 [batchSize, D]; @param lambda λ of this step (per-token units)
 */
export function denseStepGradsCpu(
  x: Float32Array,
  params: SaeParams,
  shape: SaeShape,
  arch: SaeArch,
  lambda: number,
): { fwd: CpuDenseForward; rows: DenseRowsResult; act: ActivationBackwardResult; grads: SaeGrads } {
  const { dModel: D, dSae: S, batchSize: B } = shape;
  const fwd = forwardDenseCpu(x, B, params, shape, arch, true);
  const rows = denseRowsCpu(x, fwd.xHat, params.bDec, lossGradScale(B, D), B, D);
  const gz = matmulCpu(rows.g, params.wDec, null, { M: B, N: S, K: D, transB: true });
  const gWdec = matmulCpu(fwd.z, rows.g, null, { M: S, N: D, K: B, transA: true });
  const mode = archSpec(arch.architecture).step.backward;
  const act = activationBackwardCpu(
    { pre: fwd.pre, z: fwd.z, gz, threshold: params.threshold ?? null, wDec: params.wDec, gWdec },
    mode,
    { lambdaScaled: lambda / (B * D), bandwidth: arch.bandwidth },
    { rows: B, dModel: D, dSae: S },
  );
  const gWenc = matmulCpu(rows.xc, act.gPre, null, { M: D, N: S, K: B, transA: true });
  const gBdec = bdecGradCpu(x, fwd.xHat, params.wEnc, act.gBenc, { rows: B, dModel: D, dSae: S });
  return { fwd, rows, act, grads: { wEnc: gWenc, wDec: gWdec, bEnc: act.gBenc, bDec: gBdec } };
}

/**
 * The sparsity term λ·(1/B)·Σ_t P_t of a batch in per-token units (src/sae/types.ts): JumpReLU P = L0,
 * ReLU P = Σ_s z_s·‖W_dec,s‖ (from the per-latent Σ_r z and norms); 0 otherwise. Float64.
 */
export function sparsityLossOf(
  arch: SaeArch,
  lambda: number,
  fireCounts: Uint32Array,
  zSum: Float32Array,
  decNorm: Float32Array,
  rows: number,
): number {
  let sum = 0;
  const sparsity = archSpec(arch.architecture).step.sparsity;
  if (sparsity === 'jumprelu') for (const c of fireCounts) sum += c;
  else if (sparsity === 'relu') for (let s = 0; s < zSum.length; s++) sum += zSum[s] * decNorm[s];
  return (lambda * sum) / rows;
}

/**
 * BatchTopK's sparse training step on the CPU (the GPU engine's path): the batch selection compacted into rows of
 * k_cap slots (src/reference/batchtopk.ts batchTopkCap), then the TopK decode and sparse backward. Null when a token
 * keeps more than 256 latents: the dense path ({@link denseStepGradsCpu}) is used then, as on the GPU.
 * @param x f32 [batchSize, D]
 */
export function batchTopkSparseCpu(
  x: Float32Array,
  p: SaeParams,
  shape: SaeShape,
): {
  grads: SaeGrads;
  fireCounts: Uint32Array;
  rowStats: Float32Array;
  xHat: Float32Array;
  pre: Float32Array;
  minKeptKey: number;
} | null {
  const { dModel: D, dSae: S, batchSize: B } = shape;
  const fwdShape = { rows: B, dModel: D, dSae: S };
  const pre = encoderCpu(x, p.wEnc, p.bEnc, p.bDec, fwdShape);
  const bt = batchTopkCpu(pre, B, S, shape.k);
  const cap = batchTopkCap(batchTopkMaxRowCount(bt.z, B, S), S);
  if (cap === null) return null;
  const { indices, values } = batchTopkCompactCpu(bt.z, B, S, cap);
  const kShape = { ...fwdShape, k: cap };
  const dec = decodeCpu(x, indices, values, p.wDec, p.bDec, kShape);
  const bw = backwardCpu(x, indices, values, dec.xHat, p, kShape);
  return {
    grads: bw.grads,
    fireCounts: bw.fireCounts,
    rowStats: dec.rowStats,
    xHat: dec.xHat,
    pre,
    minKeptKey: bt.minKeptKey,
  };
}

/** Dense path: training on dense latents; also BatchTopK's fallback and the evaluation of every threshold SAE. */
const densePath: CpuStepPath = {
  train(x, params, shape, arch, lambda) {
    const { fwd, rows, act, grads } = denseStepGradsCpu(x, params, shape, arch, lambda);
    return {
      grads,
      rowStats: rows.rowStats,
      fireCounts: act.fireCounts,
      xHat: fwd.xHat,
      pre: fwd.pre,
      gLogThreshold: archSpec(arch.architecture).step.threshold === 'learned' ? act.gLogThreshold : null,
      ...(fwd.minKeptKey !== undefined ? { minKeptKey: fwd.minKeptKey } : {}),
      sparsityLoss: sparsityLossOf(arch, lambda, act.fireCounts, act.zSum, act.decNorm, shape.batchSize),
    };
  },
  evaluate(x, n, params, shape, arch) {
    const fwd = forwardDenseCpu(x, n, params, shape, arch, false);
    const rows = denseRowsCpu(x, fwd.xHat, params.bDec, 0, n, shape.dModel);
    return { rowStats: rows.rowStats, fireCounts: activationCountCpu(fwd.z, n, shape.dSae) };
  },
};

/** Sparse per-row TopK path. */
const sparseTopkPath: CpuStepPath = {
  train(x, params, shape) {
    const { dModel: D, dSae: S, k, batchSize: B } = shape;
    const fwd = forwardCpu(x, B, params, shape);
    const bw = backwardCpu(x, fwd.indices, fwd.values, fwd.xHat, params, { rows: B, dModel: D, dSae: S, k });
    return {
      grads: bw.grads,
      rowStats: fwd.rowStats,
      fireCounts: bw.fireCounts,
      xHat: fwd.xHat,
      pre: fwd.pre,
      gLogThreshold: null,
      sparsityLoss: 0,
    };
  },
  evaluate(x, n, params, shape) {
    const fwd = forwardCpu(x, n, params, shape);
    const fireCounts = new Uint32Array(shape.dSae);
    for (let i = 0; i < fwd.values.length; i++) if (fwd.values[i] > 0) fireCounts[fwd.indices[i]]++;
    return { rowStats: fwd.rowStats, fireCounts };
  },
};

/** Sparse batch-TopK path, with the dense path for a batch in which a token keeps more than 256 latents. */
const sparseBatchTopkPath: CpuStepPath = {
  train(x, params, shape, arch, lambda) {
    const sp = batchTopkSparseCpu(x, params, shape);
    if (!sp) return densePath.train(x, params, shape, arch, lambda);
    return {
      grads: sp.grads,
      rowStats: sp.rowStats,
      fireCounts: sp.fireCounts,
      xHat: sp.xHat,
      pre: sp.pre,
      gLogThreshold: null,
      minKeptKey: sp.minKeptKey,
      sparsityLoss: 0,
    };
  },
  // At evaluation BatchTopK is a JumpReLU with its running θ: the dense forward.
  evaluate: (x, n, params, shape, arch) => densePath.evaluate(x, n, params, shape, arch),
};

/**
 * Matryoshka path (src/reference/matryoshka.ts): BatchTopK's selection, the nested-prefix residuals and their
 * gradients, the masked activation backward and ∂W_enc = xcᵀ·∂pre; evaluation is the dense forward with θ.
 */
const matryoshkaPath: CpuStepPath = {
  train(x, params, shape, arch, _lambda, given) {
    const { dModel: D, dSae: S, batchSize: B } = shape;
    const step = archSpec(arch.architecture).step;
    const ends = matryoshkaEndsOf(arch, S);
    const mShape = { rows: B, dModel: D, dSae: S };
    const pre = given ?? encoderCpu(x, params.wEnc, params.bEnc, params.bDec, mShape);
    const { z, minKeptKey } = batchTopkCpu(pre, B, S, shape.k);
    const scale = lossGradScale(B, D);
    const lat = matryoshkaLatentRows(z, mShape);
    const { xHat, groupGrads } = matryoshkaResidualRows(
      x,
      lat,
      params.wDec,
      params.bDec,
      ends,
      scale,
      mShape,
    );
    const rows = denseRowsCpu(x, xHat, params.bDec, scale, B, D);
    const gz = matryoshkaGradZCpu(groupGrads, z, params.wDec, ends, mShape);
    const gWdec = matryoshkaGradWdecRows(groupGrads, lat, ends, mShape);
    const act = activationBackwardCpu(
      { pre, z, gz, threshold: params.threshold ?? null, wDec: params.wDec, gWdec },
      step.backward,
      { lambdaScaled: 0, bandwidth: arch.bandwidth },
      mShape,
    );
    const gWenc = matmulCpu(rows.xc, act.gPre, null, { M: D, N: S, K: B, transA: true });
    const gBdec = matryoshkaGradBdecCpu(groupGrads, params.wEnc, act.gBenc, mShape);
    return {
      grads: { wEnc: gWenc, wDec: gWdec, bEnc: act.gBenc, bDec: gBdec },
      rowStats: rows.rowStats,
      fireCounts: act.fireCounts,
      xHat,
      pre,
      gLogThreshold: null,
      minKeptKey,
      sparsityLoss: 0,
    };
  },
  evaluate: (x, n, params, shape, arch) => densePath.evaluate(x, n, params, shape, arch),
};

/** The CPU step path of each registry path name. */
export const CPU_STEP_PATHS: Readonly<Record<StepPathSpec['path'], CpuStepPath>> = {
  'sparse-topk': sparseTopkPath,
  'sparse-batchtopk': sparseBatchTopkPath,
  dense: densePath,
  matryoshka: matryoshkaPath,
};

/** The step path of an architecture (its registry spec's step.path). */
export function cpuStepPath(arch: Pick<SaeArch, 'architecture'>): CpuStepPath {
  return CPU_STEP_PATHS[archSpec(arch.architecture).step.path];
}
