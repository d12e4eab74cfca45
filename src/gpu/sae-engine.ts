/**
 * GpuSaeEngine: a TopK SAE whose parameters, Adam moments, dead-latent counters and every intermediate live on
 * the GPU. One training step = one command encoder with one compute pass:
 *
 *   encoder → topk → decode → backward (pairs, buckets, latents, b_dec) → decoder_project → adam ×4
 *   → decoder_normalize → stats
 *
 * The batch is uploaded with queue.writeBuffer; the 8-word step sums are read back only when asked.
 * Math: Gao et al. 2024 §2.3 (seed 000_03f50111ba1a6c62.txt) and Gemma Scope §3.2 (seed 004_5e13fcf757174fc0.txt);
 * the CPU oracle is src/reference/sae-engine.ts (CpuSaeEngine), kernel for kernel.
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, k.
 * Determinism: no float atomics anywhere; every reduction has a fixed order, so the same seed and data give
 * the same curve on the same adapter.
 */
import { adamCoefficients } from '../reference/adam';
import { ROW_STATS } from '../reference/decode';
import { sumSquaredDeviation } from '../reference/stats';
import type { EvalStats, SaeEngine, SaeParams, SaeShape, SaeState, StepHyper, StepStats } from '../sae/types';
import {
  assertBatch,
  assertEvalRows,
  assertHyper,
  assertSaeParams,
  assertSaeShape,
  assertSaeState,
} from '../sae/validate';
import { type Gpu, GpuError } from './device';
import { type AdamKernel, createAdam } from './kernels/adam';
import { type BackwardKernel, createBackward } from './kernels/backward';
import { type Buckets, createBuckets } from './kernels/bucket';
import { fitsBinding } from './kernels/common';
import { createDecode, type DecodeKernel } from './kernels/decode';
import { createDecoderConstraint, type DecoderConstraintKernel } from './kernels/decoder-constraint';
import { createEncoder, type EncoderKernel } from './kernels/encoder';
import { createEvalReduce, EVAL_CHUNK_WORDS, type EvalReduceKernel } from './kernels/eval';
import { createStats, decodeStats, STATS_WORDS, type StatsKernel } from './kernels/stats';
import { createTopK, type TopKKernel } from './kernels/topk';

const PARAM_KEYS = ['wEnc', 'wDec', 'bEnc', 'bDec'] as const;
type ParamKey = (typeof PARAM_KEYS)[number];
type ParamBuffers = Record<ParamKey, GPUBuffer>;

/** The forward kernels for chunks of `rows` rows (evaluation). */
interface ForwardSet {
  encoder: EncoderKernel;
  topk: TopKKernel;
  decode: DecodeKernel;
  buckets: Buckets;
  reduce: EvalReduceKernel;
}

/** Element counts of the four parameter tensors. */
function paramSizes(shape: SaeShape): Record<ParamKey, number> {
  const { dModel: D, dSae: S } = shape;
  return { wEnc: D * S, wDec: S * D, bEnc: S, bDec: D };
}

/** The TopK SAE engine on WebGPU. Create with {@link GpuSaeEngine.create}. */
export class GpuSaeEngine implements SaeEngine {
  readonly shape: SaeShape;
  private readonly gpu: Gpu;
  private readonly params: ParamBuffers;
  private readonly adamM: ParamBuffers;
  private readonly adamV: ParamBuffers;
  private readonly grads: ParamBuffers;
  private readonly x: GPUBuffer;
  private readonly pre: GPUBuffer;
  private readonly indices: GPUBuffer;
  private readonly values: GPUBuffer;
  private readonly xHat: GPUBuffer;
  private readonly rowStats: GPUBuffer;
  private readonly stepsSinceFired: GPUBuffer;
  private readonly statsOut: GPUBuffer;
  private readonly encoder: EncoderKernel;
  private readonly topk: TopKKernel;
  private readonly decode: DecodeKernel;
  private readonly backward: BackwardKernel;
  private readonly constraint: DecoderConstraintKernel;
  private readonly adam: Record<ParamKey, AdamKernel>;
  private readonly stats: StatsKernel;
  private readonly forwardSets = new Map<number, ForwardSet>();
  private t = 0;
  private pendingError: string | null = null;
  private destroyed = false;

  private constructor(gpu: Gpu, shape: SaeShape, init: SaeParams) {
    this.gpu = gpu;
    this.shape = { ...shape };
    const { dModel: D, dSae: S, k, batchSize: B } = shape;
    const sizes = paramSizes(shape);
    const alloc = (prefix: string, from?: SaeParams): ParamBuffers => {
      const out = {} as ParamBuffers;
      for (const key of PARAM_KEYS) {
        out[key] = from
          ? gpu.storage(`sae:${prefix}.${key}`, from[key])
          : gpu.storage(`sae:${prefix}.${key}`, sizes[key] * 4);
      }
      return out;
    };
    this.params = alloc('param', init);
    this.adamM = alloc('adam_m');
    this.adamV = alloc('adam_v');
    this.grads = alloc('grad');
    this.x = gpu.storage('sae:x', B * D * 4);
    this.pre = gpu.storage('sae:pre', B * S * 4);
    this.indices = gpu.storage('sae:indices', B * k * 4);
    this.values = gpu.storage('sae:values', B * k * 4);
    this.xHat = gpu.storage('sae:x_hat', B * D * 4);
    this.rowStats = gpu.storage('sae:row_stats', B * ROW_STATS * 4);
    this.stepsSinceFired = gpu.storage('sae:steps_since_fired', S * 4);
    this.statsOut = gpu.storage('sae:stats', STATS_WORDS * 4);
    const fwd = { rows: B, dModel: D, dSae: S, k };
    this.encoder = createEncoder(gpu, fwd, 'sae:encoder');
    this.topk = createTopK(gpu, fwd, 'sae:topk');
    this.decode = createDecode(gpu, fwd, 'sae:decode');
    this.backward = createBackward(gpu, fwd, 'sae:backward');
    this.constraint = createDecoderConstraint(gpu, shape, 'sae:decoder-constraint');
    this.adam = {} as Record<ParamKey, AdamKernel>;
    for (const key of PARAM_KEYS) this.adam[key] = createAdam(gpu, sizes[key], `sae:adam.${key}`);
    this.stats = createStats(gpu, fwd, 'sae:stats');
  }

  /**
   * Allocate every buffer, upload `init` (copied), compile every pipeline.
   * @throws RangeError on a bad shape or parameter length; GpuError when a tensor exceeds a device limit
   *   (the message names it) or a pipeline fails validation.
   */
  static async create(gpu: Gpu, shape: SaeShape, init: SaeParams): Promise<GpuSaeEngine> {
    assertSaeShape('GpuSaeEngine', shape);
    assertSaeParams('GpuSaeEngine', shape, init);
    fitsBinding(gpu, 'GpuSaeEngine', 'pre-activations [batchSize, d_sae]', shape.batchSize * shape.dSae);
    gpu.device.pushErrorScope('validation');
    let engine: GpuSaeEngine | null = null;
    let thrown: unknown = null;
    try {
      engine = new GpuSaeEngine(gpu, shape, init);
    } catch (e) {
      thrown = e;
    }
    const err = await gpu.device.popErrorScope();
    if (thrown || err || !engine) {
      engine?.destroy();
      throw thrown ?? new GpuError(`GpuSaeEngine.create: ${err?.message ?? 'unknown error'}`);
    }
    return engine;
  }

  private assertUsable(who: string): void {
    if (this.destroyed) throw new GpuError(`${who}: the engine was destroyed`);
    if (this.pendingError)
      throw new GpuError(`${who}: an earlier step failed on the GPU: ${this.pendingError}`);
  }

  /** The step's dispatches in order, grouped into named stages (the bench times them one by one). */
  private stages(): [string, (pass: GPUComputePassEncoder) => void][] {
    const p = this.params;
    const g = this.grads;
    const io = { x: this.x, indices: this.indices, values: this.values, wDec: p.wDec, bDec: p.bDec };
    return [
      [
        'encoder',
        (pass) =>
          this.encoder.encode(pass, { x: this.x, wEnc: p.wEnc, bEnc: p.bEnc, bDec: p.bDec, pre: this.pre }),
      ],
      [
        'topk',
        (pass) => this.topk.encode(pass, { pre: this.pre, indices: this.indices, values: this.values }),
      ],
      ['decode', (pass) => this.decode.encode(pass, { ...io, xHat: this.xHat, rowStats: this.rowStats })],
      [
        'backward',
        (pass) =>
          this.backward.encode(pass, {
            ...io,
            xHat: this.xHat,
            wEnc: p.wEnc,
            gWenc: g.wEnc,
            gWdec: g.wDec,
            gBenc: g.bEnc,
            gBdec: g.bDec,
          }),
      ],
      [
        'decoder constraint + adam',
        (pass) => {
          this.constraint.encodeProject(pass, { wDec: p.wDec, gWdec: g.wDec });
          for (const key of PARAM_KEYS) {
            this.adam[key].encode(pass, {
              param: p[key],
              m: this.adamM[key],
              v: this.adamV[key],
              grad: g[key],
            });
          }
          this.constraint.encodeNormalize(pass, { wDec: p.wDec });
        },
      ],
      [
        'stats',
        (pass) =>
          this.stats.encode(pass, {
            x: this.x,
            rowStats: this.rowStats,
            fireCounts: this.backward.buckets.fireCounts,
            stepsSinceFired: this.stepsSinceFired,
            out: this.statsOut,
          }),
      ],
    ];
  }

  /** Upload the batch and write this step's uniforms; advances t. */
  private prepareStep(x: Float32Array, hyper: StepHyper): void {
    assertBatch('GpuSaeEngine.step', this.shape, x);
    assertHyper('GpuSaeEngine.step', hyper);
    const c = adamCoefficients(hyper, this.t + 1);
    this.t += 1;
    for (const key of PARAM_KEYS) this.adam[key].setCoefficients(c);
    this.stats.setDeadWindow(hyper.deadWindowSteps);
    this.gpu.write(this.x, x);
  }

  /**
   * For benchmarks: one real training step (it updates the state like {@link step}) with every stage submitted
   * and awaited on its own. @returns wall milliseconds per stage, in step order.
   */
  async timeStages(x: Float32Array, hyper: StepHyper): Promise<Record<string, number>> {
    this.assertUsable('GpuSaeEngine.timeStages');
    this.prepareStep(x, hyper);
    await this.gpu.device.queue.onSubmittedWorkDone();
    const out: Record<string, number> = {};
    for (const [name, record] of this.stages()) {
      const t0 = performance.now();
      await this.gpu.run(`sae:stage:${name}`, record);
      out[name] = performance.now() - t0;
    }
    return out;
  }

  /**
   * One training step on x [batchSize, d_model].
   * @param readStats when false, resolves to null without waiting for the GPU (steps queue up).
   * @throws RangeError on a bad batch or hyper-parameter; GpuError when the device reported an error.
   */
  async step(x: Float32Array, hyper: StepHyper, readStats = true): Promise<StepStats | null> {
    this.assertUsable('GpuSaeEngine.step');
    const gpu = this.gpu;
    this.prepareStep(x, hyper);
    gpu.device.pushErrorScope('validation');
    const enc = gpu.device.createCommandEncoder({ label: gpu.label('sae:step') });
    const pass = enc.beginComputePass({ label: gpu.label('sae:step:pass') });
    try {
      for (const [, record] of this.stages()) record(pass);
    } finally {
      pass.end();
    }
    gpu.device.queue.submit([enc.finish()]);
    const scope = gpu.device.popErrorScope();
    if (!readStats) {
      void scope.then((err) => {
        if (err) this.pendingError ??= err.message;
      });
      return null;
    }
    const err = await scope;
    if (err) throw new GpuError(`GpuSaeEngine.step: ${err.message}`);
    return decodeStats(await gpu.readU32(this.statsOut, STATS_WORDS), this.shape.batchSize);
  }

  /** Wait until every submitted step has finished on the GPU. */
  async flush(): Promise<void> {
    await this.gpu.device.queue.onSubmittedWorkDone();
    this.assertUsable('GpuSaeEngine.flush');
  }

  private forwardSet(rows: number): ForwardSet {
    let set = this.forwardSets.get(rows);
    if (!set) {
      const { dModel: D, dSae: S, k } = this.shape;
      const fwd = { rows, dModel: D, dSae: S, k };
      set = {
        encoder: createEncoder(this.gpu, fwd, `sae:eval${rows}:encoder`),
        topk: createTopK(this.gpu, fwd, `sae:eval${rows}:topk`),
        decode: createDecode(this.gpu, fwd, `sae:eval${rows}:decode`),
        buckets: createBuckets(this.gpu, fwd, `sae:eval${rows}:bucket`),
        reduce: createEvalReduce(this.gpu, fwd, `sae:eval${rows}:reduce`),
      };
      this.forwardSets.set(rows, set);
    }
    return set;
  }

  /**
   * Forward-only evaluation of x [rows, d_model] in chunks of batchSize rows (the last chunk may be shorter).
   * Per-token sums are reduced on the GPU per chunk and combined in float64; sst (about the mean of all
   * evaluated rows) depends on the data only and is computed on the CPU (two-pass, float64).
   */
  async evaluate(x: Float32Array, rows: number): Promise<EvalStats> {
    this.assertUsable('GpuSaeEngine.evaluate');
    assertEvalRows('GpuSaeEngine.evaluate', this.shape, x, rows);
    const gpu = this.gpu;
    const { dModel: D, dSae: S, batchSize: B } = this.shape;
    const chunks = Math.ceil(rows / B);
    const fireTotal = gpu.storage('sae:eval:fire_total', S * 4);
    const chunkSums = gpu.storage('sae:eval:chunk_sums', chunks * EVAL_CHUNK_WORDS * 4);
    const p = this.params;
    try {
      gpu.device.pushErrorScope('validation');
      for (let c = 0; c < chunks; c++) {
        const n = Math.min(B, rows - c * B);
        const set = this.forwardSet(n);
        gpu.write(this.x, x.subarray(c * B * D, (c * B + n) * D));
        set.reduce.setChunk(c);
        const enc = gpu.device.createCommandEncoder({ label: gpu.label('sae:eval') });
        const pass = enc.beginComputePass({ label: gpu.label('sae:eval:pass') });
        const io = { x: this.x, indices: this.indices, values: this.values };
        set.encoder.encode(pass, { x: this.x, wEnc: p.wEnc, bEnc: p.bEnc, bDec: p.bDec, pre: this.pre });
        set.topk.encode(pass, { pre: this.pre, indices: this.indices, values: this.values });
        set.decode.encode(pass, {
          ...io,
          wDec: p.wDec,
          bDec: p.bDec,
          xHat: this.xHat,
          rowStats: this.rowStats,
        });
        set.buckets.encodeCount(pass, io);
        set.reduce.encode(pass, {
          rowStats: this.rowStats,
          counts: set.buckets.counts,
          fireTotal,
          chunkSums,
        });
        pass.end();
        gpu.device.queue.submit([enc.finish()]);
      }
      const err = await gpu.device.popErrorScope();
      if (err) throw new GpuError(`GpuSaeEngine.evaluate: ${err.message}`);
      const sums = await gpu.readF32(chunkSums, chunks * EVAL_CHUNK_WORDS);
      const fireCounts = await gpu.readU32(fireTotal, S);
      let sse = 0;
      let cosSum = 0;
      let relErrSum = 0;
      for (let c = 0; c < chunks; c++) {
        sse += sums[c * EVAL_CHUNK_WORDS];
        cosSum += sums[c * EVAL_CHUNK_WORDS + 1];
        relErrSum += sums[c * EVAL_CHUNK_WORDS + 2];
      }
      let l0Sum = 0;
      for (const n of fireCounts) l0Sum += n;
      return {
        nTokens: rows,
        sse,
        sst: sumSquaredDeviation(x, rows, D),
        cosSum,
        relErrSum,
        l0Sum,
        fireCounts,
      };
    } finally {
      fireTotal.destroy();
      chunkSums.destroy();
      // Keep the full-batch forward set; a tail set is rarely reused.
      for (const [n, set] of this.forwardSets) {
        if (n !== B) {
          destroySet(set);
          this.forwardSets.delete(n);
        }
      }
    }
  }

  /** Copy out params, Adam moments, t and the steps-since-fired counters. */
  async getState(): Promise<SaeState> {
    this.assertUsable('GpuSaeEngine.getState');
    const sizes = paramSizes(this.shape);
    const read = async (bufs: ParamBuffers): Promise<SaeParams> => ({
      wEnc: await this.gpu.readF32(bufs.wEnc, sizes.wEnc),
      wDec: await this.gpu.readF32(bufs.wDec, sizes.wDec),
      bEnc: await this.gpu.readF32(bufs.bEnc, sizes.bEnc),
      bDec: await this.gpu.readF32(bufs.bDec, sizes.bDec),
    });
    return {
      params: await read(this.params),
      adamM: await read(this.adamM),
      adamV: await read(this.adamV),
      t: this.t,
      stepsSinceFired: await this.gpu.readU32(this.stepsSinceFired, this.shape.dSae),
    };
  }

  /** Replace the whole state. @throws RangeError on a shape mismatch (nothing is written then). */
  async setState(state: SaeState): Promise<void> {
    this.assertUsable('GpuSaeEngine.setState');
    assertSaeState('GpuSaeEngine.setState', this.shape, state);
    for (const key of PARAM_KEYS) {
      this.gpu.write(this.params[key], state.params[key]);
      this.gpu.write(this.adamM[key], state.adamM[key]);
      this.gpu.write(this.adamV[key], state.adamV[key]);
    }
    this.gpu.write(this.stepsSinceFired, state.stepsSinceFired);
    this.t = state.t;
    await this.gpu.device.queue.onSubmittedWorkDone();
  }

  /** Free every buffer and kernel. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const set of [this.params, this.adamM, this.adamV, this.grads]) {
      for (const key of PARAM_KEYS) set[key].destroy();
    }
    for (const b of [
      this.x,
      this.pre,
      this.indices,
      this.values,
      this.xHat,
      this.rowStats,
      this.stepsSinceFired,
      this.statsOut,
    ]) {
      b.destroy();
    }
    for (const k of [this.encoder, this.topk, this.decode, this.backward, this.constraint, this.stats])
      k.destroy();
    for (const key of PARAM_KEYS) this.adam[key].destroy();
    for (const set of this.forwardSets.values()) destroySet(set);
    this.forwardSets.clear();
  }
}

function destroySet(set: ForwardSet): void {
  set.encoder.destroy();
  set.topk.destroy();
  set.decode.destroy();
  set.buckets.destroy();
  set.reduce.destroy();
}
