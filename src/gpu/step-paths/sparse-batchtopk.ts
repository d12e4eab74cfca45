/**
 * Step path 'sparse-batchtopk' (BatchTopK, Bussmann et al. 2024): encoder → batch selection of the top k·B
 * pre-activations (global radix select), the running θ and the fullest row's count; the count is read back (one
 * word) and picks k_cap ∈ {16, …, 256} (formulas.ts batchTopkCap): batchtopk_compact → the TopK decode and sparse
 * backward with k = k_cap; a batch in which one token keeps more than 256 latents takes the dense decode and
 * backward instead. Evaluation is the dense forward with the running θ (a JumpReLU). CPU twin: sparseBatchTopkPath
 * in src/reference/step-paths.ts.
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, k, k_cap.
 */
import { batchTopkCap, lossGradScale, MAX_COMPACT_K } from '../../sae/formulas';
import { type BackwardKernel, createBackward } from '../kernels/backward';
import { type BatchTopKBuffers, createBatchTopK } from '../kernels/batchtopk';
import { createDecode, type DecodeKernel } from '../kernels/decode';
import type { GpuStepContext, GpuStepPath, Stage } from '../step-path';
import {
  createDenseBackward,
  createDenseBuffers,
  createDenseForward,
  denseBackwardStage,
  denseDecodeStage,
  denseEvalForward,
  prepareDense,
} from './dense';
import { encoderStage, type PairBuffers, sparseBackwardStage, sparseDecodeStage } from './sparse-topk';

/** The sparse decode and backward kernels for one k_cap bucket. */
interface CompactKernels {
  decode: DecodeKernel;
  backward: BackwardKernel;
}

/** The batch selection of a B-row batch, its compaction and the sparse kernels of each k_cap bucket. */
export interface BatchTopKSelection {
  /** encoder, then selection + running θ + fullest-row count. */
  stagesA(): Stage[];
  /** Read the fullest row's count back and pick the k_cap bucket (null: a token keeps more than 256). */
  plan(): Promise<CompactKernels | null>;
  /** compact → sparse decode of the planned bucket (x̂, row sums). */
  compactDecodeStages(kernels: CompactKernels): Stage[];
  /** The compacted (index, value) rows [B, k_cap]. */
  readonly pairs: PairBuffers;
  /** Write γ and whether this is the first step. */
  prepare(t: number): void;
}

/**
 * The BatchTopK selection part, shared by the step paths that select a batch's top k·B latents.
 * @param z f32 [B, S] the dense latents buffer the selection writes
 */
export function createBatchTopKSelection(
  ctx: GpuStepContext,
  encoder: Parameters<typeof encoderStage>[0],
  z: GPUBuffer,
): BatchTopKSelection {
  const { gpu, res, bufs: b } = ctx;
  const { dModel: D, dSae: S, k, batchSize: B } = ctx.shape;
  const theta = b.threshold?.theta;
  if (!theta) throw new RangeError('sparse-batchtopk step path: the parameters have no threshold θ');
  const bt = res.own(createBatchTopK(gpu, { rows: B, dSae: S, k }, 'sae:batchtopk'));
  const capMax = Math.min(S, MAX_COMPACT_K);
  const pairs: PairBuffers = {
    indices: res.storage('sae:compact:indices', B * capMax * 4),
    values: res.storage('sae:compact:values', B * capMax * 4),
  };
  const io: BatchTopKBuffers = { pre: b.pre, z, threshold: theta, ...pairs };
  const sets = new Map<number, CompactKernels>();
  return {
    pairs,
    prepare: (t) => bt.setThresholdUpdate(ctx.arch.thresholdEmaRate, t === 1),
    stagesA: () => [
      encoderStage(encoder, b),
      [
        'activation',
        (pass) => {
          bt.encodeSelect(pass, io);
          bt.encodeThreshold(pass, io);
          bt.encodeCount(pass, io);
        },
      ],
    ],
    async plan() {
      const maxCount = (await gpu.readU32(bt.state, 1, 4))[0];
      const cap = batchTopkCap(maxCount, S);
      if (cap === null) return null;
      let set = sets.get(cap);
      if (!set) {
        const fwd = { rows: B, dModel: D, dSae: S, k: cap };
        set = {
          decode: res.own(createDecode(gpu, fwd, `sae:compact${cap}:decode`)),
          backward: res.own(createBackward(gpu, fwd, `sae:compact${cap}:backward`)),
        };
        sets.set(cap, set);
      }
      bt.setCompactCap(cap);
      return set;
    },
    compactDecodeStages: (set) => [
      ['compact', (pass) => bt.encodeCompact(pass, io)],
      sparseDecodeStage(set.decode, b, pairs),
    ],
  };
}

/** Step path 'sparse-batchtopk'. */
export function sparseBatchTopkPath(ctx: GpuStepContext): GpuStepPath {
  const { dModel: D, dSae: S, batchSize: B } = ctx.shape;
  const b = ctx.bufs;
  const d = createDenseBuffers(ctx.res, B, D, S);
  const fwd = createDenseForward(ctx, ctx.res, B, lossGradScale(B, D), 'sae');
  const bw = createDenseBackward(ctx);
  const sel = createBatchTopKSelection(ctx, fwd.encoder, d.z);
  let planned: CompactKernels | null = null;
  return {
    col: d.col,
    prepare(hyper, t, lambda) {
      prepareDense(ctx, fwd.activation, null, hyper, t, lambda);
      sel.prepare(t);
    },
    stagesA: () => sel.stagesA(),
    async plan() {
      planned = await sel.plan();
    },
    stagesB() {
      const set = planned;
      if (!set) return [denseDecodeStage(fwd, b, d), denseBackwardStage(bw, fwd.activation, b, d)];
      return [...sel.compactDecodeStages(set), sparseBackwardStage(set.backward, b, sel.pairs)];
    },
    fireCounts: () => (planned ? planned.backward.buckets.fireCounts : d.col),
    encodeAfterAdam() {},
    createForward: (rows, res, tag) => denseEvalForward(ctx, d, rows, res, tag),
  };
}
