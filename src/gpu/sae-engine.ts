/**
 * GpuSaeEngine: an SAE of any architecture (src/sae/types.ts) whose parameters, Adam moments, dead-latent counters
 * and every intermediate live on the GPU. One training step = one command encoder with one compute pass:
 *
 *   TopK (sparse path): encoder → topk → decode → backward (pairs, buckets, latents, b_dec)
 *   BatchTopK: encoder → batchtopk select (global radix select) + running θ + count; the fullest row's count is
 *     read back (one word) and picks k_cap ∈ {16, …, 256}: batchtopk_compact → the TopK decode and backward with
 *     k = k_cap (a second submission); a batch where one token keeps more than 256 latents takes the dense path.
 *   JumpReLU, ReLU (and that BatchTopK fallback; dense path, src/reference/dense.ts): activation_forward →
 *     matmul x̂ = z·W_dec + b_dec → dense_rows (row sums, g, xc) → matmul ∂z = g·W_decᵀ →
 *     matmul ∂W_dec = zᵀg → activation_backward (∂pre, ∂b_enc, L1 term, STE for log θ) → matmul ∂W_enc = xcᵀ∂pre
 *     → bdec_grad
 *   then, for every architecture: [AuxK (TopK, BatchTopK)] → decoder_project → adam ×4 → [adam on log θ
 *   (JumpReLU)] → decoder_normalize → stats → [arch_stats]
 *
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
import {
  adamCoefficients,
  batchTopkCap,
  lossGradScale,
  MAX_COMPACT_K,
  sumSquaredDeviation,
} from '../sae/formulas';
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
import { type ActivationKernel, COL_PLANES, createActivation } from './kernels/activation';
import { type AdamKernel, createAdam } from './kernels/adam';
import { type ArchStatsKernel, createArchStats } from './kernels/arch-stats';
import { type AuxkKernel, createAuxk } from './kernels/auxk';
import { type BackwardKernel, type BdecGradKernel, createBackward, createBdecGrad } from './kernels/backward';
import { type BatchTopKKernel, createBatchTopK } from './kernels/batchtopk';
import { type Buckets, createBuckets } from './kernels/bucket';
import { fitsBinding } from './kernels/common';
import { createDecode, type DecodeKernel } from './kernels/decode';
import { createDecoderConstraint, type DecoderConstraintKernel } from './kernels/decoder-constraint';
import { createDenseRows, type DenseRowsKernel } from './kernels/dense-rows';
import { createEncoder, type EncoderKernel } from './kernels/encoder';
import { createEvalReduce, EVAL_CHUNK_WORDS, type EvalReduceKernel } from './kernels/eval';
import { createMatmul, type MatmulKernel } from './kernels/matmul';
import { createNonFinite, type NonFiniteKernel } from './kernels/nonfinite';
import { createStats, decodeStats, NON_FINITE_WORD, STATS_WORDS, type StatsKernel } from './kernels/stats';
import { createThresholdAdam, type ThresholdAdamKernel } from './kernels/threshold';
import { createTopK, type TopKKernel } from './kernels/topk';
import { GpuResources } from './resources';

const PARAM_KEYS = ['wEnc', 'wDec', 'bEnc', 'bDec'] as const;

/** Slots of the stats ring (32 bytes each): recorded history steps read back in one go. */
export const STATS_RING_SLOTS = 64;
type ParamKey = (typeof PARAM_KEYS)[number];
type ParamBuffers = Record<ParamKey, GPUBuffer>;

/** The sparse (TopK) forward kernels for chunks of `rows` rows (evaluation). */
interface SparseForwardSet {
  kind: 'sparse';
  /** Owns the set's kernels and buffers. */
  res: GpuResources;
  encoder: EncoderKernel;
  topk: TopKKernel;
  decode: DecodeKernel;
  buckets: Buckets;
  reduce: EvalReduceKernel;
}

/** The dense forward kernels for chunks of `rows` rows (evaluation; BatchTopK evaluates as JumpReLU). */
interface DenseForwardSet {
  kind: 'dense';
  /** Owns the set's kernels and buffers. */
  res: GpuResources;
  encoder: EncoderKernel;
  activation: ActivationKernel;
  decode: MatmulKernel;
  rows: DenseRowsKernel;
  /** u32 [S] per-chunk counts (activation_count), zeroed by eval_reduce. */
  counts: GPUBuffer;
  reduce: EvalReduceKernel;
}

type ForwardSet = SparseForwardSet | DenseForwardSet;

/** Kernels and buffers of the TopK training step. */
interface SparsePath {
  indices: GPUBuffer;
  values: GPUBuffer;
  topk: TopKKernel;
  decode: DecodeKernel;
  backward: BackwardKernel;
}

/** Kernels and buffers of the dense training step (BatchTopK, JumpReLU, ReLU). */
interface DensePath {
  /** f32 [B, S] latents. */
  z: GPUBuffer;
  /** f32 [B, S]: ∂z, then ∂pre. */
  grad: GPUBuffer;
  /** f32 [B, D]: g = scale·(x̂ − x) and xc = x − b_dec. */
  g: GPUBuffer;
  xc: GPUBuffer;
  /** u32 [4·S]: fire counts | Σz | ‖W_dec‖ | ∂log θ. */
  col: GPUBuffer;
  batchtopk: BatchTopKKernel | null;
  activation: ActivationKernel;
  rows: DenseRowsKernel;
  mmDecode: MatmulKernel;
  mmGradZ: MatmulKernel;
  mmGradWdec: MatmulKernel;
  mmGradWenc: MatmulKernel;
  bdec: BdecGradKernel;
  thresholdAdam: ThresholdAdamKernel | null;
}

/** A named group of dispatches of a step (the bench times them one by one). */
type Stage = [string, (pass: GPUComputePassEncoder) => void];

/** The sparse decode and backward kernels for one row width k (TopK's k, or a BatchTopK k_cap bucket). */
interface SparseKernels {
  decode: DecodeKernel;
  backward: BackwardKernel;
}

/** How the second half of a step runs. */
type Plan =
  | ({ kind: 'sparse'; compact: boolean; indices: GPUBuffer; values: GPUBuffer } & SparseKernels)
  | { kind: 'dense' };

/** Element counts of the four parameter tensors. */
function paramSizes(shape: SaeShape): Record<ParamKey, number> {
  const { dModel: D, dSae: S } = shape;
  return { wEnc: D * S, wDec: S * D, bEnc: S, bDec: D };
}

/** The SAE engine on WebGPU (every architecture). Create with {@link GpuSaeEngine.create}. */
export class GpuSaeEngine implements SaeEngine {
  readonly shape: SaeShape;
  /** The resolved architecture. */
  readonly arch: SaeArch;
  private readonly gpu: Gpu;
  /** Owns every buffer and kernel of the engine except the evaluation forward sets (each has its own). */
  private readonly res: GpuResources;
  private readonly params: ParamBuffers;
  private readonly adamM: ParamBuffers;
  private readonly adamV: ParamBuffers;
  private readonly grads: ParamBuffers;
  /** θ [S] and the Adam moments of log θ [S] (JumpReLU, BatchTopK; moments unused by BatchTopK). */
  private readonly threshold: { theta: GPUBuffer; m: GPUBuffer; v: GPUBuffer } | null;
  private readonly x: GPUBuffer;
  private readonly pre: GPUBuffer;
  private readonly xHat: GPUBuffer;
  private readonly rowStats: GPUBuffer;
  private readonly stepsSinceFired: GPUBuffer;
  private readonly statsOut: GPUBuffer;
  /** The stats ring: {@link STATS_RING_SLOTS} copies of statsOut [slots, STATS_WORDS] u32, for batched readback. */
  private readonly statsRing: GPUBuffer;
  readonly statsRingSlots = STATS_RING_SLOTS;
  private readonly encoder: EncoderKernel;
  private readonly sparse: SparsePath | null;
  private readonly dense: DensePath | null;
  private readonly auxk: AuxkKernel | null;
  private readonly archStats: ArchStatsKernel | null;
  private readonly constraint: DecoderConstraintKernel;
  private readonly adam: Record<ParamKey, AdamKernel>;
  private readonly stats: StatsKernel;
  /** Scans of the row sums (loss) and of every parameter into the sticky non-finite word of statsOut. */
  private readonly nonFinite: { kernel: NonFiniteKernel; data: GPUBuffer }[];
  private readonly forwardSets = new Map<number, ForwardSet>();
  /** BatchTopK: the compacted (index, value) rows [B, min(S, 256)] and the sparse kernels per k_cap bucket. */
  private readonly compactBuffers: { indices: GPUBuffer; values: GPUBuffer } | null;
  private readonly compactSets = new Map<number, SparseKernels>();
  private t = 0;
  private pendingError: string | null = null;
  private destroyed = false;

  private constructor(gpu: Gpu, shape: SaeShape, init: SaeParams) {
    this.gpu = gpu;
    const res = new GpuResources(gpu);
    this.res = res;
    this.shape = { ...shape };
    const arch = resolveArch(shape);
    this.arch = arch;
    const { dModel: D, dSae: S, k, batchSize: B } = shape;
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
    this.params = alloc('param', init);
    this.adamM = alloc('adam_m');
    this.adamV = alloc('adam_v');
    this.grads = alloc('grad');
    this.threshold = init.threshold
      ? {
          theta: res.storage('sae:param.threshold', init.threshold),
          m: res.storage('sae:adam_m.threshold', S * 4),
          v: res.storage('sae:adam_v.threshold', S * 4),
        }
      : null;
    this.x = res.storage('sae:x', B * D * 4);
    this.pre = res.storage('sae:pre', B * S * 4);
    this.xHat = res.storage('sae:x_hat', B * D * 4);
    this.rowStats = res.storage('sae:row_stats', B * ROW_STATS * 4);
    this.stepsSinceFired = res.storage('sae:steps_since_fired', S * 4);
    this.statsOut = res.storage('sae:stats', STATS_WORDS * 4);
    this.statsRing = res.storage('sae:stats-ring', STATS_RING_SLOTS * STATS_WORDS * 4);
    const fwd = { rows: B, dModel: D, dSae: S, k };
    this.encoder = res.own(createEncoder(gpu, fwd, 'sae:encoder'));
    const step = archSpec(arch.architecture).step;
    if (step.path === 'sparse-topk') {
      this.sparse = {
        indices: res.storage('sae:indices', B * k * 4),
        values: res.storage('sae:values', B * k * 4),
        topk: res.own(createTopK(gpu, fwd, 'sae:topk')),
        decode: res.own(createDecode(gpu, fwd, 'sae:decode')),
        backward: res.own(createBackward(gpu, fwd, 'sae:backward')),
      };
      this.dense = null;
    } else {
      const activation = res.own(createActivation(gpu, { rows: B, dSae: S, dModel: D }, 'sae:activation'));
      activation.setForward(step.forward);
      this.dense = {
        z: res.storage('sae:z', B * S * 4),
        grad: res.storage('sae:grad_z', B * S * 4),
        g: res.storage('sae:g', B * D * 4),
        xc: res.storage('sae:xc', B * D * 4),
        col: res.storage('sae:col', COL_PLANES * S * 4),
        batchtopk:
          step.path === 'sparse-batchtopk'
            ? res.own(createBatchTopK(gpu, { rows: B, dSae: S, k }, 'sae:batchtopk'))
            : null,
        activation,
        rows: res.own(createDenseRows(gpu, { rows: B, dModel: D }, lossGradScale(B, D), 'sae:dense-rows')),
        mmDecode: res.own(createMatmul(gpu, { M: B, N: D, K: S }, 'sae:mm-decode')),
        mmGradZ: res.own(createMatmul(gpu, { M: B, N: S, K: D, transB: true }, 'sae:mm-grad-z')),
        mmGradWdec: res.own(createMatmul(gpu, { M: S, N: D, K: B, transA: true }, 'sae:mm-grad-w-dec')),
        mmGradWenc: res.own(createMatmul(gpu, { M: D, N: S, K: B, transA: true }, 'sae:mm-grad-w-enc')),
        bdec: res.own(createBdecGrad(gpu, fwd, 'sae:bdec-grad')),
        thresholdAdam:
          step.threshold === 'learned' ? res.own(createThresholdAdam(gpu, S, 'sae:threshold-adam')) : null,
      };
      this.sparse = null;
    }
    const capMax = Math.min(S, MAX_COMPACT_K);
    this.compactBuffers =
      step.path === 'sparse-batchtopk'
        ? {
            indices: res.storage('sae:compact:indices', B * capMax * 4),
            values: res.storage('sae:compact:values', B * capMax * 4),
          }
        : null;
    this.auxk = arch.auxk
      ? res.own(createAuxk(gpu, { rows: B, dModel: D, dSae: S, kAux: arch.kAux }, arch.auxkAlpha, 'sae:auxk'))
      : null;
    const sparsity = step.sparsity;
    this.archStats =
      sparsity !== 'none' || this.auxk
        ? res.own(createArchStats(gpu, { dSae: S, rows: B }, sparsity, this.auxk !== null, 'sae:arch-stats'))
        : null;
    this.constraint = res.own(createDecoderConstraint(gpu, shape, 'sae:decoder-constraint'));
    this.adam = {} as Record<ParamKey, AdamKernel>;
    for (const key of PARAM_KEYS) this.adam[key] = res.own(createAdam(gpu, sizes[key], `sae:adam.${key}`));
    this.stats = res.own(createStats(gpu, fwd, 'sae:stats'));
    const scanned: [string, GPUBuffer, number][] = [
      ['row_stats', this.rowStats, B * ROW_STATS],
      ...PARAM_KEYS.map((key): [string, GPUBuffer, number] => [key, this.params[key], sizes[key]]),
      ...(this.threshold ? [['threshold', this.threshold.theta, S] as [string, GPUBuffer, number]] : []),
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

  /**
   * The first stages of a step: the encoder and the activation (TopK; BatchTopK selection, running θ and the
   * fullest row's count; or the dense JumpReLU / ReLU activation). BatchTopK reads the count back before the rest.
   */
  private stagesA(): Stage[] {
    const p = this.params;
    const out: Stage[] = [
      [
        'encoder',
        (pass) =>
          this.encoder.encode(pass, { x: this.x, wEnc: p.wEnc, bEnc: p.bEnc, bDec: p.bDec, pre: this.pre }),
      ],
    ];
    const sp = this.sparse;
    if (sp) {
      out.push([
        'topk',
        (pass) => sp.topk.encode(pass, { pre: this.pre, indices: sp.indices, values: sp.values }),
      ]);
    } else {
      const d = this.dense as DensePath;
      out.push(['activation', (pass) => this.recordDenseActivation(pass, d)]);
    }
    return out;
  }

  /** The rest of a step for a plan: decode and backward (sparse or dense), AuxK, Adam and constraint, stats. */
  private stagesB(plan: Plan): Stage[] {
    const p = this.params;
    const g = this.grads;
    const out: Stage[] = [];
    let fireCounts: GPUBuffer;
    if (plan.kind === 'sparse') {
      const io = { x: this.x, indices: plan.indices, values: plan.values, wDec: p.wDec, bDec: p.bDec };
      const bt = this.dense?.batchtopk;
      if (plan.compact && bt && this.dense && this.threshold) {
        const bufs = {
          pre: this.pre,
          z: this.dense.z,
          threshold: this.threshold.theta,
          indices: plan.indices,
          values: plan.values,
        };
        out.push(['compact', (pass) => bt.encodeCompact(pass, bufs)]);
      }
      out.push(
        ['decode', (pass) => plan.decode.encode(pass, { ...io, xHat: this.xHat, rowStats: this.rowStats })],
        [
          'backward',
          (pass) =>
            plan.backward.encode(pass, {
              ...io,
              xHat: this.xHat,
              wEnc: p.wEnc,
              gWenc: g.wEnc,
              gWdec: g.wDec,
              gBenc: g.bEnc,
              gBdec: g.bDec,
            }),
        ],
      );
      fireCounts = plan.backward.buckets.fireCounts;
    } else {
      const d = this.dense as DensePath;
      out.push(
        ['decode', (pass) => this.recordDenseDecode(pass, d)],
        ['backward', (pass) => this.recordDenseBackward(pass, d)],
      );
      fireCounts = d.col;
    }
    const auxk = this.auxk;
    if (auxk) {
      out.push([
        'auxk',
        (pass) =>
          auxk.encode(pass, {
            x: this.x,
            xHat: this.xHat,
            pre: this.pre,
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
          const ta = this.dense?.thresholdAdam;
          if (ta && this.threshold && this.dense) {
            const th = this.threshold;
            ta.encode(pass, { theta: th.theta, m: th.m, v: th.v, col: this.dense.col });
          }
          this.constraint.encodeNormalize(pass, { wDec: p.wDec });
        },
      ],
      [
        'stats',
        (pass) => {
          this.stats.encode(pass, {
            x: this.x,
            rowStats: this.rowStats,
            fireCounts,
            stepsSinceFired: this.stepsSinceFired,
            out: this.statsOut,
          });
          this.archStats?.encode(pass, {
            col: this.dense?.col ?? this.rowStats,
            auxScalars: this.auxk?.scalars ?? this.rowStats,
            out: this.statsOut,
          });
          for (const nf of this.nonFinite) nf.kernel.encode(pass, { data: nf.data, flag: this.statsOut });
        },
      ],
    );
    return out;
  }

  /** The plan of a step whose first stages need no readback (every architecture but BatchTopK). */
  private fixedPlan(): Plan {
    const sp = this.sparse;
    if (sp) return { kind: 'sparse', compact: false, ...sp };
    return { kind: 'dense' };
  }

  /**
   * BatchTopK, after stage A was submitted: read the fullest row's count and pick the sparse kernels of the
   * smallest k_cap bucket that holds it (src/reference/batchtopk.ts batchTopkCap), or the dense path when a
   * token keeps more than 256 latents.
   */
  private async batchTopkPlan(): Promise<Plan> {
    const d = this.dense as DensePath;
    const bt = d.batchtopk as BatchTopKKernel;
    const maxCount = (await this.gpu.readU32(bt.state, 1, 4))[0];
    const cap = batchTopkCap(maxCount, this.shape.dSae);
    if (cap === null) return { kind: 'dense' };
    let set = this.compactSets.get(cap);
    if (!set) {
      const { dModel: D, dSae: S, batchSize: B } = this.shape;
      const fwd = { rows: B, dModel: D, dSae: S, k: cap };
      set = {
        decode: this.res.own(createDecode(this.gpu, fwd, `sae:compact${cap}:decode`)),
        backward: this.res.own(createBackward(this.gpu, fwd, `sae:compact${cap}:backward`)),
      };
      this.compactSets.set(cap, set);
    }
    bt.setCompactCap(cap);
    const buf = this.compactBuffers as { indices: GPUBuffer; values: GPUBuffer };
    return { kind: 'sparse', compact: true, indices: buf.indices, values: buf.values, ...set };
  }

  /** Dense path: BatchTopK selection and running θ, or the JumpReLU / ReLU activation. */
  private recordDenseActivation(pass: GPUComputePassEncoder, d: DensePath): void {
    const theta = this.threshold?.theta ?? null;
    const c = this.compactBuffers;
    if (d.batchtopk && theta && c) {
      const bufs = { pre: this.pre, z: d.z, threshold: theta, indices: c.indices, values: c.values };
      d.batchtopk.encodeSelect(pass, bufs);
      d.batchtopk.encodeThreshold(pass, bufs);
      d.batchtopk.encodeCount(pass, bufs);
    } else {
      d.activation.encodeForward(pass, { pre: this.pre, threshold: theta, z: d.z });
    }
  }

  /** Dense path: x̂ = z·W_dec + b_dec, then row sums, g and xc. */
  private recordDenseDecode(pass: GPUComputePassEncoder, d: DensePath): void {
    const p = this.params;
    d.mmDecode.encode(pass, { a: d.z, b: p.wDec, bias: p.bDec, c: this.xHat });
    d.rows.encode(pass, {
      x: this.x,
      xHat: this.xHat,
      bDec: p.bDec,
      rowStats: this.rowStats,
      g: d.g,
      xc: d.xc,
    });
  }

  /** Dense path: ∂z, ∂W_dec, activation backward (sparsity terms, STE), ∂W_enc, ∂b_dec. */
  private recordDenseBackward(pass: GPUComputePassEncoder, d: DensePath): void {
    const p = this.params;
    const g = this.grads;
    d.mmGradZ.encode(pass, { a: d.g, b: p.wDec, bias: null, c: d.grad });
    d.mmGradWdec.encode(pass, { a: d.z, b: d.g, bias: null, c: g.wDec });
    d.activation.encodeBackward(pass, {
      pre: this.pre,
      threshold: this.threshold?.theta ?? null,
      z: d.z,
      grad: d.grad,
      wDec: p.wDec,
      gWdec: g.wDec,
      gBenc: g.bEnc,
      col: d.col,
    });
    d.mmGradWenc.encode(pass, { a: d.xc, b: d.grad, bias: null, c: g.wEnc });
    d.bdec.encode(pass, { x: this.x, xHat: this.xHat, wEnc: p.wEnc, gBenc: g.bEnc, gBdec: g.bDec });
  }

  /** Validate, upload the batch and write this step's uniforms; advances t. */
  private prepareStep(x: Float32Array, hyper: StepHyper): void {
    assertBatch('GpuSaeEngine.step', this.shape, x);
    assertHyper('GpuSaeEngine.step', hyper);
    const { dModel: D, batchSize: B } = this.shape;
    const c = adamCoefficients(hyper, this.t + 1);
    this.t += 1;
    for (const key of PARAM_KEYS) this.adam[key].setCoefficients(c);
    this.stats.setDeadWindow(hyper.deadWindowSteps);
    const lambda = hyper.sparsityCoeff ?? 0;
    const d = this.dense;
    if (d) {
      d.activation.setBackward(
        archSpec(this.arch.architecture).step.backward,
        lambda / (B * D),
        this.arch.bandwidth,
      );
      d.batchtopk?.setThresholdUpdate(this.arch.thresholdEmaRate, this.t === 1);
      d.thresholdAdam?.setCoefficients(
        adamCoefficients({ ...hyper, lr: hyper.lr * this.arch.thresholdLrScale }, this.t),
      );
    }
    this.auxk?.setWindow(hyper.auxkDeadWindowSteps ?? hyper.deadWindowSteps);
    this.archStats?.setLambda(lambda);
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
    const time = async (stages: Stage[]) => {
      for (const [name, record] of stages) {
        const t0 = performance.now();
        await this.gpu.run(`sae:stage:${name}`, record);
        out[name] = performance.now() - t0;
      }
    };
    await time(this.stagesA());
    const t0 = performance.now();
    const plan = this.dense?.batchtopk ? await this.batchTopkPlan() : this.fixedPlan();
    out['plan readback'] = performance.now() - t0;
    await time(this.stagesB(plan));
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
   * One training step on x [batchSize, d_model]. BatchTopK reads back one word (the fullest row's count) in
   * the middle of the step to pick its sparse kernels, so its steps do not queue up.
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
      if (this.dense?.batchtopk) {
        this.submit('sae:step-a', this.stagesA());
        this.submit('sae:step-b', this.stagesB(await this.batchTopkPlan()));
      } else {
        this.submit('sae:step', [...this.stagesA(), ...this.stagesB(this.fixedPlan())]);
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

  private forwardSet(rows: number): ForwardSet {
    let set = this.forwardSets.get(rows);
    if (!set) {
      const { dModel: D, dSae: S, k } = this.shape;
      const fwd = { rows, dModel: D, dSae: S, k };
      const tag = `sae:eval${rows}`;
      const res = new GpuResources(this.gpu);
      if (this.sparse) {
        set = {
          kind: 'sparse',
          res,
          encoder: res.own(createEncoder(this.gpu, fwd, `${tag}:encoder`)),
          topk: res.own(createTopK(this.gpu, fwd, `${tag}:topk`)),
          decode: res.own(createDecode(this.gpu, fwd, `${tag}:decode`)),
          buckets: res.own(createBuckets(this.gpu, fwd, `${tag}:bucket`)),
          reduce: res.own(createEvalReduce(this.gpu, fwd, `${tag}:reduce`)),
        };
      } else {
        const activation = res.own(
          createActivation(this.gpu, { rows, dSae: S, dModel: D }, `${tag}:activation`),
        );
        activation.setForward(archSpec(this.arch.architecture).step.forward);
        set = {
          kind: 'dense',
          res,
          encoder: res.own(createEncoder(this.gpu, fwd, `${tag}:encoder`)),
          activation,
          decode: res.own(createMatmul(this.gpu, { M: rows, N: D, K: S }, `${tag}:mm-decode`)),
          rows: res.own(createDenseRows(this.gpu, { rows, dModel: D }, 0, `${tag}:dense-rows`)),
          counts: res.storage(`${tag}:counts`, S * 4),
          reduce: res.own(createEvalReduce(this.gpu, fwd, `${tag}:reduce`)),
        };
      }
      this.forwardSets.set(rows, set);
    }
    return set;
  }

  /** Record the forward pass of one evaluation chunk and its reduction into slot `chunk`. */
  private recordEvalChunk(
    pass: GPUComputePassEncoder,
    set: ForwardSet,
    fireTotal: GPUBuffer,
    chunkSums: GPUBuffer,
  ): void {
    const p = this.params;
    set.encoder.encode(pass, { x: this.x, wEnc: p.wEnc, bEnc: p.bEnc, bDec: p.bDec, pre: this.pre });
    if (set.kind === 'sparse') {
      const sp = this.sparse as SparsePath;
      const io = { x: this.x, indices: sp.indices, values: sp.values };
      set.topk.encode(pass, { pre: this.pre, indices: sp.indices, values: sp.values });
      set.decode.encode(pass, {
        ...io,
        wDec: p.wDec,
        bDec: p.bDec,
        xHat: this.xHat,
        rowStats: this.rowStats,
      });
      set.buckets.encodeCount(pass, io);
      set.reduce.encode(pass, { rowStats: this.rowStats, counts: set.buckets.counts, fireTotal, chunkSums });
      return;
    }
    const d = this.dense as DensePath;
    set.activation.encodeForward(pass, { pre: this.pre, threshold: this.threshold?.theta ?? null, z: d.z });
    set.decode.encode(pass, { a: d.z, b: p.wDec, bias: p.bDec, c: this.xHat });
    set.rows.encode(pass, {
      x: this.x,
      xHat: this.xHat,
      bDec: p.bDec,
      rowStats: this.rowStats,
      g: d.g,
      xc: d.xc,
    });
    set.activation.encodeCount(pass, { z: d.z, col: set.counts });
    set.reduce.encode(pass, { rowStats: this.rowStats, counts: set.counts, fireTotal, chunkSums });
  }

  /**
   * Forward-only evaluation of x [rows, d_model] in chunks of batchSize rows (the last chunk may be shorter).
   * BatchTopK evaluates as a JumpReLU with its running θ. Per-token sums are reduced on the GPU per chunk and
   * combined in float64; sst (about the mean of all evaluated rows) depends on the data only and is computed on
   * the CPU (two-pass, float64).
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
        gpu.write(this.x, x.subarray(c * B * D, (c * B + n) * D));
        set.reduce.setChunk(c);
        const enc = gpu.device.createCommandEncoder({ label: gpu.label('sae:eval') });
        const pass = enc.beginComputePass({ label: gpu.label('sae:eval:pass') });
        try {
          this.recordEvalChunk(pass, set, fireTotal, chunkSums);
        } finally {
          pass.end();
        }
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

  /** Copy out params (θ included), Adam moments, t and the steps-since-fired counters. */
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
    const th = this.threshold;
    return {
      params: await read(this.params, th?.theta),
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
      this.gpu.write(this.params[key], state.params[key]);
      this.gpu.write(this.adamM[key], state.adamM[key]);
      this.gpu.write(this.adamV[key], state.adamV[key]);
    }
    const th = this.threshold;
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
    this.compactSets.clear();
    for (const set of this.forwardSets.values()) destroySet(set);
    this.forwardSets.clear();
  }
}

/** Free an evaluation forward set (its own resource set). */
function destroySet(set: ForwardSet): void {
  set.res.destroy();
}
