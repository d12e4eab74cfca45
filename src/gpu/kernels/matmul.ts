/**
 * Host wrapper for shaders/matmul.wgsl: C[M, N] = op(A)[M, K] · op(B)[K, N] + bias[N] in f32.
 * CPU twin: src/reference/matmul.ts (matmulCpu).
 */

import matmulWgsl from '../../../shaders/matmul.wgsl?raw';
import matmulVec4Wgsl from '../../../shaders/matmul-vec4.wgsl?raw';
import type { MatmulShape } from '../../sae/kernel-types';
import { type Gpu, GpuError, type ShaderSource } from '../device';
import { withConsts } from './common';

export const matmulShader: ShaderSource = { name: 'matmul', code: matmulWgsl };
export const matmulVec4Shader: ShaderSource = { name: 'matmul-vec4', code: matmulVec4Wgsl };

export type { MatmulShape };

/** Buffers of one matmul call; sizes in f32 elements must cover the shape. */
export interface MatmulBuffers {
  a: GPUBuffer;
  b: GPUBuffer;
  /** [N] f32, or null for no bias. */
  bias: GPUBuffer | null;
  /** Output [M, N] f32 (STORAGE). */
  c: GPUBuffer;
}

/** A matmul of fixed shape, ready to be recorded into compute passes. */
export interface MatmulKernel {
  readonly shape: Readonly<MatmulShape>;
  /** Record the dispatch into `pass`. @throws GpuError if a buffer is too small. */
  encode(pass: GPUComputePassEncoder, bufs: MatmulBuffers): void;
  /** Free the uniform buffer. */
  destroy(): void;
}

/** Workgroup edge WG: 16×16 = 256 invocations (the SwiftShader maximum; fine elsewhere). */
export const MATMUL_WG = 16;
/** Outputs of C per workgroup along each axis: WG × 4 (each invocation computes a 4×4 register block). */
export const MATMUL_BLOCK = MATMUL_WG * 4;

/**
 * A matmul tile for shaders/matmul-vec4.wgsl: workgroup WG × WG, TM × TN outputs per invocation (multiples of 4,
 * up to 8 × 8), k-slice BK (multiple of 4). The scalar shader (matmul.wgsl) has fixed WG 16, TM = TN = 4, BK 16.
 */
export interface MatmulTile {
  wg: number;
  tm: number;
  tn: number;
  bk: number;
  /** Use the vec4 shader where the shape allows it (see {@link matmulUsesVec4}). */
  vec4: boolean;
}

/**
 * The tile createMatmul uses by default: the vec4 shader, 8 × 8 invocations × 8 × 8 outputs each, BK 16 (about 2×
 * the scalar shader's speed on SwiftShader at the encoder's shapes, `npm run bench -- gemm`; 64 invocations and
 * 8 KiB of workgroup memory fit every WebGPU device).
 */
export const MATMUL_DEFAULT_TILE: Readonly<MatmulTile> = { wg: 8, tm: 8, tn: 8, bk: 16, vec4: true };

/**
 * The rule that picks matmul's shader: the vec4 shader (matmul-vec4.wgsl) when `tile.vec4` and both operands'
 * contiguous dimension is a multiple of 4 — A: K (or M when transA), B: N (or K when transB) — so every vec4 load
 * is aligned; otherwise the scalar shader (matmul.wgsl), e.g. for K = 29 or N = 203.
 */
export function matmulUsesVec4(shape: MatmulShape, tile: MatmulTile = MATMUL_DEFAULT_TILE): boolean {
  const aInner = shape.transA ? shape.M : shape.K;
  const bInner = shape.transB ? shape.K : shape.N;
  return tile.vec4 && aInner % 4 === 0 && bInner % 4 === 0 && tile.tm % 4 === 0 && tile.tn % 4 === 0;
}

/**
 * Build a matmul kernel of a fixed shape. @param tile the vec4 shader's tile (default {@link MATMUL_DEFAULT_TILE});
 *   shapes that fail {@link matmulUsesVec4} run the scalar shader whatever the tile. Every tile gives the same
 *   results (each output sums its products in increasing k).
 * @throws GpuError on a non-positive or non-integer dimension, or when the grid exceeds device limits.
 */
export function createMatmul(
  gpu: Gpu,
  shape: MatmulShape,
  label = 'matmul',
  tile: MatmulTile = MATMUL_DEFAULT_TILE,
): MatmulKernel {
  const { M, N, K } = shape;
  for (const [name, v] of Object.entries({ M, N, K })) {
    if (!Number.isInteger(v) || v < 1)
      throw new GpuError(`${label}: ${name} must be a positive integer, got ${v}`);
  }
  const vec4 = matmulUsesVec4(shape, tile);
  const bindings = [
    'uniform',
    'read-only-storage',
    'read-only-storage',
    'read-only-storage',
    'storage',
  ] as const;
  const pipe = vec4
    ? gpu.pipeline(withConsts(matmulVec4Shader, { TM: tile.tm, TN: tile.tn }), 'matmul_vec4', bindings, {
        WG: tile.wg,
        BK: tile.bk,
      })
    : gpu.pipeline(matmulShader, 'matmul', bindings, { WG: MATMUL_WG });
  const [blockM, blockN] = vec4 ? [tile.wg * tile.tm, tile.wg * tile.tn] : [MATMUL_BLOCK, MATMUL_BLOCK];
  const words = (hasBias: number) =>
    new Uint32Array([M, N, K, hasBias, shape.transA ? 1 : 0, shape.transB ? 1 : 0, 0, 0]);
  const params = gpu.uniform(`${label}:params`, words(1));
  const paramsNoBias = gpu.uniform(`${label}:params-nobias`, words(0));
  const grid: [number, number] = [Math.ceil(N / blockN), Math.ceil(M / blockM)];
  const need = (buf: GPUBuffer, elems: number, what: string) => {
    if (buf.size < elems * 4) {
      throw new GpuError(`${label}: ${what} buffer "${buf.label}" has ${buf.size} bytes, needs ${elems * 4}`);
    }
  };
  return {
    shape: { ...shape },
    encode(pass, { a, b, bias, c }) {
      need(a, M * K, 'A');
      need(b, K * N, 'B');
      need(c, M * N, 'C');
      if (bias) need(bias, N, 'bias');
      // Without a bias any buffer may be bound at binding 3; the shader never reads it.
      gpu.dispatch(pass, pipe, [bias ? params : paramsNoBias, a, b, bias ?? a, c], grid);
    },
    destroy() {
      params.destroy();
      paramsNoBias.destroy();
    },
  };
}

/**
 * One-shot convenience: upload, run, read back, free. For self-checks and tests; the trainer keeps its
 * buffers on the GPU and uses {@link createMatmul} directly.
 * @param a f32 [M, K] (or [K, M] if transA); @param b f32 [K, N] (or [N, K] if transB); @param bias f32 [N] or null
 * @returns C f32 [M, N]
 */
export async function matmulGpu(
  gpu: Gpu,
  a: Float32Array,
  b: Float32Array,
  bias: Float32Array | null,
  shape: MatmulShape,
  tile?: MatmulTile,
): Promise<Float32Array> {
  const kernel = createMatmul(gpu, shape, 'matmul', tile);
  const bufs = {
    a: gpu.storage('matmul:a', a),
    b: gpu.storage('matmul:b', b),
    bias: bias ? gpu.storage('matmul:bias', bias) : null,
    c: gpu.storage('matmul:c', shape.M * shape.N * 4),
  };
  try {
    await gpu.run('matmul', (pass) => kernel.encode(pass, bufs));
    return await gpu.readF32(bufs.c, shape.M * shape.N);
  } finally {
    kernel.destroy();
    for (const b of [bufs.a, bufs.b, bufs.bias, bufs.c]) b?.destroy();
  }
}
