/**
 * Host wrapper for shaders/dense-rows.wgsl: after a dense decode x̂ = z·W_dec + b_dec, per row: the sums
 * (‖x − x̂‖², ‖x‖², ‖x̂‖², ⟨x, x̂⟩) [R, 4], g = scale·(x̂ − x) [R, D] and xc = x − b_dec [R, D].
 * CPU twin: src/reference/dense.ts (denseRowsCpu).
 */
import denseRowsWgsl from '../../../shaders/dense-rows.wgsl?raw';
import { type DenseRowsResult, ROW_STATS } from '../../sae/kernel-types';
import type { Gpu, ShaderSource } from '../device';
import { f32Bits, fitsBinding, grid1d, needBuffer, oneShot, positiveInt, wgSize } from './common';

export const denseRowsShader: ShaderSource = { name: 'dense-rows', code: denseRowsWgsl };

/** Buffers of one dense-rows call. */
export interface DenseRowsBuffers {
  /** f32 [R, D]. */
  x: GPUBuffer;
  /** f32 [R, D]. */
  xHat: GPUBuffer;
  /** f32 [D]. */
  bDec: GPUBuffer;
  /** f32 [R, 4], written. */
  rowStats: GPUBuffer;
  /** f32 [R, D], written. */
  g: GPUBuffer;
  /** f32 [R, D], written. */
  xc: GPUBuffer;
}

/** Dense rows of a fixed shape. */
export interface DenseRowsKernel {
  encode(pass: GPUComputePassEncoder, bufs: DenseRowsBuffers): void;
  destroy(): void;
}

/** @param scale the f32 factor of g (2/(R·D) for the engine's loss) @throws GpuError on a bad size. */
export function createDenseRows(
  gpu: Gpu,
  shape: { rows: number; dModel: number },
  scale: number,
  label = 'dense-rows',
): DenseRowsKernel {
  const { rows: R, dModel: D } = shape;
  positiveInt(label, 'rows', R);
  positiveInt(label, 'd_model', D);
  fitsBinding(gpu, label, 'x [rows, d_model]', R * D);
  const wg = wgSize(gpu, 64);
  const ro = 'read-only-storage' as const;
  const pipe = gpu.pipeline(
    denseRowsShader,
    'dense_rows',
    ['uniform', ro, ro, ro, 'storage', 'storage', 'storage'],
    {
      WG: wg,
    },
  );
  const params = gpu.uniform(`${label}:params`, new Uint32Array([R, D, f32Bits(scale), 0]));
  const grid = grid1d(gpu, label, R);
  return {
    encode(pass, b) {
      for (const [what, buf, n] of [
        ['x', b.x, R * D],
        ['x̂', b.xHat, R * D],
        ['b_dec', b.bDec, D],
        ['row_stats', b.rowStats, R * ROW_STATS],
        ['g', b.g, R * D],
        ['xc', b.xc, R * D],
      ] as const) {
        needBuffer(label, what, buf, n);
      }
      gpu.dispatch(pass, pipe, [params, b.x, b.xHat, b.bDec, b.rowStats, b.g, b.xc], grid);
    },
    destroy() {
      params.destroy();
    },
  };
}

/** One-shot for tests. */
export async function denseRowsGpu(
  gpu: Gpu,
  x: Float32Array,
  xHat: Float32Array,
  bDec: Float32Array,
  scale: number,
  shape: { rows: number; dModel: number },
): Promise<DenseRowsResult> {
  const { rows: R, dModel: D } = shape;
  const kernel = createDenseRows(gpu, shape, scale);
  const bufs = {
    x: gpu.storage('dense-rows:x', x),
    xHat: gpu.storage('dense-rows:x_hat', xHat),
    bDec: gpu.storage('dense-rows:b_dec', bDec),
    rowStats: gpu.storage('dense-rows:row_stats', R * ROW_STATS * 4),
    g: gpu.storage('dense-rows:g', R * D * 4),
    xc: gpu.storage('dense-rows:xc', R * D * 4),
  };
  return oneShot(
    gpu,
    'dense-rows',
    Object.values(bufs),
    (pass) => kernel.encode(pass, bufs),
    async () => ({
      rowStats: await gpu.readF32(bufs.rowStats, R * ROW_STATS),
      g: await gpu.readF32(bufs.g, R * D),
      xc: await gpu.readF32(bufs.xc, R * D),
    }),
    () => kernel.destroy(),
  );
}
