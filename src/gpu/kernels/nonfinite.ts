/**
 * Host wrapper for shaders/nonfinite.wgsl: OR "some element is NaN or ±Inf" of one f32 tensor into a sticky u32
 * flag word on the GPU. CPU twin: src/reference/nonfinite.ts (hasNonFiniteCpu).
 */
import nonfiniteWgsl from '../../../shaders/nonfinite.wgsl?raw';
import type { Gpu, ShaderSource } from '../device';
import { grid1d, needBuffer, oneShot, positiveInt, wgSize } from './common';

export const nonfiniteShader: ShaderSource = { name: 'nonfinite', code: nonfiniteWgsl };

/** The scan of one tensor of fixed length n into flag word `word`. */
export interface NonFiniteKernel {
  /** Record: flag[word] |= 1 when data[0..n) holds a non-finite value. `data` f32 [n], `flag` u32 [word + 1]. */
  encode(pass: GPUComputePassEncoder, bufs: { data: GPUBuffer; flag: GPUBuffer }): void;
  destroy(): void;
}

/** @throws GpuError on a non-positive n or a negative word index. */
export function createNonFinite(gpu: Gpu, n: number, word: number, label = 'nonfinite'): NonFiniteKernel {
  positiveInt(label, 'n', n);
  positiveInt(label, 'word + 1', word + 1);
  const wg = wgSize(gpu, 256);
  const pipe = gpu.pipeline(nonfiniteShader, 'nonfinite', ['uniform', 'read-only-storage', 'storage'], {
    WG: wg,
  });
  const params = gpu.uniform(`${label}:params`, new Uint32Array([n, word, 0, 0]));
  const grid = grid1d(gpu, label, Math.ceil(n / wg));
  return {
    encode(pass, b) {
      needBuffer(label, 'data', b.data, n);
      needBuffer(label, 'flag', b.flag, word + 1);
      gpu.dispatch(pass, pipe, [params, b.data, b.flag], grid);
    },
    destroy() {
      params.destroy();
    },
  };
}

/** One-shot for tests: the flag word (0 or 1) after scanning `data`, starting from 0. */
export async function nonFiniteGpu(gpu: Gpu, data: Float32Array): Promise<number> {
  const kernel = createNonFinite(gpu, data.length, 0);
  const bufs = { data: gpu.storage('nonfinite:data', data), flag: gpu.storage('nonfinite:flag', 16) };
  return oneShot(
    gpu,
    'nonfinite',
    Object.values(bufs),
    (pass) => kernel.encode(pass, bufs),
    async () => (await gpu.readU32(bufs.flag, 1))[0],
    () => kernel.destroy(),
  );
}
