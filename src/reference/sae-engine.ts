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
 *
 * The three step paths (per-row TopK, batch TopK, dense) are in src/reference/step-paths.ts behind one interface,
 * chosen by the architecture's registry spec; this file is the coordinator: AuxK, constraint, Adam, θ, counters.
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
import { adamCoefficients, adamCpu } from './adam';
import { auxkCpu } from './auxk';
import { batchTopkThresholdUpdate } from './batchtopk';
import { ROW_STATS } from './decode';
import { normalizeDecoderRowsCpu, projectDecoderGradCpu } from './decoder-constraint';
import { hasNonFiniteCpu, paramsNonFinite } from './nonfinite';
import { stepStatsCpu, sumSquaredDeviation } from './stats';
import { cpuStepPath } from './step-paths';
import { thresholdAdamCpu } from './threshold';

export {
  batchTopkSparseCpu,
  type CpuDenseForward,
  type CpuForward,
  denseStepGradsCpu,
  forwardCpu,
  forwardDenseCpu,
  sparsityLossOf,
} from './step-paths';

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
    const { dModel: D, dSae: S, batchSize: B } = this.shape;
    const arch = this.arch;
    const p = this.params;
    const fwdShape = { rows: B, dModel: D, dSae: S };
    const lambda = hyper.sparsityCoeff ?? 0;
    const { grads, rowStats, fireCounts, xHat, pre, gLogThreshold, minKeptKey, sparsityLoss } = cpuStepPath(
      arch,
    ).train(x, p, this.shape, arch, lambda);
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
      const fwd = cpuStepPath(this.arch).evaluate(chunk, n, this.params, this.shape, this.arch);
      addEvalRowSums(fwd.rowStats, n, sums);
      for (let s = 0; s < S; s++) {
        fireCounts[s] += fwd.fireCounts[s];
        l0Sum += fwd.fireCounts[s];
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
