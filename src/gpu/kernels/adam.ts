/**
 * Host wrapper for shaders/adam.wgsl: Adam with bias correction over one flat f32 tensor, in place
 * (Kingma & Ba 2015, Algorithm 1; β1 = 0 allowed, Gemma Scope §3.2). CPU twin: src/reference/adam.ts.
 * The step-dependent scalars come from {@link adamCoefficients} and are written with queue.writeBuffer.
 */
import adamWgsl from '../../../shaders/adam.wgsl?raw';
import type { AdamCoefficients } from '../../sae/kernel-types';
import type { Gpu, ShaderSource } from '../device';
import { f32Bits, fitsBinding, grid1d, needBuffer, oneShot, positiveInt, wgSize } from './common';

export const adamShader: ShaderSource = { name: 'adam', code: adamWgsl };

/** The tensors of one Adam update, each f32 [n]. */
export interface AdamBuffers {
  param: GPUBuffer;
  m: GPUBuffer;
  v: GPUBuffer;
  grad: GPUBuffer;
}

/** Adam over a tensor of n elements. */
export interface AdamKernel {
  readonly n: number;
  /** Write this step's scalars (queue.writeBuffer; takes effect for work submitted afterwards). */
  setCoefficients(c: AdamCoefficients): void;
  encode(pass: GPUComputePassEncoder, bufs: AdamBuffers): void;
  destroy(): void;
}

/** The 12-word uniform of adam.wgsl. */
function adamWords(c: AdamCoefficients, n: number, gradOffset: number): Uint32Array {
  return new Uint32Array([
    ...[c.lr, c.beta1, c.oneMinusBeta1, c.beta2, c.oneMinusBeta2, c.eps, c.bc1, c.bc2].map(f32Bits),
    n,
    gradOffset,
    0,
    0,
  ]);
}

/** How {@link createAdam} reads the gradient and applies the step (the defaults: plain Adam). */
export interface AdamMode {
  /**
   * Train log p with p stored: p ← p·exp(−Δ) instead of p ← p − Δ (the JumpReLU threshold,
   * src/gpu/kernels/threshold.ts). Default false.
   */
  logParam?: boolean;
  /** The gradient of element i is grad[gradOffset + i]; the grad buffer needs gradOffset + n floats. Default 0. */
  gradOffset?: number;
}

/** @throws GpuError when n is not a positive integer or the tensor exceeds maxStorageBufferBindingSize. */
export function createAdam(gpu: Gpu, n: number, label = 'adam', mode: AdamMode = {}): AdamKernel {
  positiveInt(label, 'n', n);
  fitsBinding(gpu, label, 'tensor', n);
  const gradOffset = mode.gradOffset ?? 0;
  const wg = wgSize(gpu, 256);
  const pipe = gpu.pipeline(
    adamShader,
    'adam',
    ['uniform', 'storage', 'storage', 'storage', 'read-only-storage'],
    { WG: wg, LOG_PARAM: mode.logParam ? 1 : 0 },
  );
  const params = gpu.uniform(`${label}:params`, new Uint32Array(12));
  const grid = grid1d(gpu, label, Math.ceil(n / wg));
  return {
    n,
    setCoefficients(c) {
      gpu.write(params, adamWords(c, n, gradOffset));
    },
    encode(pass, b) {
      needBuffer(label, 'param', b.param, n);
      needBuffer(label, 'm', b.m, n);
      needBuffer(label, 'v', b.v, n);
      needBuffer(label, 'grad', b.grad, gradOffset + n);
      gpu.dispatch(pass, pipe, [params, b.param, b.m, b.v, b.grad], grid);
    },
    destroy() {
      params.destroy();
    },
  };
}

/** One-shot Adam step for tests: returns the updated parameter and moments. */
export async function adamGpu(
  gpu: Gpu,
  param: Float32Array,
  m: Float32Array,
  v: Float32Array,
  grad: Float32Array,
  c: AdamCoefficients,
): Promise<{ param: Float32Array; m: Float32Array; v: Float32Array }> {
  const n = param.length;
  const kernel = createAdam(gpu, n);
  kernel.setCoefficients(c);
  const bufs = {
    param: gpu.storage('adam:param', param),
    m: gpu.storage('adam:m', m),
    v: gpu.storage('adam:v', v),
    grad: gpu.storage('adam:grad', grad),
  };
  return oneShot(
    gpu,
    'adam',
    Object.values(bufs),
    (pass) => kernel.encode(pass, bufs),
    async () => ({
      param: await gpu.readF32(bufs.param, n),
      m: await gpu.readF32(bufs.m, n),
      v: await gpu.readF32(bufs.v, n),
    }),
    () => kernel.destroy(),
  );
}
