/**
 * WasmCpuSaeEngine: the fast CPU engine. The same {@link SaeEngine} step as the oracle (src/reference/sae-engine.ts,
 * whose header gives the math) for every architecture, with the dense work on WebAssembly SIMD kernels
 * (src/cpu/assembly/kernels.ts): the encoder matmul, TopK, the sparse decode and backward, the dense-path matmuls,
 * Adam and the decoder constraint. Parameters, Adam moments and scratch live in the module's linear memory.
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, k. TopK (and BatchTopK when every token keeps ≤ 256 latents)
 * never forms a dense [B, S] latent matrix: decode and backward run over the [B, k] (row, slot) pairs, and ∂W_enc is
 * accumulated per fired latent as a row of ∂W_encᵀ [S, D], transposed once per step.
 *
 * Exactness: every kernel sums in the oracle's float32 order (SIMD across independent outputs only, no FMA), and the
 * cold parts (BatchTopK selection, activation backward, AuxK, ∂b_dec, step sums) call the oracle's own functions on
 * views of the wasm memory; so a step matches the oracle bit for bit (src/cpu/sae-engine.test.ts checks it over 50
 * steps at odd shapes). Threads (src/cpu/threads.ts) where SharedArrayBuffer and Atomics.wait are allowed (Node, a
 * Worker of a cross-origin-isolated page), split across independent outputs so the result is the same bit for bit;
 * single-threaded elsewhere.
 */

import type { BackwardMode, ForwardMode } from '../reference/activation';
import { activationBackwardCpu, activationCountCpu, activationForwardCpu } from '../reference/activation';
import { adamCoefficients } from '../reference/adam';
import { auxkCpu } from '../reference/auxk';
import { bdecGradCpu, lossGradScale, type SaeGrads } from '../reference/backward';
import {
  batchTopkCap,
  batchTopkCompactCpu,
  batchTopkCpu,
  batchTopkMaxRowCount,
  batchTopkThresholdUpdate,
} from '../reference/batchtopk';
import { ROW_STATS } from '../reference/decode';
import { denseRowsCpu } from '../reference/dense';
import { hasNonFiniteCpu, paramsNonFinite } from '../reference/nonfinite';
import { addEvalRowSums, sparsityLossOf } from '../reference/sae-engine';
import { stepStatsCpu, sumSquaredDeviation } from '../reference/stats';
import { cpuStepPath } from '../reference/step-paths';
import { thresholdAdamCpu } from '../reference/threshold';
import { resolveArch } from '../sae/arch';
import { archSpec, type StepPathSpec } from '../sae/archs';
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
} from '../sae/validate';
import { matryoshkaWasmStep } from './matryoshka-step';
import { WasmArena, type WasmArenaOptions } from './wasm';

/** How the CPU engine trains one architecture (derived from its registry step spec, never from its name). */
export interface CpuStepPath {
  /**
   * Training selection: per-row TopK, batch-level TopK (BatchTopK), an elementwise activation, or 'oracle': a step
   * path this engine does not accelerate, run through the oracle's step-path object (src/reference/step-paths.ts)
   * on views of the wasm memory (bit-identical to the oracle by construction); 'matryoshka': BatchTopK's selection
   * with the nested-prefix backward (src/cpu/matryoshka-step.ts).
   */
  selection: 'row-topk' | 'batch-topk' | 'activation' | 'matryoshka' | 'oracle';
  /** Elementwise activation of evaluation (and of training when selection = 'activation'). */
  forward: ForwardMode;
  /** Activation backward mode of the dense path. */
  backward: BackwardMode;
  /** The parameter set includes θ [d_sae]. */
  hasThreshold: boolean;
  /** θ is learned as log θ with Adam (JumpReLU). */
  learnsLogThreshold: boolean;
  /** θ is BatchTopK's running threshold (EMA of the smallest kept activation). */
  runningThreshold: boolean;
}

/** The registry step paths this engine runs on its own wasm kernels; any other runs through the oracle's. */
const WASM_SELECTION: Partial<Record<StepPathSpec['path'], CpuStepPath['selection']>> = {
  'sparse-topk': 'row-topk',
  'sparse-batchtopk': 'batch-topk',
  dense: 'activation',
  matryoshka: 'matryoshka',
};

/** The CPU engine's step path of a registry step spec (the same split as the oracle's). */
export function wasmStepPath(step: StepPathSpec): CpuStepPath {
  return {
    selection: WASM_SELECTION[step.path] ?? 'oracle',
    forward: step.forward,
    backward: step.backward,
    hasThreshold: step.threshold !== 'none',
    learnsLogThreshold: step.threshold === 'learned',
    runningThreshold: step.threshold === 'running',
  };
}

/** Byte offsets of one parameter set in the wasm memory. */
interface ParamPtrs {
  wEnc: number;
  wDec: number;
  bEnc: number;
  bDec: number;
  /** 0 when the architecture has no θ. */
  threshold: number;
}

const PARAM_KEYS = ['wEnc', 'wDec', 'bEnc', 'bDec'] as const;

/** The fast CPU SAE engine (every architecture). Create with {@link WasmCpuSaeEngine.create}. */
export class WasmCpuSaeEngine implements SaeEngine {
  readonly shape: SaeShape;
  /** The resolved architecture. */
  readonly arch: SaeArch;
  /** Its step path. */
  readonly path: CpuStepPath;
  private readonly a: WasmArena;
  private readonly p: ParamPtrs;
  private readonly m: ParamPtrs;
  private readonly v: ParamPtrs;
  private readonly g: ParamPtrs;
  private t = 0;
  /** Sticky non-finite flag (StepStats.nonFinite), as in the other engines; cleared by setState. */
  private nonFinite = false;
  private stepsSinceFired: Uint32Array;
  /** Scratch buffers by name: [pointer, elements]. */
  private readonly scratch = new Map<string, [number, number]>();

  private constructor(shape: SaeShape, arena: WasmArena) {
    this.shape = { ...shape };
    this.arch = resolveArch(shape);
    this.path = wasmStepPath(archSpec(this.arch.architecture).step);
    this.a = arena;
    const { dModel: D, dSae: S } = shape;
    const params = (): ParamPtrs => ({
      wEnc: arena.alloc(D * S),
      wDec: arena.alloc(S * D),
      bEnc: arena.alloc(S),
      bDec: arena.alloc(D),
      threshold: this.path.hasThreshold ? arena.alloc(S) : 0,
    });
    this.p = params();
    this.m = params();
    this.v = params();
    this.g = params();
    this.stepsSinceFired = new Uint32Array(S);
  }

  /**
   * @param shape sizes (validated); @param init starting parameters (copied)
   * @param options threads (default: as many as the context allows, src/cpu/threads.ts)
   * @throws RangeError on a bad shape or parameter length, or when the wasm memory cannot hold the model.
   */
  static async create(
    shape: SaeShape,
    init: SaeParams,
    options?: WasmArenaOptions,
  ): Promise<WasmCpuSaeEngine> {
    assertSaeShape('WasmCpuSaeEngine', shape);
    assertSaeParams('WasmCpuSaeEngine', shape, init);
    const engine = new WasmCpuSaeEngine(shape, await WasmArena.create(options));
    engine.writeParams(engine.p, init);
    return engine;
  }

  /** A scratch buffer of at least `count` elements (re-allocated only when a larger one is needed). */
  private buf(name: string, count: number): number {
    const have = this.scratch.get(name);
    if (have && have[1] >= count) return have[0];
    const ptr = this.a.alloc(count);
    this.scratch.set(name, [ptr, count]);
    return ptr;
  }

  private f32(ptr: number, count: number): Float32Array {
    return this.a.f32(ptr, count);
  }

  private views(ptrs: ParamPtrs): SaeParams {
    const { dModel: D, dSae: S } = this.shape;
    const out: SaeParams = {
      wEnc: this.f32(ptrs.wEnc, D * S),
      wDec: this.f32(ptrs.wDec, S * D),
      bEnc: this.f32(ptrs.bEnc, S),
      bDec: this.f32(ptrs.bDec, D),
    };
    if (ptrs.threshold) out.threshold = this.f32(ptrs.threshold, S);
    return out;
  }

  private writeParams(ptrs: ParamPtrs, src: SaeParams): void {
    const dst = this.views(ptrs);
    for (const key of PARAM_KEYS) dst[key].set(src[key]);
    if (dst.threshold && src.threshold) dst.threshold.set(src.threshold);
  }

  private readParams(ptrs: ParamPtrs): SaeParams {
    const v = this.views(ptrs);
    const out: SaeParams = {
      wEnc: v.wEnc.slice(),
      wDec: v.wDec.slice(),
      bEnc: v.bEnc.slice(),
      bDec: v.bDec.slice(),
    };
    if (v.threshold) out.threshold = v.threshold.slice();
    return out;
  }

  /** pre [rows, S] = (x − b_dec)·W_enc + b_enc on wasm; x and xc are filled. @returns the pointers */
  private encode(x: Float32Array, rows: number): { xPtr: number; xcPtr: number; prePtr: number } {
    const { dModel: D, dSae: S } = this.shape;
    const xPtr = this.buf('x', rows * D);
    const xcPtr = this.buf('xc', rows * D);
    const prePtr = this.buf('pre', rows * S);
    this.f32(xPtr, rows * D).set(x.subarray(0, rows * D));
    this.a.k.centre(xPtr, this.p.bDec, xcPtr, rows, D);
    this.a.k.matmul(xcPtr, this.p.wEnc, this.p.bEnc, prePtr, rows, S, D);
    return { xPtr, xcPtr, prePtr };
  }

  /**
   * Per-row sums Σ(x̂−x)², Σx², Σx̂², Σx·x̂ (float64 sums stored as f32, as src/reference/decode.ts).
   * @returns f32 [rows, 4]
   */
  private rowStats(xPtr: number, xHatPtr: number, rows: number): Float32Array {
    const D = this.shape.dModel;
    const x = this.f32(xPtr, rows * D);
    const xHat = this.f32(xHatPtr, rows * D);
    const out = new Float32Array(rows * ROW_STATS);
    const f = Math.fround;
    for (let r = 0; r < rows; r++) {
      let sse = 0;
      let xx = 0;
      let hh = 0;
      let xh = 0;
      for (let i = r * D; i < (r + 1) * D; i++) {
        const h = xHat[i];
        const xv = x[i];
        const e = f(h - xv);
        sse += e * e;
        xx += xv * xv;
        hh += h * h;
        xh += xv * h;
      }
      const o = r * ROW_STATS;
      out[o] = sse;
      out[o + 1] = xx;
      out[o + 2] = hh;
      out[o + 3] = xh;
    }
    return out;
  }

  /**
   * Sparse decode and backward over [rows, kk] (index, value) pairs already in idxPtr / valPtr. Writes ∂W_enc,
   * ∂W_dec, ∂b_enc into the gradient buffers. @returns x̂'s pointer, the fire counts and the row sums
   */
  private sparseStep(
    xPtr: number,
    xcPtr: number,
    idxPtr: number,
    valPtr: number,
    kk: number,
  ): { xHatPtr: number; fireCounts: Uint32Array; rowStats: Float32Array } {
    const { dModel: D, dSae: S, batchSize: B } = this.shape;
    const k = this.a.k;
    const xHatPtr = this.buf('xHat', B * D);
    k.decode(idxPtr, valPtr, this.p.wDec, this.p.bDec, xHatPtr, B, D, kk);
    const rowStats = this.rowStats(xPtr, xHatPtr, B);
    const diffPtr = this.buf('diff', B * D);
    k.sub(xHatPtr, xPtr, diffPtr, B * D);
    const gPrePtr = this.buf('gPre', B * kk);
    const firePtr = this.buf('fire', S);
    const gWencTPtr = this.buf('gWencT', S * D);
    this.a.u32(firePtr, S).fill(0);
    this.f32(gWencTPtr, S * D).fill(0);
    this.f32(this.g.wDec, S * D).fill(0);
    this.f32(this.g.bEnc, S).fill(0);
    const scale = lossGradScale(B, D);
    k.sparseGrad(diffPtr, this.p.wDec, idxPtr, valPtr, gPrePtr, B, D, kk, scale);
    k.sparseScatter(
      diffPtr,
      xcPtr,
      idxPtr,
      valPtr,
      gPrePtr,
      firePtr,
      this.g.wDec,
      gWencTPtr,
      this.g.bEnc,
      B,
      D,
      kk,
      0,
      D,
      1,
    );
    k.scale(this.g.wDec, scale, S * D);
    k.transpose(gWencTPtr, this.g.wEnc, S, D);
    return { xHatPtr, fireCounts: this.a.u32(firePtr, S).slice(), rowStats };
  }

  /** One training step on x [batchSize, d_model]; always returns the stats. */
  async step(x: Float32Array, hyper: StepHyper, _readStats = true): Promise<StepStats> {
    return this.stepSync(x, hyper);
  }

  /** Synchronous {@link step}. @throws RangeError on a bad batch or hyper-parameter. */
  stepSync(x: Float32Array, hyper: StepHyper): StepStats {
    assertBatch('WasmCpuSaeEngine.step', this.shape, x);
    assertHyper('WasmCpuSaeEngine.step', hyper);
    const { dModel: D, dSae: S, batchSize: B } = this.shape;
    const arch = this.arch;
    const path = this.path;
    const kern = this.a.k;
    const lambda = hyper.sparsityCoeff ?? 0;
    const oracle = path.selection === 'oracle' ? this.oracleStep(x, lambda) : null;
    const { xPtr, xcPtr, prePtr } = oracle ?? this.encode(x, B);
    let fireCounts: Uint32Array;
    let rowStats: Float32Array;
    let xHatPtr: number;
    let minKeptKey: number | undefined;
    let gLogThreshold: Float32Array | null = null;
    let sparsityLoss = 0;
    let sparse = false;
    let batchZ: Float32Array | null = null;
    let ownBdec = !!oracle;
    if (oracle) {
      ({ xHatPtr, fireCounts, rowStats, minKeptKey, gLogThreshold, sparsityLoss } = oracle);
    } else if (path.selection === 'matryoshka') {
      const ptrs = { x: xPtr, xc: xcPtr, pre: prePtr, params: this.p, grads: this.g };
      ({ xHatPtr, fireCounts, rowStats, minKeptKey } = matryoshkaWasmStep(
        this.a,
        this.buf.bind(this),
        this.shape,
        arch,
        ptrs,
      ));
      ownBdec = true;
    } else if (path.selection === 'row-topk') {
      const kk = this.shape.k;
      const idxPtr = this.buf('idx', B * kk);
      const valPtr = this.buf('val', B * kk);
      kern.topk(prePtr, B, S, kk, idxPtr, valPtr, this.buf('heap', 2 * kk * this.a.parts));
      ({ xHatPtr, fireCounts, rowStats } = this.sparseStep(xPtr, xcPtr, idxPtr, valPtr, kk));
      sparse = true;
    } else {
      if (path.selection === 'batch-topk') {
        const bt = batchTopkCpu(this.f32(prePtr, B * S), B, S, this.shape.k);
        minKeptKey = bt.minKeptKey;
        batchZ = bt.z;
        const cap = batchTopkCap(batchTopkMaxRowCount(bt.z, B, S), S);
        if (cap !== null) {
          const { indices, values } = batchTopkCompactCpu(bt.z, B, S, cap);
          const idxPtr = this.buf('idx', B * cap);
          const valPtr = this.buf('val', B * cap);
          this.a.u32(idxPtr, B * cap).set(indices);
          this.f32(valPtr, B * cap).set(values);
          ({ xHatPtr, fireCounts, rowStats } = this.sparseStep(xPtr, xcPtr, idxPtr, valPtr, cap));
          sparse = true;
        }
      }
      if (!sparse) {
        const dense = this.denseStep(xPtr, xcPtr, prePtr, batchZ, lambda);
        ({ xHatPtr, fireCounts, rowStats, gLogThreshold, sparsityLoss } = dense);
      }
    }
    // ∂b_dec (the TopK/BatchTopK/dense paths; the oracle's and Matryoshka's set their own), with W_enc before the update.
    const p = this.views(this.p);
    const grads: SaeGrads = this.views(this.g);
    const xv = this.f32(xPtr, B * D);
    const xHat = this.f32(xHatPtr!, B * D);
    if (!ownBdec) grads.bDec.set(bdecGradCpu(xv, xHat, p.wEnc, grads.bEnc, { rows: B, dModel: D, dSae: S }));
    let auxkLoss = 0;
    if (arch.auxk) {
      const aux = auxkCpu(
        { x: xv, xHat, pre: this.f32(prePtr, B * S), stepsSinceFired: this.stepsSinceFired, params: p },
        grads,
        {
          kAux: arch.kAux,
          alpha: arch.auxkAlpha,
          deadWindowSteps: hyper.auxkDeadWindowSteps ?? hyper.deadWindowSteps,
        },
        { rows: B, dModel: D, dSae: S },
      );
      auxkLoss = aux.loss;
    }
    kern.projectDecoderGrad(this.g.wDec, this.p.wDec, S, D);
    this.t += 1;
    const c = adamCoefficients(hyper, this.t);
    for (const key of PARAM_KEYS) {
      const n = key === 'wEnc' || key === 'wDec' ? D * S : key === 'bEnc' ? S : D;
      kern.adam(
        this.p[key],
        this.m[key],
        this.v[key],
        this.g[key],
        n,
        c.lr,
        c.beta1,
        c.oneMinusBeta1,
        c.beta2,
        c.oneMinusBeta2,
        c.eps,
        c.bc1,
        c.bc2,
      );
    }
    if (gLogThreshold && path.learnsLogThreshold) {
      const cTheta = adamCoefficients({ ...hyper, lr: hyper.lr * arch.thresholdLrScale }, this.t);
      thresholdAdamCpu(
        this.f32(this.p.threshold, S),
        this.f32(this.m.threshold, S),
        this.f32(this.v.threshold, S),
        gLogThreshold,
        cTheta,
      );
    }
    if (minKeptKey !== undefined && path.runningThreshold) {
      const theta = this.f32(this.p.threshold, S);
      theta.fill(batchTopkThresholdUpdate(theta[0], minKeptKey, arch.thresholdEmaRate, this.t));
    }
    kern.normalizeRows(this.p.wDec, S, D);
    const stats = stepStatsCpu(
      this.f32(xPtr, B * D),
      rowStats!,
      fireCounts!,
      this.stepsSinceFired,
      hyper.deadWindowSteps,
      B,
      D,
    );
    this.nonFinite ||= hasNonFiniteCpu(rowStats!) || paramsNonFinite(this.views(this.p));
    return { ...stats, auxkLoss, sparsityLoss, nonFinite: this.nonFinite };
  }

  /**
   * A step path this engine does not accelerate: the oracle's step-path object on views of the wasm memory. Its
   * gradients (∂b_dec included) go into the gradient buffers; x, pre (the wasm encoder's, handed to the path) and x̂
   * into the scratch the rest of the step reads. @returns the pointers and what the path returned
   */
  private oracleStep(
    x: Float32Array,
    lambda: number,
  ): {
    xPtr: number;
    xcPtr: number;
    prePtr: number;
    xHatPtr: number;
    fireCounts: Uint32Array;
    rowStats: Float32Array;
    minKeptKey: number | undefined;
    gLogThreshold: Float32Array | null;
    sparsityLoss: number;
  } {
    const { dModel: D, dSae: S, batchSize: B } = this.shape;
    // The wasm encoder gives the oracle's pre-activations bit for bit; the path may reuse them.
    const { xPtr, xcPtr, prePtr } = this.encode(x, B);
    const pre = this.f32(prePtr, B * S).slice();
    const out = cpuStepPath(this.arch).train(x, this.views(this.p), this.shape, this.arch, lambda, pre);
    const g = this.views(this.g);
    for (const key of PARAM_KEYS) g[key].set(out.grads[key]);
    const xHatPtr = this.buf('xHat', B * D);
    this.f32(prePtr, B * S).set(out.pre);
    this.f32(xHatPtr, B * D).set(out.xHat);
    return {
      xPtr,
      xcPtr,
      prePtr,
      xHatPtr,
      fireCounts: out.fireCounts,
      rowStats: out.rowStats,
      minKeptKey: out.minKeptKey,
      gLogThreshold: out.gLogThreshold,
      sparsityLoss: out.sparsityLoss,
    };
  }

  /**
   * The dense path (JumpReLU, ReLU, BatchTopK when a token keeps > 256 latents): every matmul on wasm, the
   * activation backward and its sparsity terms by the oracle's function. Fills the gradient buffers (∂b_dec later).
   * @param batchZ BatchTopK's latents from its selection (null: apply the elementwise activation)
   */
  private denseStep(
    xPtr: number,
    xcPtr: number,
    prePtr: number,
    batchZ: Float32Array | null,
    lambda: number,
  ): {
    xHatPtr: number;
    fireCounts: Uint32Array;
    rowStats: Float32Array;
    gLogThreshold: Float32Array | null;
    sparsityLoss: number;
  } {
    const { dModel: D, dSae: S, batchSize: B } = this.shape;
    const kern = this.a.k;
    const zPtr = this.buf('z', B * S);
    const xHatPtr = this.buf('xHat', B * D);
    const gzPtr = this.buf('gz', B * S);
    const zTPtr = this.buf('zT', S * B);
    const wDecTPtr = this.buf('wDecT', D * S);
    const gPtr = this.buf('g', B * D);
    const xcTPtr = this.buf('xcT', D * B);
    const gPreDensePtr = this.buf('gPreDense', B * S);
    const threshold = this.path.hasThreshold ? this.f32(this.p.threshold, S) : null;
    const z = batchZ ?? activationForwardCpu(this.f32(prePtr, B * S), threshold, this.path.forward, B, S);
    this.f32(zPtr, B * S).set(z);
    kern.matmul(zPtr, this.p.wDec, this.p.bDec, xHatPtr, B, D, S);
    const rows = denseRowsCpu(
      this.f32(xPtr, B * D),
      this.f32(xHatPtr, B * D),
      this.f32(this.p.bDec, D),
      lossGradScale(B, D),
      B,
      D,
    );
    this.f32(gPtr, B * D).set(rows.g);
    kern.transpose(this.p.wDec, wDecTPtr, S, D);
    kern.matmul(gPtr, wDecTPtr, 0, gzPtr, B, S, D); // ∂z = g·W_decᵀ
    kern.transpose(zPtr, zTPtr, B, S);
    kern.matmul(zTPtr, gPtr, 0, this.g.wDec, S, D, B); // ∂W_dec = zᵀ·g
    const act = activationBackwardCpu(
      {
        pre: this.f32(prePtr, B * S),
        z: this.f32(zPtr, B * S),
        gz: this.f32(gzPtr, B * S),
        threshold,
        wDec: this.f32(this.p.wDec, S * D),
        gWdec: this.f32(this.g.wDec, S * D),
      },
      this.path.backward,
      { lambdaScaled: lambda / (B * D), bandwidth: this.arch.bandwidth },
      { rows: B, dModel: D, dSae: S },
    );
    this.f32(gPreDensePtr, B * S).set(act.gPre);
    kern.transpose(xcPtr, xcTPtr, B, D);
    kern.matmul(xcTPtr, gPreDensePtr, 0, this.g.wEnc, D, S, B); // ∂W_enc = xcᵀ·∂pre
    this.f32(this.g.bEnc, S).set(act.gBenc);
    return {
      xHatPtr,
      fireCounts: act.fireCounts,
      rowStats: rows.rowStats,
      gLogThreshold: this.path.learnsLogThreshold ? act.gLogThreshold : null,
      sparsityLoss: sparsityLossOf(this.arch, lambda, act.fireCounts, act.zSum, act.decNorm, B),
    };
  }

  /**
   * Forward-only evaluation of x [rows, d_model], in chunks of batchSize rows: per-row TopK, or (every other step
   * path, those run through the oracle's included) the dense forward with the registry's evaluation activation
   * `spec.step.forward`, on wasm.
   */
  async evaluate(x: Float32Array, rows: number): Promise<EvalStats> {
    assertEvalRows('WasmCpuSaeEngine.evaluate', this.shape, x, rows);
    const { dModel: D, dSae: S, batchSize: B, k: kk } = this.shape;
    const kern = this.a.k;
    const sums = { sse: 0, cosSum: 0, relErrSum: 0 };
    const fireCounts = new Uint32Array(S);
    let l0Sum = 0;
    for (let r0 = 0; r0 < rows; r0 += B) {
      const n = Math.min(B, rows - r0);
      const chunk = x.subarray(r0 * D, (r0 + n) * D);
      const { xPtr, prePtr } = this.encode(chunk, n);
      const xHatPtr = this.buf('xHat', B * D);
      if (this.path.selection === 'row-topk') {
        const idxPtr = this.buf('idx', B * kk);
        const valPtr = this.buf('val', B * kk);
        kern.topk(prePtr, n, S, kk, idxPtr, valPtr, this.buf('heap', 2 * kk * this.a.parts));
        kern.decode(idxPtr, valPtr, this.p.wDec, this.p.bDec, xHatPtr, n, D, kk);
        addEvalRowSums(this.rowStats(xPtr, xHatPtr, n), n, sums);
        const idx = this.a.u32(idxPtr, n * kk);
        const val = this.f32(valPtr, n * kk);
        for (let i = 0; i < n * kk; i++) {
          if (val[i] > 0) {
            fireCounts[idx[i]]++;
            l0Sum++;
          }
        }
      } else {
        const threshold = this.path.hasThreshold ? this.f32(this.p.threshold, S) : null;
        const z = activationForwardCpu(this.f32(prePtr, n * S), threshold, this.path.forward, n, S);
        const zPtr = this.buf('z', B * S);
        this.f32(zPtr, n * S).set(z);
        kern.matmul(zPtr, this.p.wDec, this.p.bDec, xHatPtr, n, D, S);
        addEvalRowSums(this.rowStats(xPtr, xHatPtr, n), n, sums);
        const counts = activationCountCpu(z, n, S);
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
      params: this.readParams(this.p),
      adamM: this.readParams(this.m),
      adamV: this.readParams(this.v),
      t: this.t,
      stepsSinceFired: this.stepsSinceFired.slice(),
    };
  }

  async setState(state: SaeState): Promise<void> {
    assertSaeState('WasmCpuSaeEngine.setState', this.shape, state);
    this.writeParams(this.p, state.params);
    this.writeParams(this.m, state.adamM);
    this.writeParams(this.v, state.adamV);
    this.t = state.t;
    this.nonFinite = false;
    this.stepsSinceFired = state.stepsSinceFired.slice();
  }

  /** Threads the kernels run on (1: single-threaded). */
  get threads(): number {
    return this.a.threads;
  }

  /** Ends the thread pool's workers; the wasm memory is dropped with the engine. */
  destroy(): void {
    this.a.destroy();
  }
}
