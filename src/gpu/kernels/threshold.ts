/**
 * Host wrapper for shaders/threshold-adam.wgsl: Adam on log θ for the JumpReLU threshold, θ stored
 * (θ ← θ·exp(−Δ)). The gradient is plane 3 of the activation backward's col buffer. CPU twin:
 * src/reference/threshold.ts (thresholdAdamCpu).
 */
import thresholdAdamWgsl from '../../../shaders/threshold-adam.wgsl?raw';
import type { AdamCoefficients } from '../../reference/adam';
import type { Gpu, ShaderSource } from '../device';
import { COL_PLANES } from './activation';
import { f32Bits, grid1d, needBuffer, oneShot, positiveInt, wgSize } from './common';

export const thresholdAdamShader: ShaderSource = { name: 'threshold-adam', code: thresholdAdamWgsl };

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

/** @throws GpuError when d_sae is not a positive integer. */
export function createThresholdAdam(gpu: Gpu, dSae: number, label = 'threshold-adam'): ThresholdAdamKernel {
  positiveInt(label, 'd_sae', dSae);
  const wg = wgSize(gpu, 256);
  const pipe = gpu.pipeline(
    thresholdAdamShader,
    'threshold_adam',
    ['uniform', 'storage', 'storage', 'storage', 'read-only-storage'],
    { WG: wg },
  );
  const params = gpu.uniform(`${label}:params`, new Uint32Array(12));
  const grid = grid1d(gpu, label, Math.ceil(dSae / wg));
  return {
    setCoefficients(c) {
      const f = [c.lr, c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2, c.eps, c.bc1, c.bc2].map(f32Bits);
      gpu.write(params, new Uint32Array([...f, dSae, 0, 0, 0]));
    },
    encode(pass, b) {
      needBuffer(label, 'θ', b.theta, dSae);
      needBuffer(label, 'm', b.m, dSae);
      needBuffer(label, 'v', b.v, dSae);
      needBuffer(label, 'col', b.col, COL_PLANES * dSae);
      gpu.dispatch(pass, pipe, [params, b.theta, b.m, b.v, b.col], grid);
    },
    destroy() {
      params.destroy();
    },
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
