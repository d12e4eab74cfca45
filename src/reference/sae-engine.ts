/**
 * CpuSaeEngine: the plain-TypeScript TopK SAE, the test oracle of the GPU engine (src/gpu/sae-engine.ts).
 *
 *   pre = (x − b_dec)·W_enc + b_enc;  z = ReLU(TopK_k(pre));  x̂ = z·W_dec + b_dec;  loss = mean (x − x̂)²
 * (Gao et al. 2024 §2.3, seed 000_03f50111ba1a6c62.txt); decoder-gradient projection and row renormalisation
 * around Adam (Gemma Scope §3.2, seed 004_5e13fcf757174fc0.txt).
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, k. One step = encoder → TopK → decode → sparse backward →
 * project ∂W_dec → Adam on W_enc, W_dec, b_enc, b_dec (t ← t + 1) → renormalise W_dec rows → step sums and
 * steps-since-fired counters. Every op is the CPU twin of one GPU kernel, in float32 and the GPU's order.
 */

import type { EvalStats, SaeEngine, SaeParams, SaeShape, SaeState, StepHyper, StepStats } from '../sae/types';
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
import { backwardCpu } from './backward';
import { decodeCpu, ROW_STATS } from './decode';
import { normalizeDecoderRowsCpu, projectDecoderGradCpu } from './decoder-constraint';
import { encoderCpu } from './encoder';
import { stepStatsCpu, sumSquaredDeviation } from './stats';
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

/** The TopK SAE engine on the CPU. Synchronous work behind the async {@link SaeEngine} interface. */
export class CpuSaeEngine implements SaeEngine {
  readonly shape: SaeShape;
  private params: SaeParams;
  private adamM: SaeParams;
  private adamV: SaeParams;
  private t = 0;
  private stepsSinceFired: Uint32Array;

  /**
   * @param shape sizes (validated); @param init starting parameters (copied)
   * @throws RangeError on a bad shape or parameter length.
   */
  constructor(shape: SaeShape, init: SaeParams) {
    assertSaeShape('CpuSaeEngine', shape);
    assertSaeParams('CpuSaeEngine', shape, init);
    this.shape = { ...shape };
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
    const p = this.params;
    const fwd = forwardCpu(x, B, p, this.shape);
    const { grads, fireCounts } = backwardCpu(x, fwd.indices, fwd.values, fwd.xHat, p, {
      rows: B,
      dModel: D,
      dSae: S,
      k,
    });
    projectDecoderGradCpu(grads.wDec, p.wDec, S, D);
    this.t += 1;
    const c = adamCoefficients(hyper, this.t);
    for (const key of ['wEnc', 'wDec', 'bEnc', 'bDec'] as const) {
      adamCpu(p[key], this.adamM[key], this.adamV[key], grads[key], c);
    }
    normalizeDecoderRowsCpu(p.wDec, S, D);
    return stepStatsCpu(x, fwd.rowStats, fireCounts, this.stepsSinceFired, hyper.deadWindowSteps, B, D);
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
      const fwd = forwardCpu(chunk, n, this.params, this.shape);
      addEvalRowSums(fwd.rowStats, n, sums);
      for (let i = 0; i < fwd.values.length; i++) {
        if (fwd.values[i] > 0) {
          fireCounts[fwd.indices[i]]++;
          l0Sum++;
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
    this.stepsSinceFired = state.stepsSinceFired.slice();
  }

  destroy(): void {}
}
