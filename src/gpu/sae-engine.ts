/**
 * GpuSaeEngine: an SAE of any architecture (src/sae/types.ts) whose parameters, Adam moments, dead-latent counters
 * and every intermediate live on the GPU. This file is the coordinator; the forward and backward passes are the
 * step path's (src/gpu/step-path.ts, one module per path in src/gpu/step-paths/, picked by the registry's
 * `spec.step.path`). One training step = one compute pass (BatchTopK plans its buckets on the GPU; only the bench's
 * `batchTopkReadback` option reads back in the middle, in two passes):
 *
 *   path stages A (encoder, selection or activation) → [path plan readback] → path stages B (decode, backward,
 *   every gradient) → [AuxK (TopK, BatchTopK)] → decoder_project → adam ×4 → [path: adam on log θ] →
 *   decoder_normalize → stats → [arch_stats]
 *
 * Evaluation runs the path's forward (the same forward code as training) per chunk, then eval_reduce.
 * The batch is uploaded with queue.writeBuffer; the 8-word step sums are read back only when asked.
 * Math: Gao et al. 2024 §2.3 (seed 000_03f50111ba1a6c62.txt) and Gemma Scope §3.2 (seed 004_5e13fcf757174fc0.txt);
 * the CPU oracle is src/reference/sae-engine.ts (CpuSaeEngine), kernel for kernel.
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, k.
 * Determinism: no float atomics anywhere; every reduction has a fixed order, so the same seed and data give
 * the same curve on the same adapter.
 */

import { resolveArch } from '../sae/arch';
import { archSpec } from '../sae/archs';
import { adamCoefficients, sumSquaredDeviation } from '../sae/formulas';
import { ROW_STATS } from '../sae/kernel-types';
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
import { type Gpu, GpuError } from './device';
import { type AdamKernel, createAdam } from './kernels/adam';
import { type ArchStatsKernel, createArchStats } from './kernels/arch-stats';
import { type AuxkKernel, createAuxk } from './kernels/auxk';
import { fitsBinding } from './kernels/common';
import { createDecoderConstraint, type DecoderConstraintKernel } from './kernels/decoder-constraint';
import { createEvalReduce, EVAL_CHUNK_WORDS, type EvalReduceKernel } from './kernels/eval';
import { createNonFinite, type NonFiniteKernel } from './kernels/nonfinite';
import { createStats, decodeStats, NON_FINITE_WORD, STATS_WORDS, type StatsKernel } from './kernels/stats';
import { GpuResources } from './resources';
import {
  type GpuForward,
  type GpuStepBuffers,
  type GpuStepPath,
  PARAM_KEYS,
  type ParamBuffers,
  type ParamKey,
  type Stage,
} from './step-path';
import { GPU_STEP_PATHS } from './step-paths';

/** Slots of the stats ring (32 bytes each): recorded history steps read back in one go. */
export const STATS_RING_SLOTS = 64;

/** The evaluation forward of one chunk size and its reduction; owns its kernels and buffers. */
interface ForwardSet {
  res: GpuResources;
  forward: GpuForward;
  reduce: EvalReduceKernel;
}

/** Element counts of the four parameter tensors. */
function paramSizes(shape: SaeShape): Record<ParamKey, number> {
  const { dModel: D, dSae: S } = shape;
  return { wEnc: D * S, wDec: S * D, bEnc: S, bDec: D };
}

/** Options of {@link GpuSaeEngine.create} (defaults are what the lab uses). */
export interface GpuEngineOptions {
  /** BatchTopK: plan each step from a 4-byte readback (the former two-submission step; bench only). */
  batchTopkReadback?: boolean;
}

/** The SAE engine on WebGPU (every architecture). Create with {@link GpuSaeEngine.create}. */
export class GpuSaeEngine implements SaeEngine {
  readonly shape: SaeShape;
  /** The resolved architecture. */
  readonly arch: SaeArch;
  private readonly gpu: Gpu;
  /** Owns every buffer and kernel of the engine and its step path except the evaluation forward sets. */
  private readonly res: GpuResources;
  /** Parameters, gradients, θ and the batch buffers the step path works on. */
  private readonly bufs: GpuStepBuffers;
  private readonly adamM: ParamBuffers;
  private readonly adamV: ParamBuffers;
  /** The forward and backward passes of this architecture's step path. */
  private readonly path: GpuStepPath;
  private readonly stepsSinceFired: GPUBuffer;
  private readonly statsOut: GPUBuffer;
  /** The stats ring: {@link STATS_RING_SLOTS} copies of statsOut [slots, STATS_WORDS] u32, for batched readback. */
  private readonly statsRing: GPUBuffer;
  readonly statsRingSlots = STATS_RING_SLOTS;
  private readonly auxk: AuxkKernel | null;
  private readonly archStats: ArchStatsKernel | null;
  private readonly constraint: DecoderConstraintKernel;
  private readonly adam: Record<ParamKey, AdamKernel>;
  private readonly stats: StatsKernel;
  /** Scans of the row sums (loss) and of every parameter into the sticky non-finite word of statsOut. */
  private readonly nonFinite: { kernel: NonFiniteKernel; data: GPUBuffer }[];
  private readonly forwardSets = new Map<number, ForwardSet>();
  private t = 0;
  private pendingError: string | null = null;
  private destroyed = false;

  private constructor(gpu: Gpu, shape: SaeShape, init: SaeParams, options: GpuEngineOptions) {
    this.gpu = gpu;
    const res = new GpuResources(gpu);
    this.res = res;
    this.shape = { ...shape };
    const arch = resolveArch(shape);
    this.arch = arch;
    const { dModel: D, dSae: S, batchSize: B } = shape;
    const sizes = paramSizes(shape);
    const alloc = (prefix: string, from?: SaeParams): ParamBuffers => {
      const out = {} as ParamBuffers;
      for (const key of PARAM_KEYS) {
        out[key] = from
          ? res.storage(`sae:${prefix}.${key}`, from[key])
          : res.storage(`sae:${prefix}.${key}`, sizes[key] * 4);
      }
      return out;
    };
    const params = alloc('param', init);
    this.adamM = alloc('adam_m');
    this.adamV = alloc('adam_v');
    this.bufs = {
      params,
      grads: alloc('grad'),
      threshold: init.threshold
        ? {
            theta: res.storage('sae:param.threshold', init.threshold),
            m: res.storage('sae:adam_m.threshold', S * 4),
            v: res.storage('sae:adam_v.threshold', S * 4),
          }
        : null,
      x: res.storage('sae:x', B * D * 4),
      pre: res.storage('sae:pre', B * S * 4),
      xHat: res.storage('sae:x_hat', B * D * 4),
      rowStats: res.storage('sae:row_stats', B * ROW_STATS * 4),
    };
    this.stepsSinceFired = res.storage('sae:steps_since_fired', S * 4);
    this.statsOut = res.storage('sae:stats', STATS_WORDS * 4);
    this.statsRing = res.storage('sae:stats-ring', STATS_RING_SLOTS * STATS_WORDS * 4);
    const spec = archSpec(arch.architecture).step;
    this.path = GPU_STEP_PATHS[spec.path]({
      gpu,
      res,
      shape: this.shape,
      arch,
      spec,
      bufs: this.bufs,
      ...options,
    });
    this.auxk = arch.auxk
      ? res.own(createAuxk(gpu, { rows: B, dModel: D, dSae: S, kAux: arch.kAux }, arch.auxkAlpha, 'sae:auxk'))
      : null;
    const sparsity = spec.sparsity;
    this.archStats =
      sparsity !== 'none' || this.auxk
        ? res.own(createArchStats(gpu, { dSae: S, rows: B }, sparsity, this.auxk !== null, 'sae:arch-stats'))
        : null;
    this.constraint = res.own(createDecoderConstraint(gpu, shape, 'sae:decoder-constraint'));
    this.adam = {} as Record<ParamKey, AdamKernel>;
    for (const key of PARAM_KEYS) this.adam[key] = res.own(createAdam(gpu, sizes[key], `sae:adam.${key}`));
    this.stats = res.own(createStats(gpu, { rows: B, dModel: D, dSae: S }, 'sae:stats'));
    const th = this.bufs.threshold;
    const scanned: [string, GPUBuffer, number][] = [
      ['row_stats', this.bufs.rowStats, B * ROW_STATS],
      ...PARAM_KEYS.map((key): [string, GPUBuffer, number] => [key, params[key], sizes[key]]),
      ...(th ? [['threshold', th.theta, S] as [string, GPUBuffer, number]] : []),
    ];
    this.nonFinite = scanned.map(([name, data, n]) => ({
      kernel: res.own(createNonFinite(gpu, n, NON_FINITE_WORD, `sae:nonfinite.${name}`)),
      data,
    }));
  }

  /**
   * Allocate every buffer, upload `init` (copied), compile every pipeline.
   * @throws RangeError on a bad shape or parameter length (a missing θ for JumpReLU/BatchTopK); GpuError when a
   *   tensor exceeds a device limit (the message names it) or a pipeline fails validation.
   */
  static async create(
    gpu: Gpu,
    shape: SaeShape,
    init: SaeParams,
    options: GpuEngineOptions = {},
  ): Promise<GpuSaeEngine> {
    assertSaeShape('GpuSaeEngine', shape);
    assertSaeParams('GpuSaeEngine', shape, init);
    fitsBinding(gpu, 'GpuSaeEngine', 'pre-activations [batchSize, d_sae]', shape.batchSize * shape.dSae);
    gpu.device.pushErrorScope('validation');
    let engine: GpuSaeEngine | null = null;
    let thrown: unknown = null;
    try {
      engine = new GpuSaeEngine(gpu, shape, init, options);
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

  /** The stages after the step path's: AuxK, decoder constraint and Adam, stats. */
  private stagesC(): Stage[] {
    const b = this.bufs;
    const p = b.params;
    const g = b.grads;
    const out: Stage[] = [];
    const auxk = this.auxk;
    if (auxk) {
      out.push([
        'auxk',
        (pass) =>
          auxk.encode(pass, {
            x: b.x,
            xHat: b.xHat,
            pre: b.pre,
            stepsSinceFired: this.stepsSinceFired,
            wEnc: p.wEnc,
            wDec: p.wDec,
            bDec: p.bDec,
            gWenc: g.wEnc,
            gWdec: g.wDec,
            gBenc: g.bEnc,
            gBdec: g.bDec,
          }),
      ]);
    }
    out.push(
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
          this.path.encodeAfterAdam(pass);
          this.constraint.encodeNormalize(pass, { wDec: p.wDec });
        },
      ],
      [
        'stats',
        (pass) => {
          this.stats.encode(pass, {
            x: b.x,
            rowStats: b.rowStats,
            fireCounts: this.path.fireCounts(),
            stepsSinceFired: this.stepsSinceFired,
            out: this.statsOut,
          });
          this.archStats?.encode(pass, {
            col: this.path.col ?? b.rowStats,
            auxScalars: this.auxk?.scalars ?? b.rowStats,
            out: this.statsOut,
          });
          for (const nf of this.nonFinite) nf.kernel.encode(pass, { data: nf.data, flag: this.statsOut });
        },
      ],
    );
    return out;
  }

  /** Validate, upload the batch and write this step's uniforms; advances t. */
  private prepareStep(x: Float32Array, hyper: StepHyper): void {
    assertBatch('GpuSaeEngine.step', this.shape, x);
    this.prepareUniforms(hyper);
    this.gpu.write(this.bufs.x, x);
  }

  /** Validate the hyper-parameters and write this step's uniforms; advances t. */
  private prepareUniforms(hyper: StepHyper): void {
    assertHyper('GpuSaeEngine.step', hyper);
    const c = adamCoefficients(hyper, this.t + 1);
    this.t += 1;
    for (const key of PARAM_KEYS) this.adam[key].setCoefficients(c);
    this.stats.setDeadWindow(hyper.deadWindowSteps);
    const lambda = hyper.sparsityCoeff ?? 0;
    this.path.prepare(hyper, this.t, lambda);
    this.auxk?.setWindow(hyper.auxkDeadWindowSteps ?? hyper.deadWindowSteps);
    this.archStats?.setLambda(lambda);
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
    const time = async (stages: Stage[]) => {
      for (const [name, record] of stages) {
        const t0 = performance.now();
        await this.gpu.run(`sae:stage:${name}`, record);
        out[name] = performance.now() - t0;
      }
    };
    await time(this.path.stagesA());
    const t0 = performance.now();
    await this.path.plan?.();
    out['plan readback'] = performance.now() - t0;
    await time([...this.path.stagesB(), ...this.stagesC()]);
    return out;
  }

  /** Record `stages` into one compute pass and submit it. */
  private submit(label: string, stages: Stage[]): void {
    const gpu = this.gpu;
    const enc = gpu.device.createCommandEncoder({ label: gpu.label(label) });
    const pass = enc.beginComputePass({ label: gpu.label(`${label}:pass`) });
    try {
      for (const [, record] of stages) record(pass);
    } finally {
      pass.end();
    }
    gpu.device.queue.submit([enc.finish()]);
  }

  /**
   * One training step on x [batchSize, d_model], one submission. Only a path that plans the rest of the step from a
   * readback (BatchTopK with the bench's `batchTopkReadback` option) submits two passes, so its steps do not queue up.
   * @param readStats when false, resolves to null without waiting for the GPU (steps queue up).
   * @throws RangeError on a bad batch or hyper-parameter; GpuError when the device reported an error.
   */
  async step(x: Float32Array, hyper: StepHyper, readStats = true): Promise<StepStats | null> {
    this.assertUsable('GpuSaeEngine.step');
    const gpu = this.gpu;
    this.prepareStep(x, hyper);
    gpu.device.pushErrorScope('validation');
    let scope: Promise<GPUError | null>;
    try {
      const path = this.path;
      if (path.plan) {
        this.submit('sae:step-a', path.stagesA());
        await path.plan();
        this.submit('sae:step-b', [...path.stagesB(), ...this.stagesC()]);
      } else {
        this.submit('sae:step', [...path.stagesA(), ...path.stagesB(), ...this.stagesC()]);
      }
    } finally {
      scope = gpu.device.popErrorScope();
    }
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

  /**
   * Shared-input stepping (src/sweep/gpu-group.ts feeds one uploaded batch to several engines in one submission).
   * Step part 1: validate `hyper` and write this step's uniforms (advances t); no upload. Then encode the step with
   * {@link encodeSharedStep}. The result is the same step as {@link step} on the same batch, bit for bit (the batch
   * reaches this engine's x buffer by a device-side copy instead of writeBuffer).
   * @throws RangeError on a bad hyper-parameter; GpuError when the engine is unusable.
   */
  prepareSharedStep(hyper: StepHyper): void {
    this.assertUsable('GpuSaeEngine.prepareSharedStep');
    this.prepareUniforms(hyper);
  }

  /** The device context this engine runs on (a shared-input group's members must share it). */
  get gpuContext(): Gpu {
    return this.gpu;
  }

  /**
   * True when this engine's step path reads back between its two passes, so its step cannot be recorded into a
   * shared submission. False for every path the lab uses (BatchTopK plans on the GPU); true only with the bench's
   * `batchTopkReadback` option.
   */
  get needsPlan(): boolean {
    return this.path.plan !== undefined;
  }

  /**
   * Record a shared-input step into `enc`: copy `input` (f32 [B, D] from byte `offset`, the caller's uploaded batch,
   * which needs COPY_SRC) into this engine's x, then one compute pass of every stage. The caller submits `enc` and
   * owns the validation error scope.
   * @throws GpuError when the step path reads back mid-step ({@link needsPlan}): such an engine steps alone.
   */
  encodeSharedStep(enc: GPUCommandEncoder, input: GPUBuffer, offset = 0): void {
    const path = this.path;
    if (path.plan)
      throw new GpuError('GpuSaeEngine.encodeSharedStep: this step path reads back mid-step; step it alone');
    enc.copyBufferToBuffer(input, offset, this.bufs.x, 0, this.bufs.x.size);
    const pass = enc.beginComputePass({ label: this.gpu.label('sae:shared-step:pass') });
    try {
      for (const [, record] of [...path.stagesA(), ...path.stagesB(), ...this.stagesC()]) record(pass);
    } finally {
      pass.end();
    }
  }

  /** Read the last step's sums (the stats {@link step} returns). @throws GpuError when the engine is unusable. */
  async readStepStats(): Promise<StepStats> {
    this.assertUsable('GpuSaeEngine.readStepStats');
    return decodeStats(await this.gpu.readU32(this.statsOut, STATS_WORDS), this.shape.batchSize);
  }

  /**
   * Shared-input evaluation of `rows` rows in chunks of batchSize rows: the caller uploads the rows once (f32
   * [rows, D], COPY_SRC), calls `encodeChunk(enc, input, c)` for chunks c = 0, 1, … in order, submitting each
   * chunk's encoder before encoding the next (the chunk index is a uniform written by queue.writeBuffer), then
   * `finish(x)` with the same rows on the CPU (for sst). Gives the same EvalStats as {@link evaluate}.
   * @throws RangeError on a bad rows count (finish: on a bad x); GpuError on a device error.
   */
  openSharedEval(rows: number): {
    encodeChunk: (enc: GPUCommandEncoder, input: GPUBuffer, c: number) => void;
    finish: (x: Float32Array) => Promise<EvalStats>;
  } {
    this.assertUsable('GpuSaeEngine.openSharedEval');
    const gpu = this.gpu;
    const { dModel: D, dSae: S, batchSize: B } = this.shape;
    if (!Number.isInteger(rows) || rows < 1)
      throw new RangeError(`GpuSaeEngine.openSharedEval: bad rows ${rows}`);
    const chunks = Math.ceil(rows / B);
    const fireTotal = gpu.storage('sae:shared-eval:fire_total', S * 4);
    const chunkSums = gpu.storage('sae:shared-eval:chunk_sums', chunks * EVAL_CHUNK_WORDS * 4);
    const encodeChunk = (enc: GPUCommandEncoder, input: GPUBuffer, c: number): void => {
      const n = Math.min(B, rows - c * B);
      const set = this.forwardSet(n);
      enc.copyBufferToBuffer(input, c * B * D * 4, this.bufs.x, 0, n * D * 4);
      set.reduce.setChunk(c);
      const pass = enc.beginComputePass({ label: gpu.label('sae:shared-eval:pass') });
      try {
        for (const [, record] of set.forward.stages) record(pass);
        set.reduce.encode(pass, {
          rowStats: this.bufs.rowStats,
          counts: set.forward.counts,
          fireTotal,
          chunkSums,
        });
      } finally {
        pass.end();
      }
    };
    const finish = async (x: Float32Array): Promise<EvalStats> => {
      try {
        assertEvalRows('GpuSaeEngine.openSharedEval', this.shape, x, rows);
        return await this.reduceEval(x, rows, chunks, fireTotal, chunkSums);
      } finally {
        fireTotal.destroy();
        chunkSums.destroy();
        this.dropTailForwardSets();
      }
    };
    return { encodeChunk, finish };
  }

  /**
   * Queue a copy of the last step's sums (statsOut) into ring slot `slot`; the trainer calls it after the steps
   * whose metrics the history keeps and reads the ring with {@link readRecordedStats}.
   * @throws RangeError on a slot outside [0, statsRingSlots).
   */
  recordStats(slot: number): void {
    this.assertUsable('GpuSaeEngine.recordStats');
    if (!Number.isInteger(slot) || slot < 0 || slot >= STATS_RING_SLOTS)
      throw new RangeError(`GpuSaeEngine.recordStats: slot ${slot} outside [0, ${STATS_RING_SLOTS})`);
    const gpu = this.gpu;
    const enc = gpu.device.createCommandEncoder({ label: gpu.label('sae:stats-ring:copy') });
    const bytes = STATS_WORDS * 4;
    enc.copyBufferToBuffer(this.statsOut, 0, this.statsRing, slot * bytes, bytes);
    gpu.device.queue.submit([enc.finish()]);
  }

  /**
   * Read ring slots 0 … count−1 in one readback, as {@link StepStats} in slot order.
   * @throws RangeError on a bad count; GpuError when an earlier step failed on the GPU.
   */
  async readRecordedStats(count: number): Promise<StepStats[]> {
    this.assertUsable('GpuSaeEngine.readRecordedStats');
    if (!Number.isInteger(count) || count < 1 || count > STATS_RING_SLOTS)
      throw new RangeError(`GpuSaeEngine.readRecordedStats: count ${count} outside [1, ${STATS_RING_SLOTS}]`);
    const words = await this.gpu.readU32(this.statsRing, count * STATS_WORDS);
    this.assertUsable('GpuSaeEngine.readRecordedStats');
    const out: StepStats[] = [];
    for (let j = 0; j < count; j++)
      out.push(decodeStats(words.subarray(j * STATS_WORDS, (j + 1) * STATS_WORDS), this.shape.batchSize));
    return out;
  }

  /** Wait until every submitted step has finished on the GPU. */
  async flush(): Promise<void> {
    await this.gpu.device.queue.onSubmittedWorkDone();
    this.assertUsable('GpuSaeEngine.flush');
  }

  /** The evaluation forward set for chunks of `rows` rows (made once per size). */
  private forwardSet(rows: number): ForwardSet {
    let set = this.forwardSets.get(rows);
    if (!set) {
      const S = this.shape.dSae;
      const tag = `sae:eval${rows}`;
      const res = new GpuResources(this.gpu);
      set = {
        res,
        forward: this.path.createForward(rows, res, tag),
        reduce: res.own(createEvalReduce(this.gpu, { rows, dSae: S }, `${tag}:reduce`)),
      };
      this.forwardSets.set(rows, set);
    }
    return set;
  }

  /**
   * Forward-only evaluation of x [rows, d_model] in chunks of batchSize rows (the last chunk may be shorter), with
   * the step path's forward (BatchTopK evaluates as a JumpReLU with its running θ). Per-token sums are reduced on
   * the GPU per chunk and combined in float64; sst (about the mean of all evaluated rows) depends on the data only
   * and is computed on the CPU (two-pass, float64).
   */
  async evaluate(x: Float32Array, rows: number): Promise<EvalStats> {
    this.assertUsable('GpuSaeEngine.evaluate');
    assertEvalRows('GpuSaeEngine.evaluate', this.shape, x, rows);
    const gpu = this.gpu;
    const { dModel: D, dSae: S, batchSize: B } = this.shape;
    const chunks = Math.ceil(rows / B);
    const fireTotal = gpu.storage('sae:eval:fire_total', S * 4);
    const chunkSums = gpu.storage('sae:eval:chunk_sums', chunks * EVAL_CHUNK_WORDS * 4);
    try {
      gpu.device.pushErrorScope('validation');
      for (let c = 0; c < chunks; c++) {
        const n = Math.min(B, rows - c * B);
        const set = this.forwardSet(n);
        gpu.write(this.bufs.x, x.subarray(c * B * D, (c * B + n) * D));
        set.reduce.setChunk(c);
        const reduce: Stage = [
          'reduce',
          (pass) =>
            set.reduce.encode(pass, {
              rowStats: this.bufs.rowStats,
              counts: set.forward.counts,
              fireTotal,
              chunkSums,
            }),
        ];
        this.submit('sae:eval', [...set.forward.stages, reduce]);
      }
      const err = await gpu.device.popErrorScope();
      if (err) throw new GpuError(`GpuSaeEngine.evaluate: ${err.message}`);
      return await this.reduceEval(x, rows, chunks, fireTotal, chunkSums);
    } finally {
      fireTotal.destroy();
      chunkSums.destroy();
      this.dropTailForwardSets();
    }
  }

  /** Read the per-chunk sums and fire totals of an evaluation and combine them in float64 (sst on the CPU). */
  private async reduceEval(
    x: Float32Array,
    rows: number,
    chunks: number,
    fireTotal: GPUBuffer,
    chunkSums: GPUBuffer,
  ): Promise<EvalStats> {
    const sums = await this.gpu.readF32(chunkSums, chunks * EVAL_CHUNK_WORDS);
    const fireCounts = await this.gpu.readU32(fireTotal, this.shape.dSae);
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
      sst: sumSquaredDeviation(x, rows, this.shape.dModel),
      cosSum,
      relErrSum,
      l0Sum,
      fireCounts,
    };
  }

  /** Keep the full-batch forward set; a tail set is rarely reused. */
  private dropTailForwardSets(): void {
    for (const [n, set] of this.forwardSets) {
      if (n !== this.shape.batchSize) {
        set.res.destroy();
        this.forwardSets.delete(n);
      }
    }
  }

  async getState(): Promise<SaeState> {
    this.assertUsable('GpuSaeEngine.getState');
    const sizes = paramSizes(this.shape);
    const S = this.shape.dSae;
    const read = async (bufs: ParamBuffers, theta: GPUBuffer | undefined): Promise<SaeParams> => {
      const out: SaeParams = {
        wEnc: await this.gpu.readF32(bufs.wEnc, sizes.wEnc),
        wDec: await this.gpu.readF32(bufs.wDec, sizes.wDec),
        bEnc: await this.gpu.readF32(bufs.bEnc, sizes.bEnc),
        bDec: await this.gpu.readF32(bufs.bDec, sizes.bDec),
      };
      if (theta) out.threshold = await this.gpu.readF32(theta, S);
      return out;
    };
    const th = this.bufs.threshold;
    return {
      params: await read(this.bufs.params, th?.theta),
      adamM: await read(this.adamM, th?.m),
      adamV: await read(this.adamV, th?.v),
      t: this.t,
      stepsSinceFired: await this.gpu.readU32(this.stepsSinceFired, S),
    };
  }

  /** Replace the whole state. @throws RangeError on a shape mismatch (nothing is written then). */
  async setState(state: SaeState): Promise<void> {
    this.assertUsable('GpuSaeEngine.setState');
    assertSaeState('GpuSaeEngine.setState', this.shape, state);
    for (const key of PARAM_KEYS) {
      this.gpu.write(this.bufs.params[key], state.params[key]);
      this.gpu.write(this.adamM[key], state.adamM[key]);
      this.gpu.write(this.adamV[key], state.adamV[key]);
    }
    const th = this.bufs.threshold;
    if (th && state.params.threshold && state.adamM.threshold && state.adamV.threshold) {
      this.gpu.write(th.theta, state.params.threshold);
      this.gpu.write(th.m, state.adamM.threshold);
      this.gpu.write(th.v, state.adamV.threshold);
    }
    this.gpu.write(this.stepsSinceFired, state.stepsSinceFired);
    // A resumed state starts with a clear non-finite flag.
    this.gpu.write(this.statsOut, new Uint32Array(1), NON_FINITE_WORD * 4);
    this.t = state.t;
    await this.gpu.device.queue.onSubmittedWorkDone();
  }

  /** Free every buffer and kernel (the resource set owns them). Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.res.destroy();
    for (const set of this.forwardSets.values()) set.res.destroy();
    this.forwardSets.clear();
  }
}
