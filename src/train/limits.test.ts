import { describe, expect, it } from 'vitest';
import { checkLimits, estimateGpuBytes, formatBytes, largestBufferBytes } from './limits';

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
