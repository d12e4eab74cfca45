/**
 * Step path 'dense' (JumpReLU, ReLU + L1; also BatchTopK's fallback and the evaluation of every threshold SAE):
 * dense latents z [B, S], matmul decoder and gradients (the math: src/reference/dense.ts). CPU twin: densePath in
 * src/reference/step-paths.ts.
 *
 *   forward (training and evaluation): encoder → activation_forward → x̂ = z·W_dec + b_dec → dense_rows
 *     (row sums, g = scale·(x̂ − x), xc = x − b_dec)
 *   backward: ∂z = g·W_decᵀ → ∂W_dec = zᵀg → activation_backward (∂pre, ∂b_enc, L1 term, STE for log θ)
 *     → ∂W_enc = xcᵀ∂pre → bdec_grad; after Adam, Adam on log θ for a learned threshold
 *
 * Shape legend: B = batchSize, D = d_model, S = d_sae.
 */
import { adamCoefficients, lossGradScale } from '../../sae/formulas';
import type { Gpu } from '../device';
import { type ActivationKernel, COL_PLANES, createActivation } from '../kernels/activation';
import { type BdecGradKernel, createBdecGrad } from '../kernels/backward';
import { createDenseRows, type DenseRowsKernel } from '../kernels/dense-rows';
import { createEncoder, type EncoderKernel } from '../kernels/encoder';
import { createMatmul, type MatmulKernel } from '../kernels/matmul';
import { createThresholdAdam, type ThresholdAdamKernel } from '../kernels/threshold';
import type { GpuResources } from '../resources';
import type { GpuForward, GpuStepBuffers, GpuStepContext, GpuStepPath, Stage } from '../step-path';
import { encoderStage } from './sparse-topk';

/** Dense scratch shared by training and evaluation (evaluation uses the first n rows). */
export interface DenseBuffers {
  /** f32 [B, S] latents. */
  z: GPUBuffer;
  /** f32 [B, S]: ∂z, then ∂pre. */
  grad: GPUBuffer;
  /** f32 [B, D]: g = scale·(x̂ − x) and xc = x − b_dec. */
  g: GPUBuffer;
  xc: GPUBuffer;
  /** u32 [4·S]: fire counts | Σz | ‖W_dec‖ | ∂log θ. */
  col: GPUBuffer;
}

/** The kernels of the dense forward pass for chunks of `rows` rows. */
export interface DenseForwardKernels {
  encoder: EncoderKernel;
  activation: ActivationKernel;
  decode: MatmulKernel;
  rows: DenseRowsKernel;
}

/** Create the dense buffers of a B-row batch into `res`. */
export function createDenseBuffers(res: GpuResources, B: number, D: number, S: number): DenseBuffers {
  return {
    z: res.storage('sae:z', B * S * 4),
    grad: res.storage('sae:grad_z', B * S * 4),
    g: res.storage('sae:g', B * D * 4),
    xc: res.storage('sae:xc', B * D * 4),
    col: res.storage('sae:col', COL_PLANES * S * 4),
  };
}

/**
 * Create the dense forward kernels for `rows` rows into `res`; the activation computes the spec's forward mode.
 * @param scale the loss-gradient scale of dense_rows (2/(B·D) in training, 0 at evaluation)
 */
export function createDenseForward(
  ctx: GpuStepContext,
  res: GpuResources,
  rows: number,
  scale: number,
  tag: string,
): DenseForwardKernels {
  const gpu: Gpu = ctx.gpu;
  const { dModel: D, dSae: S } = ctx.shape;
  const activation = res.own(createActivation(gpu, { rows, dSae: S, dModel: D }, `${tag}:activation`));
  activation.setForward(ctx.spec.forward);
  return {
    encoder: res.own(createEncoder(gpu, { rows, dModel: D, dSae: S }, `${tag}:encoder`)),
    activation,
    decode: res.own(createMatmul(gpu, { M: rows, N: D, K: S }, `${tag}:mm-decode`)),
    rows: res.own(createDenseRows(gpu, { rows, dModel: D }, scale, `${tag}:dense-rows`)),
  };
}

/** The activation stage of the dense forward: z = act(pre) (ReLU, or pre·H(pre − θ)). */
export function denseActivationStage(k: DenseForwardKernels, b: GpuStepBuffers, d: DenseBuffers): Stage {
  const theta = b.threshold?.theta ?? null;
  return ['activation', (pass) => k.activation.encodeForward(pass, { pre: b.pre, threshold: theta, z: d.z })];
}

/** The dense decode stage: x̂ = z·W_dec + b_dec, then row sums, g and xc. */
export function denseDecodeStage(k: DenseForwardKernels, b: GpuStepBuffers, d: DenseBuffers): Stage {
  const p = b.params;
  return [
    'decode',
    (pass) => {
      k.decode.encode(pass, { a: d.z, b: p.wDec, bias: p.bDec, c: b.xHat });
      k.rows.encode(pass, { x: b.x, xHat: b.xHat, bDec: p.bDec, rowStats: b.rowStats, g: d.g, xc: d.xc });
    },
  ];
}

/** The dense backward kernels of a B-row batch. */
export interface DenseBackwardKernels {
  mmGradZ: MatmulKernel;
  mmGradWdec: MatmulKernel;
  mmGradWenc: MatmulKernel;
  bdec: BdecGradKernel;
}

/** Create the dense backward kernels into ctx.res. */
export function createDenseBackward(ctx: GpuStepContext): DenseBackwardKernels {
  const { gpu, res } = ctx;
  const { dModel: D, dSae: S, batchSize: B } = ctx.shape;
  return {
    mmGradZ: res.own(createMatmul(gpu, { M: B, N: S, K: D, transB: true }, 'sae:mm-grad-z')),
    mmGradWdec: res.own(createMatmul(gpu, { M: S, N: D, K: B, transA: true }, 'sae:mm-grad-w-dec')),
    mmGradWenc: res.own(createMatmul(gpu, { M: D, N: S, K: B, transA: true }, 'sae:mm-grad-w-enc')),
    bdec: res.own(createBdecGrad(gpu, { rows: B, dModel: D, dSae: S }, 'sae:bdec-grad')),
  };
}

/** Record the activation backward on the dense buffers: ∂pre (in d.grad), ∂b_enc, the col planes. */
export function encodeActivationBackward(
  pass: GPUComputePassEncoder,
  activation: ActivationKernel,
  b: GpuStepBuffers,
  d: DenseBuffers,
): void {
  const p = b.params;
  const g = b.grads;
  activation.encodeBackward(pass, {
    pre: b.pre,
    threshold: b.threshold?.theta ?? null,
    z: d.z,
    grad: d.grad,
    wDec: p.wDec,
    gWdec: g.wDec,
    gBenc: g.bEnc,
    col: d.col,
  });
}

/** The dense backward stage: ∂z, ∂W_dec, activation backward (sparsity terms, STE), ∂W_enc, ∂b_dec. */
export function denseBackwardStage(
  k: DenseBackwardKernels,
  activation: ActivationKernel,
  b: GpuStepBuffers,
  d: DenseBuffers,
): Stage {
  const p = b.params;
  const g = b.grads;
  return [
    'backward',
    (pass) => {
      k.mmGradZ.encode(pass, { a: d.g, b: p.wDec, bias: null, c: d.grad });
      k.mmGradWdec.encode(pass, { a: d.z, b: d.g, bias: null, c: g.wDec });
      encodeActivationBackward(pass, activation, b, d);
      k.mmGradWenc.encode(pass, { a: d.xc, b: d.grad, bias: null, c: g.wEnc });
      k.bdec.encode(pass, { x: b.x, xHat: b.xHat, wEnc: p.wEnc, gBenc: g.bEnc, gBdec: g.bDec });
    },
  ];
}

/** The dense forward pass, written once for training and evaluation: encoder → activation → decode. */
export function denseForwardStages(k: DenseForwardKernels, b: GpuStepBuffers, d: DenseBuffers): Stage[] {
  return [encoderStage(k.encoder, b), denseActivationStage(k, b, d), denseDecodeStage(k, b, d)];
}

/** The dense evaluation forward (threshold SAEs evaluate as JumpReLU with their θ): forward, then fire counts. */
export function denseEvalForward(
  ctx: GpuStepContext,
  d: DenseBuffers,
  rows: number,
  res: GpuResources,
  tag: string,
): GpuForward {
  const k = createDenseForward(ctx, res, rows, 0, tag);
  const counts = res.storage(`${tag}:counts`, ctx.shape.dSae * 4);
  return {
    stages: [
      ...denseForwardStages(k, ctx.bufs, d),
      ['count', (pass) => k.activation.encodeCount(pass, { z: d.z, col: counts })],
    ],
    counts,
  };
}

/**
 * The backward-mode uniforms of the dense activation and, for a learned θ, the Adam scalars of log θ (lr scaled
 * by thresholdLrScale).
 */
export function prepareDense(
  ctx: GpuStepContext,
  activation: ActivationKernel,
  thresholdAdam: ThresholdAdamKernel | null,
  hyper: Parameters<GpuStepPath['prepare']>[0],
  t: number,
  lambda: number,
): void {
  const { dModel: D, batchSize: B } = ctx.shape;
  activation.setBackward(ctx.spec.backward, lambda / (B * D), ctx.arch.bandwidth);
  thresholdAdam?.setCoefficients(adamCoefficients({ ...hyper, lr: hyper.lr * ctx.arch.thresholdLrScale }, t));
}

/** Adam on log θ (learned threshold) from plane 3 of the col buffer, or null when θ is not learned. */
export function createThresholdUpdate(ctx: GpuStepContext): ThresholdAdamKernel | null {
  return ctx.spec.threshold === 'learned'
    ? ctx.res.own(createThresholdAdam(ctx.gpu, ctx.shape.dSae, 'sae:threshold-adam'))
    : null;
}

/** Record Adam on log θ when there is one. */
export function encodeThresholdUpdate(
  ta: ThresholdAdamKernel | null,
  b: GpuStepBuffers,
  d: DenseBuffers,
  pass: GPUComputePassEncoder,
): void {
  const th = b.threshold;
  if (ta && th) ta.encode(pass, { theta: th.theta, m: th.m, v: th.v, col: d.col });
}

/** Step path 'dense'. */
export function densePath(ctx: GpuStepContext): GpuStepPath {
  const { dModel: D, dSae: S, batchSize: B } = ctx.shape;
  const b = ctx.bufs;
  const d = createDenseBuffers(ctx.res, B, D, S);
  const fwd = createDenseForward(ctx, ctx.res, B, lossGradScale(B, D), 'sae');
  const bw = createDenseBackward(ctx);
  const thresholdAdam = createThresholdUpdate(ctx);
  return {
    col: d.col,
    prepare: (hyper, t, lambda) => prepareDense(ctx, fwd.activation, thresholdAdam, hyper, t, lambda),
    stagesA: () => denseForwardStages(fwd, b, d),
    stagesB: () => [denseBackwardStage(bw, fwd.activation, b, d)],
    fireCounts: () => d.col,
    encodeAfterAdam: (pass) => encodeThresholdUpdate(thresholdAdam, b, d, pass),
    createForward: (rows, res, tag) => denseEvalForward(ctx, d, rows, res, tag),
  };
}
