/**
 * Host wrapper for shaders/decode.wgsl: sparse TopK decode x̂[R, D] = Σ_j ReLU(value)·W_dec[index] + b_dec, with
 * per-row sums (Σ(x̂−x)², Σx², Σx̂², Σx·x̂) [R, 4]. CPU twin: src/reference/decode.ts (decodeCpu).
 */
import decodeWgsl from '../../../shaders/decode.wgsl?raw';
import { type DecodeResult, type ForwardShape, ROW_STATS } from '../../sae/kernel-types';
import { MAX_K } from '../../sae/validate';
import { type Gpu, GpuError, type ShaderSource } from '../device';
import { fitsBinding, grid1d, needBuffer, oneShot, positiveInt, wgSize } from './common';

export const decodeShader: ShaderSource = { name: 'decode', code: decodeWgsl };

/** Shape of a decode: rows, d_model, d_sae, k. */
export type DecodeShape = ForwardShape & { k: number };

/** Buffers of one decode call. */
export interface DecodeBuffers {
  /** f32 [R, D]. */
  x: GPUBuffer;
  /** u32 [R, k]. */
  indices: GPUBuffer;
  /** f32 [R, k]. */
  values: GPUBuffer;
  /** f32 [S, D]. */
  wDec: GPUBuffer;
  /** f32 [D]. */
  bDec: GPUBuffer;
  /** f32 [R, D], written. */
  xHat: GPUBuffer;
  /** f32 [R, 4], written. */
  rowStats: GPUBuffer;
}

/** A decode of fixed shape. */
export interface DecodeKernel {
  readonly shape: Readonly<DecodeShape>;
  encode(pass: GPUComputePassEncoder, bufs: DecodeBuffers): void;
  destroy(): void;
}

/** @throws GpuError on a non-positive size, k outside [1, min(d_sae, 256)], or an oversized tensor. */
export function createDecode(gpu: Gpu, shape: DecodeShape, label = 'decode'): DecodeKernel {
  const { rows: R, dModel: D, dSae: S, k } = shape;
  positiveInt(label, 'rows', R);
  positiveInt(label, 'd_model', D);
  positiveInt(label, 'd_sae', S);
  positiveInt(label, 'k', k);
  if (k > Math.min(S, MAX_K)) throw new GpuError(`${label}: k=${k} exceeds min(d_sae=${S}, K_MAX=${MAX_K})`);
  fitsBinding(gpu, label, 'W_dec [d_sae, d_model]', S * D);
  fitsBinding(gpu, label, 'x̂ [rows, d_model]', R * D);
  const wg = wgSize(gpu, 64);
  const kinds = [
    'uniform',
    'read-only-storage',
    'read-only-storage',
    'read-only-storage',
    'read-only-storage',
    'read-only-storage',
    'storage',
    'storage',
  ] as const;
  const pDecode = gpu.pipeline(decodeShader, 'decode', kinds, { WG: wg });
  const pRowStats = gpu.pipeline(decodeShader, 'decode_row_stats', kinds, { WG: wg });
  const params = gpu.uniform(`${label}:params`, new Uint32Array([R, D, S, k]));
  const elemGrid = grid1d(gpu, label, Math.ceil((R * D) / wg));
  const rowGrid = grid1d(gpu, label, Math.ceil(R / wg));
  return {
    shape: { ...shape },
    encode(pass, b) {
      needBuffer(label, 'x', b.x, R * D);
      needBuffer(label, 'indices', b.indices, R * k);
      needBuffer(label, 'values', b.values, R * k);
      needBuffer(label, 'W_dec', b.wDec, S * D);
      needBuffer(label, 'b_dec', b.bDec, D);
      needBuffer(label, 'x̂', b.xHat, R * D);
      needBuffer(label, 'row_stats', b.rowStats, R * ROW_STATS);
      const bufs = [params, b.x, b.indices, b.values, b.wDec, b.bDec, b.xHat, b.rowStats];
      gpu.dispatch(pass, pDecode, bufs, elemGrid);
      gpu.dispatch(pass, pRowStats, bufs, rowGrid);
    },
    destroy() {
      params.destroy();
    },
  };
}

/** One-shot decode for tests: x̂ f32 [R, D] and row sums f32 [R, 4]. */
export async function decodeGpu(
  gpu: Gpu,
  x: Float32Array,
  indices: Uint32Array,
  values: Float32Array,
  wDec: Float32Array,
  bDec: Float32Array,
  shape: DecodeShape,
): Promise<DecodeResult> {
  const kernel = createDecode(gpu, shape);
  const { rows: R, dModel: D } = shape;
  const bufs = {
    x: gpu.storage('decode:x', x),
    indices: gpu.storage('decode:indices', indices),
    values: gpu.storage('decode:values', values),
    wDec: gpu.storage('decode:w_dec', wDec),
    bDec: gpu.storage('decode:b_dec', bDec),
    xHat: gpu.storage('decode:x_hat', R * D * 4),
    rowStats: gpu.storage('decode:row_stats', R * ROW_STATS * 4),
  };
  return oneShot(
    gpu,
    'decode',
    Object.values(bufs),
    (pass) => kernel.encode(pass, bufs),
    async () => ({
      xHat: await gpu.readF32(bufs.xHat, R * D),
      rowStats: await gpu.readF32(bufs.rowStats, R * ROW_STATS),
    }),
    () => kernel.destroy(),
  );
}
