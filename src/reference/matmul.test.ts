import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
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
  it('equals the naive m, n, k loop bit for bit (every transpose, odd shapes)', () => {
    const rng = new Rng(5);
    const f = Math.fround;
    for (const [M, N, K] of [
      [7, 13, 29],
      [33, 5, 17],
    ]) {
      for (const [zeroA, zeroB, nanAt] of [
        [0, 0, -1],
        [0.8, 0, -1],
        [0, 0.9, -1],
        [0.7, 0.9, 3],
        [0.9, 0.2, 5],
      ]) {
        // Sparse operands (zeros skipped by matmulCpu) and a NaN that must still propagate.
        const a = Float32Array.from({ length: M * K }, () => (rng.uniform() < zeroA ? 0 : rng.normal()));
        const b = Float32Array.from({ length: K * N }, () => (rng.uniform() < zeroB ? 0 : rng.normal()));
        if (nanAt >= 0) (zeroA > zeroB ? b : a)[nanAt] = Number.NaN;
        const bias = Float32Array.from({ length: N }, () => rng.normal());
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            const naive = new Float32Array(M * N);
            for (let m = 0; m < M; m++) {
              for (let n = 0; n < N; n++) {
                let acc = 0;
                for (let k = 0; k < K; k++) {
                  const av = transA ? a[k * M + m] : a[m * K + k];
                  const bv = transB ? b[n * K + k] : b[k * N + n];
                  acc = f(acc + f(av * bv));
                }
                naive[m * N + n] = f(acc + bias[n]);
              }
            }
            expect(matmulCpu(a, b, bias, { M, N, K, transA, transB })).toEqual(naive);
          }
        }
      }
    }
  });
});
