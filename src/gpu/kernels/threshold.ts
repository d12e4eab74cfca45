/**
 * Adam on log θ for the JumpReLU threshold, θ stored (θ ← θ·exp(−Δ)): shaders/adam.wgsl with LOG_PARAM = 1, its
 * gradient plane 3 of the activation backward's col buffer. CPU twin: src/reference/threshold.ts (thresholdAdamCpu).
 */
import type { AdamCoefficients } from '../../sae/kernel-types';
import type { Gpu } from '../device';
import { COL_PLANES } from './activation';
import { createAdam } from './adam';
import { needBuffer, oneShot } from './common';

/** Buffers of one log-θ Adam step, each f32 [S] except col u32 [4·S]. */
export interface ThresholdAdamBuffers {
  theta: GPUBuffer;
  m: GPUBuffer;
  v: GPUBuffer;
  col: GPUBuffer;
}

/** Adam on log θ over S latents. */
export interface ThresholdAdamKernel {
  /** Write this step's scalars (lr already multiplied by thresholdLrScale). */
  setCoefficients(c: AdamCoefficients): void;
  encode(pass: GPUComputePassEncoder, bufs: ThresholdAdamBuffers): void;
  destroy(): void;
}

/**
 * shaders/adam.wgsl in its log-parameter mode, reading the gradient from plane 3 of col.
 * @throws GpuError when d_sae is not a positive integer.
 */
export function createThresholdAdam(gpu: Gpu, dSae: number, label = 'threshold-adam'): ThresholdAdamKernel {
  const adam = createAdam(gpu, dSae, label, { logParam: true, gradOffset: 3 * dSae });
  return {
    setCoefficients: (c) => adam.setCoefficients(c),
    encode(pass, b) {
      needBuffer(label, 'col', b.col, COL_PLANES * dSae);
      adam.encode(pass, { param: b.theta, m: b.m, v: b.v, grad: b.col });
    },
    destroy: () => adam.destroy(),
  };
}

/** One-shot for tests: θ, m, v after one step with gradient g f32 [S]. */
export async function thresholdAdamGpu(
  gpu: Gpu,
  theta: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  c: AdamCoefficients,
): Promise<{ theta: Float32Array; m: Float32Array; v: Float32Array }> {
  const S = theta.length;
  const kernel = createThresholdAdam(gpu, S);
  kernel.setCoefficients(c);
  const col = new Float32Array(COL_PLANES * S);
  col.set(g, 3 * S);
  const bufs = {
    theta: gpu.storage('threshold-adam:theta', theta),
    m: gpu.storage('threshold-adam:m', m),
    v: gpu.storage('threshold-adam:v', v),
    col: gpu.storage('threshold-adam:col', col),
  };
  return oneShot(
    gpu,
    'threshold-adam',
    Object.values(bufs),
    (pass) => kernel.encode(pass, bufs),
    async () => ({
      theta: await gpu.readF32(bufs.theta, S),
      m: await gpu.readF32(bufs.m, S),
      v: await gpu.readF32(bufs.v, S),
    }),
    () => kernel.destroy(),
  );
}
