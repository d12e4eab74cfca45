/**
 * Bench suite `gemm`: every encoder kernel (scalar and vec4 shaders, tiled and direct entry points, 4×4 and 8×8
 * register blocks) and the plain matmul (scalar vs vec4) at the step shapes, in one run on one adapter: median ms
 * and GFLOP/s (2·B·d_sae·d_model flops) per kernel, so the vec4 kernels' gain is a ratio from the same run.
 */
import type { Gpu } from '../../src/gpu/device';
import { createEncoder, type EncoderVariant } from '../../src/gpu/kernels/encoder';
import type { EncoderTile } from '../../src/gpu/kernels/encoder-tiles';
import {
  createMatmul,
  MATMUL_DEFAULT_TILE,
  type MatmulTile,
  matmulUsesVec4,
} from '../../src/gpu/kernels/matmul';
import type { SaeShape } from '../../src/sae/types';
import { Rng } from '../../src/util/rng';

/** The encoder cases timed: the scalar shader's 4×4 tile (the default before the vec4 shader), then vec4 tiles. */
const ENCODER_CASES: { variant: EncoderVariant; tile: EncoderTile }[] = [
  { variant: 'direct', tile: { wgX: 16, wgY: 16, bk: 16 } },
  { variant: 'tiled', tile: { wgX: 16, wgY: 16, bk: 16 } },
  { variant: 'direct', tile: { wgX: 16, wgY: 16, bk: 16, vec4: true } },
  { variant: 'direct', tile: { wgX: 8, wgY: 8, bk: 16, rm: 8, rn: 8, vec4: true } },
  { variant: 'tiled', tile: { wgX: 8, wgY: 8, bk: 16, rm: 8, rn: 8, vec4: true } },
];

/** The matmul tiles timed at the encoder's M×N×K (A = x [B, d_model], B = W_enc [d_model, d_sae], bias b_enc). */
const MATMUL_CASES: MatmulTile[] = [
  { ...MATMUL_DEFAULT_TILE, vec4: false }, // the scalar shader (matmul.wgsl, 16 × 16 × (4 × 4) / 16)
  { wg: 16, tm: 4, tn: 4, bk: 16, vec4: true },
  MATMUL_DEFAULT_TILE,
];

/**
 * Time each case (after one warm-up; `reps` timed dispatches, each submit + wait) at each shape.
 * @param time the bench's timer (median ms of `reps` runs)
 * @param encoderCases, matmulCases what to time (default: the lists above)
 */
export async function gemmBench(
  gpu: Gpu,
  shapes: readonly SaeShape[],
  reps: number,
  time: (fn: () => Promise<void>, reps: number) => Promise<number>,
  encoderCases: readonly { variant: EncoderVariant; tile: EncoderTile }[] = ENCODER_CASES,
  matmulCases: readonly MatmulTile[] = MATMUL_CASES,
): Promise<unknown[]> {
  const out = [];
  for (const shape of shapes) {
    const { dModel: D, dSae: S, batchSize: B } = shape;
    const rng = new Rng(5);
    const fwd = { rows: B, dModel: D, dSae: S };
    const bufs = {
      x: gpu.storage('bench-gemm:x', rng.normalArray(B * D)),
      wEnc: gpu.storage('bench-gemm:w_enc', rng.normalArray(D * S)),
      bEnc: gpu.storage('bench-gemm:b_enc', rng.normalArray(S)),
      bDec: gpu.storage('bench-gemm:b_dec', rng.normalArray(D)),
      pre: gpu.storage('bench-gemm:pre', B * S * 4),
    };
    const gflops = (ms: number) => Number(((2 * B * S * D) / (ms * 1e6)).toPrecision(4));
    const encoder: Record<string, { ms: number; gflops: number }> = {};
    const matmul: Record<string, { ms: number; gflops: number }> = {};
    try {
      for (const c of encoderCases) {
        const enc = createEncoder(gpu, fwd, 'bench-gemm:encoder', c.variant, c.tile);
        try {
          const ms = await time(() => gpu.run('bench-gemm:encoder', (p) => enc.encode(p, bufs)), reps);
          encoder[enc.kernel] = { ms: Number(ms.toPrecision(4)), gflops: gflops(ms) };
        } finally {
          enc.destroy();
        }
      }
      for (const t of matmulCases) {
        const mm = createMatmul(gpu, { M: B, N: S, K: D }, 'bench-gemm:matmul', t);
        const name = matmulUsesVec4({ M: B, N: S, K: D }, t)
          ? `matmul_vec4 ${t.wg}x${t.wg} ${t.tm}x${t.tn}/${t.bk}`
          : 'matmul (scalar) 16x16 4x4/16';
        try {
          const ms = await time(
            () =>
              gpu.run('bench-gemm:matmul', (p) =>
                mm.encode(p, { a: bufs.x, b: bufs.wEnc, bias: bufs.bEnc, c: bufs.pre }),
              ),
            reps,
          );
          matmul[name] = { ms: Number(ms.toPrecision(4)), gflops: gflops(ms) };
        } finally {
          mm.destroy();
        }
      }
    } finally {
      for (const b of Object.values(bufs)) b.destroy();
    }
    out.push({ shape: { d_model: D, d_sae: S, batch: B }, encoder, matmul, reps });
  }
  return out;
}
