import { describe, expect, it } from 'vitest';
import {
  CPU_ENGINE_MEMORY_BYTES,
  checkCpuMemory,
  checkEngineLimits,
  checkLimits,
  estimateGpuBytes,
  formatBytes,
  largestBufferBytes,
} from './limits';

const SWIFTSHADER = { maxStorageBufferBindingSize: 134_217_728, maxBufferSize: 268_435_456 };

describe('adapter limit checks', () => {
  it('accepts a run whose largest buffer fits exactly, refuses one element more', () => {
    // B·S·4 = 2^27 exactly at B = 512, S = 65536.
    expect(largestBufferBytes({ batchSize: 512, dModel: 64, dSae: 65536 })).toBe(134_217_728);
    expect(checkLimits({ batchSize: 512, dModel: 64, dSae: 65536 }, SWIFTSHADER)).toEqual([]);
    const p = checkLimits({ batchSize: 512, dModel: 64, dSae: 65537 }, SWIFTSHADER);
    expect(p).toHaveLength(1);
    expect(p[0].field).toBe('batchSize');
    expect(p[0].message).toContain('maxStorageBufferBindingSize');
    expect(p[0].message).toContain('d_sae ≤ 65536');
  });
  it('blames d_sae when W_enc is the largest buffer, and the smaller of the two limits', () => {
    const p = checkLimits({ batchSize: 16, dModel: 4096, dSae: 1 << 20 }, SWIFTSHADER);
    expect(p[0].field).toBe('dSae');
    expect(p[0].message).toMatch(/W_enc \[d_model 4096, d_sae 1048576\] needs 17\.18 GB/);
    const q = checkLimits(
      { batchSize: 16, dModel: 4096, dSae: 1 << 20 },
      { ...SWIFTSHADER, maxBufferSize: 1000 },
    );
    expect(q[0].message).toContain('maxBufferSize');
    expect(checkLimits({ batchSize: 16, dModel: 4096, dSae: 8 }, SWIFTSHADER, 'expansionFactor')).toEqual([]);
    expect(
      checkLimits({ batchSize: 16, dModel: 4096, dSae: 1 << 20 }, SWIFTSHADER, 'expansionFactor')[0].field,
    ).toBe('expansionFactor');
  });
  it('estimates memory with the documented formula', () => {
    const B = 512;
    const D = 64;
    const S = 512;
    expect(estimateGpuBytes({ batchSize: B, dModel: D, dSae: S })).toBe(
      4 * (5 * B * S + 8 * D * S + 6 * S + 6 * D + 3 * B * D),
    );
    expect(formatBytes(estimateGpuBytes({ batchSize: B, dModel: D, dSae: S }))).toBe('6.7 MB');
    expect(formatBytes(999)).toBe('999 bytes');
    expect(formatBytes(5_000_000)).toBe('5.0 MB');
  });
});

describe('limits of the engine that will run', () => {
  it('the CPU engine is not held to GPU buffer limits, only to its own memory', () => {
    // Over SwiftShader's buffer limit (B·S·4 = 2^27 + 2 kB) but ~0.8 GB in total: the GPU engine refuses, the CPU runs.
    const run = { batchSize: 512, dModel: 64, dSae: 65537 };
    expect(checkEngineLimits('gpu', run, SWIFTSHADER)).toHaveLength(1);
    expect(checkEngineLimits('cpu', run, SWIFTSHADER)).toEqual([]);
    expect(checkEngineLimits('gpu', run, null)).toEqual([]);
  });
  it('refuses a run over the wasm32 memory, with the largest d_sae that fits', () => {
    const B = 64;
    const D = 2048;
    const big = { batchSize: B, dModel: D, dSae: 100_000 };
    expect(estimateGpuBytes(big)).toBeGreaterThan(CPU_ENGINE_MEMORY_BYTES);
    const p = checkEngineLimits('cpu', big, SWIFTSHADER, 'expansionFactor');
    expect(p).toHaveLength(1);
    expect(p[0].field).toBe('expansionFactor');
    const maxDSae = Number(/d_sae ≤ (\d+)/.exec(p[0].message)?.[1]);
    expect(p[0].message).toMatch(
      /needs about 6\.69 GB of memory on the CPU engine, over its limit of 4\.29 GB/,
    );
    expect(estimateGpuBytes({ ...big, dSae: maxDSae })).toBeLessThanOrEqual(CPU_ENGINE_MEMORY_BYTES);
    expect(estimateGpuBytes({ ...big, dSae: maxDSae + 1 })).toBeGreaterThan(CPU_ENGINE_MEMORY_BYTES);
    // A huge batch is blamed on the batch size (5·B > 8·D).
    const q = checkCpuMemory({ batchSize: 1 << 16, dModel: 64, dSae: 4096 });
    expect(q[0].field).toBe('batchSize');
    expect(q[0].message).toContain('or a smaller batch');
    expect(checkCpuMemory({ batchSize: 512, dModel: 64, dSae: 512 })).toEqual([]);
  });
});
