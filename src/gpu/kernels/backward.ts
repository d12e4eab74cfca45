/**
 * Host wrapper of the sparse backward pass of a TopK SAE (CPU twin: src/reference/backward.ts, backwardCpu):
 *   shaders/backward.wgsl          per pair p = r·k + j: z = ReLU(value), ∂pre = ⟨g[r], W_dec[i_p]⟩ (0 if value ≤ 0)
 *   shaders/bucket.wgsl            latent → fired pairs, sorted (fixed summation order, no float atomics)
 *   shaders/backward-latents.wgsl  per fired latent: ∂W_dec row, ∂W_enc column, ∂b_enc
 *   shaders/bdec-grad.wgsl         ∂b_dec = scale·Σ_r (x̂ − x) − W_enc·∂b_enc
 * with g = ∂loss/∂x̂ = 2(x̂ − x)/(R·D) recomputed from x̂ − x (never stored).
 *
 * Dense vs sparse: ∂pre is sparse [R, k]; ∂W_dec, ∂W_enc and ∂b_enc are nonzero only for latents that fired
 * (work ∝ R·k·D, not R·S·D) but are written as dense tensors (zeros elsewhere) because Adam updates every
 * element; ∂b_dec is dense [D] (work ∝ R·D + S·D).
 */

import backwardWgsl from '../../../shaders/backward.wgsl?raw';
import backwardLatentsWgsl from '../../../shaders/backward-latents.wgsl?raw';
import bdecGradWgsl from '../../../shaders/bdec-grad.wgsl?raw';
import { lossGradScale } from '../../sae/formulas';
import type { BackwardResult, ForwardShape } from '../../sae/kernel-types';
import type { Gpu, ShaderSource } from '../device';
import { type Buckets, createBuckets } from './bucket';
import { f32Bits, fitsBinding, grid1d, needBuffer, oneShot, positiveInt, wgSize } from './common';

export const backwardShader: ShaderSource = { name: 'backward', code: backwardWgsl };
export const backwardLatentsShader: ShaderSource = { name: 'backward-latents', code: backwardLatentsWgsl };
export const bdecGradShader: ShaderSource = { name: 'bdec-grad', code: bdecGradWgsl };

/** Shape of a backward pass. */
export type BackwardShape = ForwardShape & { k: number };

/** Buffers the backward pass reads and writes. */
export interface BackwardBuffers {
  /** f32 [R, D]. */
  x: GPUBuffer;
  /** f32 [R, D] from the decoder. */
  xHat: GPUBuffer;
  /** u32 [R, k] and f32 [R, k] from TopK. */
  indices: GPUBuffer;
  values: GPUBuffer;
  /** Current parameters: W_enc [D, S], W_dec [S, D], b_dec [D]. */
  wEnc: GPUBuffer;
  wDec: GPUBuffer;
  bDec: GPUBuffer;
  /** Gradients, written: ∂W_enc [D, S], ∂W_dec [S, D], ∂b_enc [S], ∂b_dec [D]. */
  gWenc: GPUBuffer;
  gWdec: GPUBuffer;
  gBenc: GPUBuffer;
  gBdec: GPUBuffer;
}

/** A backward pass of fixed shape with its scratch buffers. */
export interface BackwardKernel {
  readonly shape: Readonly<BackwardShape>;
  /** The latent buckets (their fireCounts [S] hold the batch's per-latent fire counts after encode). */
  readonly buckets: Buckets;
  /** f32 [R, k, 2]: (z, ∂pre) per pair. */
  readonly pairs: GPUBuffer;
  encode(pass: GPUComputePassEncoder, bufs: BackwardBuffers): void;
  destroy(): void;
}

/**
 * @param fireCountsInto optional u32 buffer (≥ S words) for the fire counts (see createBuckets); not destroyed here.
 * @throws GpuError on a non-positive size or an oversized tensor (names the tensor and the limit).
 */
export function createBackward(
  gpu: Gpu,
  shape: BackwardShape,
  label = 'backward',
  fireCountsInto?: GPUBuffer,
): BackwardKernel {
  const { rows: R, dModel: D, dSae: S, k } = shape;
  for (const [n, v] of Object.entries({ rows: R, d_model: D, d_sae: S, k })) positiveInt(label, n, v);
  fitsBinding(gpu, label, 'W_enc [d_model, d_sae]', D * S);
  fitsBinding(gpu, label, 'pairs [rows, k, 2]', R * k * 2);
  const wgPairs = wgSize(gpu, 64);
  const wgLatent = wgSize(gpu, 64);
  const ro = 'read-only-storage' as const;
  const pPairs = gpu.pipeline(backwardShader, 'backward', ['uniform', ro, ro, ro, ro, ro, 'storage'], {
    WG: wgPairs,
  });
  const pLatents = gpu.pipeline(
    backwardLatentsShader,
    'backward_latents',
    ['uniform', ro, ro, ro, ro, ro, 'storage', 'storage', 'storage'],
    { WG: wgLatent },
  );
  const pBdec = gpu.pipeline(bdecGradShader, 'bdec_grad', ['uniform', ro, ro, ro, ro, 'storage'], {
    WG: wgLatent,
  });
  const scale = f32Bits(lossGradScale(R, D));
  const params = gpu.uniform(`${label}:params`, new Uint32Array([R, D, S, k, scale, 0, 0, 0]));
  const paramsBdec = gpu.uniform(`${label}:params-bdec`, new Uint32Array([R, D, S, 0, scale, 0, 0, 0]));
  const buckets = createBuckets(gpu, { rows: R, dSae: S, k }, `${label}:bucket`, fireCountsInto);
  const pairs = gpu.storage(`${label}:pairs`, R * k * 2 * 4);
  const pairGrid = grid1d(gpu, label, Math.ceil((R * k) / wgPairs));
  const latentGrid = grid1d(gpu, label, S);
  const dGrid = grid1d(gpu, label, D);
  return {
    shape: { ...shape },
    buckets,
    pairs,
    encode(pass, b) {
      needBuffer(label, 'x', b.x, R * D);
      needBuffer(label, 'x̂', b.xHat, R * D);
      needBuffer(label, 'W_enc', b.wEnc, D * S);
      needBuffer(label, 'W_dec', b.wDec, S * D);
      needBuffer(label, 'b_dec', b.bDec, D);
      needBuffer(label, '∂W_enc', b.gWenc, D * S);
      needBuffer(label, '∂W_dec', b.gWdec, S * D);
      needBuffer(label, '∂b_enc', b.gBenc, S);
      needBuffer(label, '∂b_dec', b.gBdec, D);
      gpu.dispatch(pass, pPairs, [params, b.x, b.xHat, b.indices, b.values, b.wDec, pairs], pairGrid);
      buckets.encodeBuild(pass, b);
      gpu.dispatch(
        pass,
        pLatents,
        [params, b.x, b.xHat, b.bDec, pairs, buckets.buckets, b.gWdec, b.gWenc, b.gBenc],
        latentGrid,
      );
      gpu.dispatch(pass, pBdec, [paramsBdec, b.x, b.xHat, b.wEnc, b.gBenc, b.gBdec], dGrid);
    },
    destroy() {
      params.destroy();
      paramsBdec.destroy();
      pairs.destroy();
      buckets.destroy();
    },
  };
}

/** ∂b_dec of a dense backward pass (shaders/bdec-grad.wgsl alone; CPU twin bdecGradCpu). */
export interface BdecGradKernel {
  /** Record ∂b_dec = scale·Σ_r (x̂ − x) − W_enc·∂b_enc. x, x̂ f32 [R, D], W_enc [D, S], ∂b_enc [S], ∂b_dec [D]. */
  encode(
    pass: GPUComputePassEncoder,
    bufs: { x: GPUBuffer; xHat: GPUBuffer; wEnc: GPUBuffer; gBenc: GPUBuffer; gBdec: GPUBuffer },
  ): void;
  destroy(): void;
}

/** The ∂b_dec kernel alone, scale = 2/(R·D). @throws GpuError on a non-positive size. */
export function createBdecGrad(gpu: Gpu, shape: ForwardShape, label = 'bdec-grad'): BdecGradKernel {
  const { rows: R, dModel: D, dSae: S } = shape;
  for (const [n, v] of Object.entries({ rows: R, d_model: D, d_sae: S })) positiveInt(label, n, v);
  const ro = 'read-only-storage' as const;
  const pipe = gpu.pipeline(bdecGradShader, 'bdec_grad', ['uniform', ro, ro, ro, ro, 'storage'], {
    WG: wgSize(gpu, 64),
  });
  const scale = f32Bits(lossGradScale(R, D));
  const params = gpu.uniform(`${label}:params`, new Uint32Array([R, D, S, 0, scale, 0, 0, 0]));
  const grid = grid1d(gpu, label, D);
  return {
    encode(pass, b) {
      needBuffer(label, 'x', b.x, R * D);
      needBuffer(label, 'x̂', b.xHat, R * D);
      needBuffer(label, 'W_enc', b.wEnc, D * S);
      needBuffer(label, '∂b_enc', b.gBenc, S);
      needBuffer(label, '∂b_dec', b.gBdec, D);
      gpu.dispatch(pass, pipe, [params, b.x, b.xHat, b.wEnc, b.gBenc, b.gBdec], grid);
    },
    destroy() {
      params.destroy();
    },
  };
}

/** One-shot backward for tests: the gradients, ∂pre per pair and the per-latent fire counts. */
export async function backwardGpu(
  gpu: Gpu,
  x: Float32Array,
  indices: Uint32Array,
  values: Float32Array,
  xHat: Float32Array,
  params: { wEnc: Float32Array; wDec: Float32Array; bDec: Float32Array },
  shape: BackwardShape,
): Promise<BackwardResult> {
  const { rows: R, dModel: D, dSae: S, k } = shape;
  const kernel = createBackward(gpu, shape);
  const bufs = {
    x: gpu.storage('backward:x', x),
    xHat: gpu.storage('backward:x_hat', xHat),
    indices: gpu.storage('backward:indices', indices),
    values: gpu.storage('backward:values', values),
    wEnc: gpu.storage('backward:w_enc', params.wEnc),
    wDec: gpu.storage('backward:w_dec', params.wDec),
    bDec: gpu.storage('backward:b_dec', params.bDec),
    gWenc: gpu.storage('backward:g_w_enc', D * S * 4),
    gWdec: gpu.storage('backward:g_w_dec', S * D * 4),
    gBenc: gpu.storage('backward:g_b_enc', S * 4),
    gBdec: gpu.storage('backward:g_b_dec', D * 4),
  };
  return oneShot(
    gpu,
    'backward',
    Object.values(bufs),
    (pass) => kernel.encode(pass, bufs),
    async () => {
      const pairs = await gpu.readF32(kernel.pairs, R * k * 2);
      const gradPre = new Float32Array(R * k);
      for (let p = 0; p < R * k; p++) gradPre[p] = pairs[2 * p + 1];
      return {
        grads: {
          wEnc: await gpu.readF32(bufs.gWenc, D * S),
          wDec: await gpu.readF32(bufs.gWdec, S * D),
          bEnc: await gpu.readF32(bufs.gBenc, S),
          bDec: await gpu.readF32(bufs.gBdec, D),
        },
        gradPre,
        fireCounts: await gpu.readU32(kernel.buckets.fireCounts, S),
      };
    },
    () => kernel.destroy(),
  );
}
