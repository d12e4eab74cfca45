/**
 * Host wrapper for shaders/encoder.wgsl: pre[R, S] = (x[R, D] − b_dec[D]) · W_enc[D, S] + b_enc[S], f32, fused.
 * CPU twin: src/reference/encoder.ts (encoderCpu). Formula: Gao et al. 2024 §2.3 (seed 000_03f50111ba1a6c62.txt).
 */
import encoderWgsl from '../../../shaders/encoder.wgsl?raw';
import encoderVec4Wgsl from '../../../shaders/encoder-vec4.wgsl?raw';
import type { ForwardShape } from '../../sae/kernel-types';
import type { Gpu, ShaderSource } from '../device';
import { fitsBinding, needBuffer, oneShot, positiveInt, withConsts } from './common';
import { type EncoderTile, encoderTileFor, tileName, tileRegs } from './encoder-tiles';

export const encoderShader: ShaderSource = { name: 'encoder', code: encoderWgsl };
export const encoderVec4Shader: ShaderSource = { name: 'encoder-vec4', code: encoderVec4Wgsl };

/**
 * Which entry point: 'tiled' stages x and W_enc slices through workgroup memory (the usual choice on GPUs);
 * 'direct' reads them straight from storage without barriers (faster on CPU adapters such as SwiftShader).
 * Both accumulate in the same order and give the same results.
 */
export type EncoderVariant = 'tiled' | 'direct';

/** 'direct' on a fallback (CPU) adapter, 'tiled' otherwise. */
export function defaultEncoderVariant(gpu: Gpu): EncoderVariant {
  return gpu.adapter.isFallbackAdapter ? 'direct' : 'tiled';
}

/** Buffers of one encoder call. */
export interface EncoderBuffers {
  /** f32 [R, D]. */
  x: GPUBuffer;
  /** f32 [D, S]. */
  wEnc: GPUBuffer;
  /** f32 [S]. */
  bEnc: GPUBuffer;
  /** f32 [D]. */
  bDec: GPUBuffer;
  /** f32 [R, S], written. */
  pre: GPUBuffer;
}

/** An encoder of fixed shape, ready to be recorded into compute passes. */
export interface EncoderKernel {
  readonly shape: Readonly<ForwardShape>;
  /** The kernel that runs: "<entry point> <tile>", e.g. "encoder_vec4_direct 16x16/16 vec4" (see {@link encoderPlan}). */
  readonly kernel: string;
  /** Record the dispatch. @throws GpuError when a buffer is too small. */
  encode(pass: GPUComputePassEncoder, bufs: EncoderBuffers): void;
  destroy(): void;
}

/** Which shader, entry point and tile an encoder runs (see {@link encoderPlan}). */
export interface EncoderPlan {
  shader: ShaderSource;
  entryPoint: string;
  tile: EncoderTile;
  /** True when the vec4 shader (shaders/encoder-vec4.wgsl) runs. */
  vec4: boolean;
}

/**
 * The rule that picks the encoder's shader: the vec4 shader when the tile asks for it (tile.vec4) and the shape
 * allows aligned vec4 rows — d_model % 4 = 0 (rows of x, b_dec) and d_sae % 4 = 0 (rows of W_enc, b_enc, pre) — with
 * RN and BK multiples of 4; otherwise the scalar shader (shaders/encoder.wgsl) with the same workgroup, BK and
 * register block (so odd shapes such as d_model 29 or d_sae 203 run the scalar code). Entry point by variant:
 * tiled → encoder / encoder_vec4, direct → encoder_direct / encoder_vec4_direct. A workgroup over the device's
 * maxComputeInvocationsPerWorkgroup is cut to 8 × 8.
 */
export function encoderPlan(
  gpu: Gpu,
  shape: ForwardShape,
  variant: EncoderVariant,
  tile: EncoderTile,
): EncoderPlan {
  const { rm, rn } = tileRegs(tile);
  const maxInv = gpu.device.limits.maxComputeInvocationsPerWorkgroup;
  const [wgX, wgY] = tile.wgX * tile.wgY <= maxInv ? [tile.wgX, tile.wgY] : [8, 8];
  const vec4 =
    tile.vec4 === true && shape.dModel % 4 === 0 && shape.dSae % 4 === 0 && rn % 4 === 0 && tile.bk % 4 === 0;
  const base = vec4 ? encoderVec4Shader : encoderShader;
  const entry = vec4 ? 'encoder_vec4' : 'encoder';
  return {
    shader: withConsts(base, { RM: rm, RN: rn }),
    entryPoint: variant === 'tiled' ? entry : `${entry}_direct`,
    tile: { wgX, wgY, bk: tile.bk, rm, rn, vec4 },
    vec4,
  };
}

/**
 * Build the fused encoder for R rows. @param tile workgroup, d-slice, register block and vec4 flag (default: this
 *   adapter's autotuned tile, ./encoder-tune.ts; any tile gives the same results; {@link encoderPlan} says which
 *   shader runs)
 * @throws GpuError on a non-positive size, when pre [R, S] or W_enc exceeds maxStorageBufferBindingSize, or
 *   when the grid exceeds maxComputeWorkgroupsPerDimension (checked at dispatch).
 */
export function createEncoder(
  gpu: Gpu,
  shape: ForwardShape,
  label = 'encoder',
  variant: EncoderVariant = defaultEncoderVariant(gpu),
  tile: EncoderTile = encoderTileFor(gpu),
): EncoderKernel {
  const { rows: R, dModel: D, dSae: S } = shape;
  positiveInt(label, 'rows', R);
  positiveInt(label, 'd_model', D);
  positiveInt(label, 'd_sae', S);
  fitsBinding(gpu, label, 'pre-activations [rows, d_sae]', R * S);
  fitsBinding(gpu, label, 'W_enc [d_model, d_sae]', D * S);
  const plan = encoderPlan(gpu, shape, variant, tile);
  const { wgX: wx, wgY: wy, bk: BK, rm, rn } = plan.tile as Required<EncoderTile>;
  const pipe = gpu.pipeline(
    plan.shader,
    plan.entryPoint,
    [
      'uniform',
      'read-only-storage',
      'read-only-storage',
      'read-only-storage',
      'read-only-storage',
      'storage',
    ],
    { WG_X: wx, WG_Y: wy, BK },
  );
  const params = gpu.uniform(`${label}:params`, new Uint32Array([R, D, S, 0]));
  const grid: [number, number] = [Math.ceil(S / (wx * rn)), Math.ceil(R / (wy * rm))];
  return {
    shape: { ...shape },
    kernel: `${plan.entryPoint} ${tileName(plan.tile)}`,
    encode(pass, b) {
      needBuffer(label, 'x', b.x, R * D);
      needBuffer(label, 'W_enc', b.wEnc, D * S);
      needBuffer(label, 'b_enc', b.bEnc, S);
      needBuffer(label, 'b_dec', b.bDec, D);
      needBuffer(label, 'pre', b.pre, R * S);
      gpu.dispatch(pass, pipe, [params, b.x, b.wEnc, b.bEnc, b.bDec, b.pre], grid);
    },
    destroy() {
      params.destroy();
    },
  };
}

/** One-shot: upload, run, read back pre-activations f32 [R, S], free. For tests and self-checks. */
export async function encoderGpu(
  gpu: Gpu,
  x: Float32Array,
  wEnc: Float32Array,
  bEnc: Float32Array,
  bDec: Float32Array,
  shape: ForwardShape,
  variant: EncoderVariant = defaultEncoderVariant(gpu),
  tile?: EncoderTile,
): Promise<Float32Array> {
  const kernel = createEncoder(gpu, shape, 'encoder', variant, tile);
  const bufs = {
    x: gpu.storage('encoder:x', x),
    wEnc: gpu.storage('encoder:w_enc', wEnc),
    bEnc: gpu.storage('encoder:b_enc', bEnc),
    bDec: gpu.storage('encoder:b_dec', bDec),
    pre: gpu.storage('encoder:pre', shape.rows * shape.dSae * 4),
  };
  return oneShot(
    gpu,
    'encoder',
    Object.values(bufs),
    (pass) => kernel.encode(pass, bufs),
    () => gpu.readF32(bufs.pre, shape.rows * shape.dSae),
    () => kernel.destroy(),
  );
}
