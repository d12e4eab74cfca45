import { describe, expect, it } from 'vitest';
import { matmulCpu } from './matmul';

describe('matmulCpu', () => {
  // A [2,3], B [3,2]
  const a = new Float32Array([1, 2, 3, 4, 5, 6]);
  const b = new Float32Array([7, 8, 9, 10, 11, 12]);
  it('computes A·B + bias', () => {
    expect([...matmulCpu(a, b, new Float32Array([1, -1]), { M: 2, N: 2, K: 3 })]).toEqual([59, 63, 140, 153]);
  });
  it('reads transposed operands', () => {
    const aT = new Float32Array([1, 4, 2, 5, 3, 6]); // [3,2]
    const bT = new Float32Array([7, 9, 11, 8, 10, 12]); // [2,3]
    expect([...matmulCpu(aT, bT, null, { M: 2, N: 2, K: 3, transA: true, transB: true })]).toEqual([
      58, 64, 139, 154,
    ]);
  });
  it('rejects short inputs', () => {
    expect(() => matmulCpu(a, b, null, { M: 3, N: 2, K: 3 })).toThrow(RangeError);
  });
});
