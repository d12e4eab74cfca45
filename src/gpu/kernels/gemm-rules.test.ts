/**
 * The host-side rules of the vec4 GEMM kernels (no WebGPU needed; the kernels themselves are checked against their
 * CPU twins in e2e/kernels.spec.ts and e2e/matmul.spec.ts): which shapes take the vec4 shader, which tiles fit the
 * limits, and the `const` rewriting that sizes the register blocks.
 */
import { describe, expect, it } from 'vitest';
import encoderVec4Wgsl from '../../../shaders/encoder-vec4.wgsl?raw';
import { withConsts } from './common';
import {
  DEFAULT_ENCODER_TILE,
  ENCODER_TILE_CANDIDATES,
  ENCODER_VEC4_CANDIDATES,
  sameTile,
  tileFits,
  tileName,
} from './encoder-tiles';
import { MATMUL_DEFAULT_TILE, matmulUsesVec4 } from './matmul';

const LIMITS = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 1 << 27,
  maxBufferSize: 1 << 28,
  maxStorageBuffersPerShaderStage: 8,
};

describe('withConsts', () => {
  const src = { name: 'encoder-vec4', code: encoderVec4Wgsl };
  it('rewrites the register-block constants and memoises the variant', () => {
    const v = withConsts(src, { RM: 8, RN: 8 });
    expect(v.name).toBe('encoder-vec4[RM=8,RN=8]');
    expect(v.code).toMatch(/^const RM: u32 = 8u;$/m);
    expect(v.code).toMatch(/^const RN: u32 = 8u;$/m);
    expect(v.code).not.toMatch(/^const RM: u32 = 4u;$/m);
    expect(withConsts(src, { RN: 8, RM: 8 })).toBe(v);
    expect(withConsts(src, {})).toBe(src);
  });
  it('throws on a constant the shader does not declare, or a bad value', () => {
    expect(() => withConsts(src, { TM: 8 })).toThrow(/encoder-vec4: no "const TM/);
    expect(() => withConsts(src, { RM: 0 })).toThrow(/RM must be a positive integer/);
  });
});

describe('encoder tiles', () => {
  it('every candidate has a distinct name and fits 16 KiB of workgroup memory and 256 invocations', () => {
    const names = ENCODER_TILE_CANDIDATES.map(tileName);
    expect(new Set(names).size).toBe(names.length);
    for (const t of ENCODER_TILE_CANDIDATES) expect(tileFits(t, LIMITS), tileName(t)).toBe(true);
    expect(ENCODER_TILE_CANDIDATES.some((t) => sameTile(t, DEFAULT_ENCODER_TILE))).toBe(true);
  });
  it('vec4 candidates cover 4×4 to 8×8 register blocks with RN and BK multiples of 4', () => {
    for (const t of ENCODER_VEC4_CANDIDATES) {
      expect(t.vec4).toBe(true);
      expect((t.rn ?? 4) % 4).toBe(0);
      expect(t.bk % 4).toBe(0);
    }
    expect(ENCODER_VEC4_CANDIDATES.map((t) => `${t.rm}x${t.rn}`)).toEqual(
      expect.arrayContaining(['4x4', '8x8', '8x4', '4x8']),
    );
  });
  it('tileFits counts the register block in workgroup memory', () => {
    expect(tileFits({ wgX: 16, wgY: 16, bk: 16, rm: 8, rn: 8 }, LIMITS)).toBe(true); // (128 + 128)·16·4 = 16 KiB
    expect(tileFits({ wgX: 16, wgY: 16, bk: 32, rm: 8, rn: 8 }, LIMITS)).toBe(false);
    expect(tileFits({ wgX: 32, wgY: 16, bk: 8 }, LIMITS)).toBe(false); // 512 invocations
  });
  it('missing fields read as their defaults', () => {
    expect(
      sameTile({ wgX: 16, wgY: 16, bk: 16 }, { wgX: 16, wgY: 16, bk: 16, rm: 4, rn: 4, vec4: false }),
    ).toBe(true);
    expect(tileName({ wgX: 8, wgY: 8, bk: 16, rm: 8, rn: 8, vec4: true })).toBe('8x8/16 8x8 vec4');
  });
});

describe('matmulUsesVec4', () => {
  it('needs each operand’s contiguous dimension to be a multiple of 4', () => {
    expect(matmulUsesVec4({ M: 37, N: 68, K: 36 })).toBe(true);
    expect(matmulUsesVec4({ M: 37, N: 68, K: 29 })).toBe(false); // A rows of 29
    expect(matmulUsesVec4({ M: 37, N: 203, K: 36 })).toBe(false); // B rows of 203
    expect(matmulUsesVec4({ M: 36, N: 203, K: 44, transA: true, transB: true })).toBe(true); // A [K, M], B [N, K]
    expect(matmulUsesVec4({ M: 37, N: 68, K: 44, transA: true })).toBe(false); // A [K, 37]
    expect(matmulUsesVec4({ M: 7, N: 13, K: 44, transB: true })).toBe(true); // the LM's layout, B [N, K]
    expect(matmulUsesVec4({ M: 37, N: 68, K: 36 }, { ...MATMUL_DEFAULT_TILE, vec4: false })).toBe(false);
  });
});
