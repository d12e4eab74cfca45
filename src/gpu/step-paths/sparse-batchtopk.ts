/**
 * Step path 'sparse-batchtopk' (BatchTopK, Bussmann et al. 2024): encoder → batch selection of the top k·B
 * pre-activations (global radix select), the running θ and the fullest row's count → the bucket plan ON THE GPU
 * (shaders/batchtopk-plan.wgsl: k_cap ∈ {16, …, 256} by formulas.ts batchTopkCap, or the dense path when a token
 * keeps more than 256 latents) → batchtopk_compact and the TopK decode and sparse backward of that bucket with
 * k = k_cap, or the dense decode and backward. Every bucket's kernels are recorded through gated passes
 * (src/gpu/kernels/batchtopk-plan.ts), i.e. as indirect dispatches whose workgroup counts the plan zeroes except for
 * the chosen bucket, so a step is one submission and reads nothing back. Evaluation is the dense forward with the
 * running θ (a JumpReLU). CPU twin: sparseBatchTopkPath in src/reference/step-paths.ts.
 *
 * `ctx.batchTopkReadback` (bench only) restores the former plan: read the count back (4 bytes, a sync between two
 * submissions) and record only the chosen bucket's kernels.
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, k, k_cap.
 */
import { batchTopkCap, lossGradScale, MAX_COMPACT_K } from '../../sae/formulas';
import { type BackwardKernel, createBackward } from '../kernels/backward';
import { type BatchTopKBuffers, type BatchTopKKernel, createBatchTopK } from '../kernels/batchtopk';
import { createBatchTopKPlan, DENSE_GATE } from '../kernels/batchtopk-plan';
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

/** The batch selection of a B-row batch (shared by the paths that select a batch's top k·B latents). */
export interface BatchTopKSelection {
  /** encoder, then selection + running θ + fullest-row count (state word 4). */
  stagesA(): Stage[];
  /** The BatchTopK kernel (its state buffer, compaction). */
  readonly kernel: BatchTopKKernel;
  /** Its buffers; indices/values are the compacted (index, value) rows [B, k_cap] (sized for k_cap ≤ 256). */
  readonly io: BatchTopKBuffers;
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
  const { dSae: S, k, batchSize: B } = ctx.shape;
  const theta = b.threshold?.theta;
  if (!theta) throw new RangeError('sparse-batchtopk step path: the parameters have no threshold θ');
  const bt = res.own(createBatchTopK(gpu, { rows: B, dSae: S, k }, 'sae:batchtopk'));
  const capMax = Math.min(S, MAX_COMPACT_K);
  const io: BatchTopKBuffers = {
    pre: b.pre,
    z,
    threshold: theta,
    indices: res.storage('sae:compact:indices', B * capMax * 4),
    values: res.storage('sae:compact:values', B * capMax * 4),
  };
  return {
    kernel: bt,
    io,
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
  };
}

/** The k_cap buckets of a d_sae: 16, 32, 64, 128, 256, each at most d_sae (distinct). */
export function compactCaps(dSae: number): number[] {
  const caps = new Set<number>();
  for (let c = 16; c <= MAX_COMPACT_K; c *= 2) caps.add(Math.min(c, dSae));
  return [...caps];
}

/** Step path 'sparse-batchtopk'. */
export function sparseBatchTopkPath(ctx: GpuStepContext): GpuStepPath {
  const { gpu, res } = ctx;
  const { dModel: D, dSae: S, batchSize: B } = ctx.shape;
  const b = ctx.bufs;
  const d = createDenseBuffers(res, B, D, S);
  const fwd = createDenseForward(ctx, res, B, lossGradScale(B, D), 'sae');
  const bw = createDenseBackward(ctx);
  const sel = createBatchTopKSelection(ctx, fwd.encoder, d.z);
  const pairs: PairBuffers = { indices: sel.io.indices, values: sel.io.values };
  // One decode + backward per bucket; every bucket writes its fire counts into the dense path's count plane
  // (d.col[0, S)), so the stats read one buffer whichever bucket ran.
  const buckets = new Map<number, { decode: DecodeKernel; backward: BackwardKernel }>();
  for (const cap of compactCaps(S)) {
    const shape = { rows: B, dModel: D, dSae: S, k: cap };
    buckets.set(cap, {
      decode: res.own(createDecode(gpu, shape, `sae:compact${cap}:decode`)),
      backward: res.own(createBackward(gpu, shape, `sae:compact${cap}:backward`, d.col)),
    });
  }
  const slots = 16 * (buckets.size + 1);
  const plan = res.own(createBatchTopKPlan(gpu, { dSae: S, slots }, 'sae:batchtopk-plan'));
  /** Readback mode only: the bucket read back this step (DENSE_GATE = dense). */
  let hostCap = DENSE_GATE;
  /** Record the stage `which` of bucket `gate` (null gating = readback mode, only the chosen bucket). */
  const bucketStage = (gate: number, which: 'decode' | 'backward'): Stage => {
    const set = buckets.get(gate);
    if (!set)
      return which === 'decode' ? denseDecodeStage(fwd, b, d) : denseBackwardStage(bw, fwd.activation, b, d);
    if (which === 'backward') return sparseBackwardStage(set.backward, b, pairs);
    const decode = sparseDecodeStage(set.decode, b, pairs);
    return [
      'decode',
      (pass) => {
        sel.kernel.encodeCompact(pass, sel.io);
        decode[1](pass);
      },
    ];
  };
  const gates = [...buckets.keys(), DENSE_GATE];
  const gatedStage = (which: 'decode' | 'backward'): Stage => [
    which,
    (pass) => {
      if (which === 'decode') plan.begin();
      for (const gate of gates) bucketStage(gate, which)[1](plan.gated(pass, gate));
    },
  ];
  const readback = ctx.batchTopkReadback === true;
  return {
    col: d.col,
    prepare(hyper, t, lambda) {
      prepareDense(ctx, fwd.activation, null, hyper, t, lambda);
      sel.prepare(t);
    },
    stagesA: () => [...sel.stagesA(), ['plan', (pass) => plan.encodePlan(pass, sel.kernel.state)]],
    ...(readback
      ? {
          async plan() {
            hostCap = batchTopkCap((await gpu.readU32(sel.kernel.state, 1, 4))[0], S) ?? DENSE_GATE;
          },
          stagesB: () => [bucketStage(hostCap, 'decode'), bucketStage(hostCap, 'backward')],
        }
      : { stagesB: () => [gatedStage('decode'), gatedStage('backward')] }),
    fireCounts: () => d.col,
    encodeAfterAdam() {},
    createForward: (rows, setRes, tag) => denseEvalForward(ctx, d, rows, setRes, tag),
  };
}
