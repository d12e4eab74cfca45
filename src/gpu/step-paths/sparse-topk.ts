/**
 * Step path 'sparse-topk' (TopK, Gao et al. 2024 §2.3): per-row TopK, sparse decode and sparse backward over the
 * k (index, value) pairs of each token; no dense [B, S] latent matrix. CPU twin: sparseTopkPath in
 * src/reference/step-paths.ts.
 *
 *   forward (training and evaluation): encoder → topk → decode (x̂, row sums)
 *   backward: pairs, buckets, latent sums, ∂b_dec (shaders/backward*.wgsl, bucket.wgsl, bdec-grad.wgsl)
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae, k.
 */
import type { ForwardShape } from '../../sae/kernel-types';
import type { Gpu } from '../device';
import { type BackwardKernel, createBackward } from '../kernels/backward';
import { createBuckets } from '../kernels/bucket';
import { createDecode, type DecodeKernel } from '../kernels/decode';
import { createEncoder, type EncoderKernel } from '../kernels/encoder';
import { createTopK, type TopKKernel } from '../kernels/topk';
import type { GpuResources } from '../resources';
import type { GpuStepBuffers, GpuStepPathFactory, Stage } from '../step-path';

/** (index, value) pairs [rows, k]: u32 latent ids and f32 raw pre-activations. */
export interface PairBuffers {
  indices: GPUBuffer;
  values: GPUBuffer;
}

/** The kernels of the TopK forward pass for chunks of `rows` rows. */
export interface TopKForwardKernels {
  encoder: EncoderKernel;
  topk: TopKKernel;
  decode: DecodeKernel;
}

/** The encoder stage (every path's forward starts with it): pre = (x − b_dec)·W_enc + b_enc. */
export function encoderStage(encoder: EncoderKernel, b: GpuStepBuffers): Stage {
  const p = b.params;
  return [
    'encoder',
    (pass) => encoder.encode(pass, { x: b.x, wEnc: p.wEnc, bEnc: p.bEnc, bDec: p.bDec, pre: b.pre }),
  ];
}

/** The sparse decode stage: x̂ = Σ_j z_j W_dec[i_j] + b_dec and the row sums, from (index, value) pairs. */
export function sparseDecodeStage(decode: DecodeKernel, b: GpuStepBuffers, pairs: PairBuffers): Stage {
  const io = { x: b.x, ...pairs, wDec: b.params.wDec, bDec: b.params.bDec };
  return ['decode', (pass) => decode.encode(pass, { ...io, xHat: b.xHat, rowStats: b.rowStats })];
}

/** The sparse backward stage over (index, value) pairs: every gradient, ∂b_dec included. */
export function sparseBackwardStage(backward: BackwardKernel, b: GpuStepBuffers, pairs: PairBuffers): Stage {
  const p = b.params;
  const g = b.grads;
  return [
    'backward',
    (pass) =>
      backward.encode(pass, {
        x: b.x,
        ...pairs,
        wDec: p.wDec,
        bDec: p.bDec,
        xHat: b.xHat,
        wEnc: p.wEnc,
        gWenc: g.wEnc,
        gWdec: g.wDec,
        gBenc: g.bEnc,
        gBdec: g.bDec,
      }),
  ];
}

/** Create the TopK forward kernels for `fwd.rows` rows into `res`. */
export function createTopKForward(
  gpu: Gpu,
  res: GpuResources,
  fwd: ForwardShape & { k: number },
  tag: string,
): TopKForwardKernels {
  return {
    encoder: res.own(createEncoder(gpu, fwd, `${tag}:encoder`)),
    topk: res.own(createTopK(gpu, fwd, `${tag}:topk`)),
    decode: res.own(createDecode(gpu, fwd, `${tag}:decode`)),
  };
}

/** The TopK forward pass, written once for training and evaluation: encoder → topk → decode. */
export function topKForwardStages(k: TopKForwardKernels, b: GpuStepBuffers, pairs: PairBuffers): Stage[] {
  return [
    encoderStage(k.encoder, b),
    ['topk', (pass) => k.topk.encode(pass, { pre: b.pre, ...pairs })],
    sparseDecodeStage(k.decode, b, pairs),
  ];
}

/** Step path 'sparse-topk'. */
export const sparseTopkPath: GpuStepPathFactory = (ctx) => {
  const { gpu, res, bufs: b } = ctx;
  const { dModel: D, dSae: S, k, batchSize: B } = ctx.shape;
  const fwd = { rows: B, dModel: D, dSae: S, k };
  const pairs: PairBuffers = {
    indices: res.storage('sae:indices', B * k * 4),
    values: res.storage('sae:values', B * k * 4),
  };
  const train = createTopKForward(gpu, res, fwd, 'sae');
  const backward = res.own(createBackward(gpu, fwd, 'sae:backward'));
  return {
    col: null,
    prepare() {},
    stagesA: () => topKForwardStages(train, b, pairs),
    stagesB: () => [sparseBackwardStage(backward, b, pairs)],
    fireCounts: () => backward.buckets.fireCounts,
    encodeAfterAdam() {},
    createForward(rows, setRes, tag) {
      const f = { rows, dModel: D, dSae: S, k };
      const kernels = createTopKForward(gpu, setRes, f, tag);
      const buckets = setRes.own(createBuckets(gpu, f, `${tag}:bucket`));
      return {
        stages: [
          ...topKForwardStages(kernels, b, pairs),
          ['count', (pass) => buckets.encodeCount(pass, pairs)],
        ],
        counts: buckets.counts,
      };
    },
  };
};
