/**
 * CpuSaeEngine: the plain-TypeScript SAE of every architecture (src/sae/types.ts), the test oracle of the GPU
 * engine (src/gpu/sae-engine.ts).
 *
 * TopK:
 *
 *   pre = (x − b_dec)·W_enc + b_enc;  z = ReLU(TopK_k(pre));  x̂ = z·W_dec + b_dec;  loss = mean (x − x̂)²
 * (Gao et al. 2024 §2.3, seed 000_03f50111ba1a6c62.txt); decoder-gradient projection and row renormalisation
 * around Adam (Gemma Scope §3.2, seed 004_5e13fcf757174fc0.txt).
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, k. One step = encoder → TopK → decode → sparse backward →
 * project ∂W_dec → Adam on W_enc, W_dec, b_enc, b_dec (t ← t + 1) → renormalise W_dec rows → step sums and
 * steps-since-fired counters. Every op is the CPU twin of one GPU kernel, in float32 and the GPU's order.
 *
 * BatchTopK: encoder → batch selection and running θ → compacted into TopK-style rows of k_cap slots → the TopK
 * decode and sparse backward (batchTopkSparseCpu); the dense path when a token keeps more than 256 latents.
 * JumpReLU, ReLU (the dense path, src/reference/dense.ts): encoder → activation → x̂ = z·W_dec + b_dec → g, ∂z = g·W_decᵀ, ∂W_dec = zᵀg → activation backward
 * (sparsity terms, STE) → ∂W_enc = xcᵀ·∂pre, ∂b_dec → same constraint, Adam (and Adam on log θ for JumpReLU),
 * renormalisation and counters. AuxK (TopK, BatchTopK) adds its gradients after the main backward pass.
 */

import { resolveArch } from '../sae/arch';
import type {
  EvalStats,
  SaeArch,
  SaeEngine,
  SaeParams,
  SaeShape,
  SaeState,
  StepHyper,
  StepStats,
} from '../sae/types';
import {
  assertBatch,
  assertEvalRows,
  assertHyper,
  assertSaeParams,
  assertSaeShape,
  assertSaeState,
  cloneParams,
  zeroParams,
} from '../sae/validate';
import {
  type ActivationBackwardResult,
  activationBackwardCpu,
  activationCountCpu,
  activationForwardCpu,
} from './activation';
import { adamCoefficients, adamCpu } from './adam';
import { auxkCpu } from './auxk';
import { backwardCpu, bdecGradCpu, lossGradScale, type SaeGrads } from './backward';
import {
  batchTopkCap,
  batchTopkCompactCpu,
  batchTopkCpu,
  batchTopkMaxRowCount,
  batchTopkThresholdUpdate,
} from './batchtopk';
import { decodeCpu, ROW_STATS } from './decode';
import { normalizeDecoderRowsCpu, projectDecoderGradCpu } from './decoder-constraint';
import { type DenseRowsResult, denseRowsCpu } from './dense';
import { encoderCpu } from './encoder';
import { matmulCpu } from './matmul';
import { hasNonFiniteCpu, paramsNonFinite } from './nonfinite';
import { stepStatsCpu, sumSquaredDeviation } from './stats';
import { thresholdAdamCpu } from './threshold';
import { topkCpu } from './topk';

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
  if (arch.architecture === 'batchtopk' && training) {
    const bt = batchTopkCpu(pre, rows, S, shape.k);
    z = bt.z;
    minKeptKey = bt.minKeptKey;
  } else {
    const mode = arch.architecture === 'relu' ? 'relu' : 'threshold';
    z = activationForwardCpu(pre, params.threshold ?? null, mode, rows, S);
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
  const mode =
    arch.architecture === 'batchtopk' ? 'masked' : arch.architecture === 'relu' ? 'relu' : 'jumprelu';
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

/**
 * Per-token evaluation sums of one chunk, added into `into` (float64).
 * cos(x, x̂) is taken as 0 when either norm is 0; ‖x − x̂‖/‖x‖ as 0 when ‖x‖ = 0.
 */
export function addEvalRowSums(
  rowStats: Float32Array,
  rows: number,
  into: { sse: number; cosSum: number; relErrSum: number },
): void {
  for (let r = 0; r < rows; r++) {
    const [sse, xx, hh, xh] = rowStats.subarray(r * ROW_STATS, r * ROW_STATS + 4);
    into.sse += sse;
    const nn = Math.sqrt(xx) * Math.sqrt(hh);
    into.cosSum += nn > 0 ? xh / nn : 0;
    into.relErrSum += xx > 0 ? Math.sqrt(sse) / Math.sqrt(xx) : 0;
  }
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
  if (arch.architecture === 'jumprelu') for (const c of fireCounts) sum += c;
  else if (arch.architecture === 'relu') for (let s = 0; s < zSum.length; s++) sum += zSum[s] * decNorm[s];
  return (lambda * sum) / rows;
}

/** The SAE engine on the CPU (every architecture). Synchronous work behind the async {@link SaeEngine} interface. */
export class CpuSaeEngine implements SaeEngine {
  readonly shape: SaeShape;
  /** The resolved architecture. */
  readonly arch: SaeArch;
  private params: SaeParams;
  private adamM: SaeParams;
  private adamV: SaeParams;
  private t = 0;
  /** Sticky non-finite flag (StepStats.nonFinite), like the GPU engine's; cleared by setState. */
  private nonFinite = false;
  private stepsSinceFired: Uint32Array;
  /**
   * @param shape sizes (validated); @param init starting parameters (copied)
   * @throws RangeError on a bad shape or parameter length.
   */
  constructor(shape: SaeShape, init: SaeParams) {
    assertSaeShape('CpuSaeEngine', shape);
    assertSaeParams('CpuSaeEngine', shape, init);
    this.shape = { ...shape };
    this.arch = resolveArch(shape);
    this.params = cloneParams(init);
    this.adamM = zeroParams(shape);
    this.adamV = zeroParams(shape);
    this.stepsSinceFired = new Uint32Array(shape.dSae);
  }

  /** One training step on x [batchSize, d_model]. Always returns the stats (they are cheap here). */
  async step(x: Float32Array, hyper: StepHyper, _readStats = true): Promise<StepStats> {
    return this.stepSync(x, hyper);
  }

  /** Synchronous {@link step}. @throws RangeError on a bad batch or hyper-parameter. */
  stepSync(x: Float32Array, hyper: StepHyper): StepStats {
    assertBatch('CpuSaeEngine.step', this.shape, x);
    assertHyper('CpuSaeEngine.step', hyper);
    const { dModel: D, dSae: S, k, batchSize: B } = this.shape;
    const arch = this.arch;
    const p = this.params;
    const fwdShape = { rows: B, dModel: D, dSae: S };
    let grads: SaeGrads;
    let rowStats: Float32Array;
    let fireCounts: Uint32Array;
    let xHat: Float32Array;
    let pre: Float32Array;
    let gLogThreshold: Float32Array | null = null;
    let minKeptKey: number | undefined;
    const lambda = hyper.sparsityCoeff ?? 0;
    let sparsityLoss = 0;
    const sparse = arch.architecture === 'batchtopk' ? batchTopkSparseCpu(x, p, this.shape) : null;
    if (arch.architecture === 'topk') {
      const fwd = forwardCpu(x, B, p, this.shape);
      const bw = backwardCpu(x, fwd.indices, fwd.values, fwd.xHat, p, { ...fwdShape, k });
      grads = bw.grads;
      fireCounts = bw.fireCounts;
      rowStats = fwd.rowStats;
      xHat = fwd.xHat;
      pre = fwd.pre;
    } else if (sparse) {
      const sp = sparse;
      grads = sp.grads;
      fireCounts = sp.fireCounts;
      rowStats = sp.rowStats;
      xHat = sp.xHat;
      pre = sp.pre;
      minKeptKey = sp.minKeptKey;
    } else {
      const { fwd, rows, act, grads: g } = denseStepGradsCpu(x, p, this.shape, arch, lambda);
      minKeptKey = fwd.minKeptKey;
      grads = g;
      fireCounts = act.fireCounts;
      rowStats = rows.rowStats;
      xHat = fwd.xHat;
      pre = fwd.pre;
      if (arch.architecture === 'jumprelu') gLogThreshold = act.gLogThreshold;
      sparsityLoss = sparsityLossOf(arch, lambda, act.fireCounts, act.zSum, act.decNorm, B);
    }
    let auxkLoss = 0;
    if (arch.auxk) {
      const aux = auxkCpu(
        { x, xHat, pre, stepsSinceFired: this.stepsSinceFired, params: p },
        grads,
        {
          kAux: arch.kAux,
          alpha: arch.auxkAlpha,
          deadWindowSteps: hyper.auxkDeadWindowSteps ?? hyper.deadWindowSteps,
        },
        fwdShape,
      );
      auxkLoss = aux.loss;
    }
    projectDecoderGradCpu(grads.wDec, p.wDec, S, D);
    this.t += 1;
    const c = adamCoefficients(hyper, this.t);
    for (const key of ['wEnc', 'wDec', 'bEnc', 'bDec'] as const) {
      adamCpu(p[key], this.adamM[key], this.adamV[key], grads[key], c);
    }
    if (gLogThreshold && p.threshold && this.adamM.threshold && this.adamV.threshold) {
      const cTheta = adamCoefficients({ ...hyper, lr: hyper.lr * arch.thresholdLrScale }, this.t);
      thresholdAdamCpu(p.threshold, this.adamM.threshold, this.adamV.threshold, gLogThreshold, cTheta);
    }
    if (minKeptKey !== undefined && p.threshold) {
      const theta = batchTopkThresholdUpdate(p.threshold[0], minKeptKey, arch.thresholdEmaRate, this.t);
      p.threshold.fill(theta);
    }
    normalizeDecoderRowsCpu(p.wDec, S, D);
    const stats = stepStatsCpu(x, rowStats, fireCounts, this.stepsSinceFired, hyper.deadWindowSteps, B, D);
    this.nonFinite ||= hasNonFiniteCpu(rowStats) || paramsNonFinite(p);
    return { ...stats, auxkLoss, sparsityLoss, nonFinite: this.nonFinite };
  }

  /** Forward-only evaluation of x [rows, d_model], in chunks of batchSize rows. */
  async evaluate(x: Float32Array, rows: number): Promise<EvalStats> {
    assertEvalRows('CpuSaeEngine.evaluate', this.shape, x, rows);
    const { dModel: D, dSae: S, batchSize: B } = this.shape;
    const sums = { sse: 0, cosSum: 0, relErrSum: 0 };
    const fireCounts = new Uint32Array(S);
    let l0Sum = 0;
    for (let r0 = 0; r0 < rows; r0 += B) {
      const n = Math.min(B, rows - r0);
      const chunk = x.subarray(r0 * D, (r0 + n) * D);
      if (this.arch.architecture === 'topk') {
        const fwd = forwardCpu(chunk, n, this.params, this.shape);
        addEvalRowSums(fwd.rowStats, n, sums);
        for (let i = 0; i < fwd.values.length; i++) {
          if (fwd.values[i] > 0) {
            fireCounts[fwd.indices[i]]++;
            l0Sum++;
          }
        }
      } else {
        const fwd = forwardDenseCpu(chunk, n, this.params, this.shape, this.arch, false);
        const rowSums = denseRowsCpu(chunk, fwd.xHat, this.params.bDec, 0, n, D);
        addEvalRowSums(rowSums.rowStats, n, sums);
        const counts = activationCountCpu(fwd.z, n, S);
        for (let s = 0; s < S; s++) {
          fireCounts[s] += counts[s];
          l0Sum += counts[s];
        }
      }
    }
    return { nTokens: rows, sst: sumSquaredDeviation(x, rows, D), l0Sum, fireCounts, ...sums };
  }

  async getState(): Promise<SaeState> {
    return {
      params: cloneParams(this.params),
      adamM: cloneParams(this.adamM),
      adamV: cloneParams(this.adamV),
      t: this.t,
      stepsSinceFired: this.stepsSinceFired.slice(),
    };
  }

  async setState(state: SaeState): Promise<void> {
    assertSaeState('CpuSaeEngine.setState', this.shape, state);
    this.params = cloneParams(state.params);
    this.adamM = cloneParams(state.adamM);
    this.adamV = cloneParams(state.adamV);
    this.t = state.t;
    this.nonFinite = false;
    this.stepsSinceFired = state.stepsSinceFired.slice();
  }

  destroy(): void {}
}
