import { expect, test } from '@playwright/test';
import type { CheckParams } from './harness/checks/types';
import { openHarness, runCheck } from './harness-client';

/** Odd, non-power-of-two shapes [M, N, K], from the foundation issue. */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [7, 13, 5],
  [33, 65, 17],
  [128, 64, 257],
];

for (const where of ['page', 'worker'] as const) {
  test.describe(`matmul in the ${where}`, () => {
    test('matches the CPU twin at odd shapes, with and without bias and transposes', async ({ page }) => {
      await openHarness(page);
      for (const [M, N, K] of SHAPES) {
        for (const variant of [
          { bias: false },
          { bias: true },
          { transA: true, transB: true, bias: true },
        ] as CheckParams[]) {
          const r = await runCheck(page, where, 'matmul', { M, N, K, seed: M * 31 + K, ...variant });
          for (const rep of r.reports) expect(rep.ok, rep.summary).toBe(true);
          expect(r.context).toBe(where);
        }
      }
    });
  });
}

/** shaders/matmul-vec4.wgsl: non-power-of-two shapes whose contiguous dimensions are multiples of 4 (odd M rows). */
test.describe('matmul vec4 in the worker', () => {
  test('every transpose case and 4×4 to 8×8 tiles match the CPU twin; odd inner dimensions use the scalar shader', async ({
    page,
  }) => {
    await openHarness(page);
    const check = async (params: CheckParams) => {
      const r = await runCheck(page, 'worker', 'matmul', params);
      for (const rep of r.reports) expect(rep.ok, rep.summary).toBe(true);
    };
    const cases: CheckParams[] = [
      { bias: true },
      { transB: true }, // the LM's layout
      { transA: true, transB: true, bias: true },
      { transA: true },
    ];
    for (const [M, N, K] of [
      [36, 68, 44],
      [132, 20, 36],
    ]) {
      for (const c of cases) await check({ M, N, K, seed: M + N + K, ...c, expectVec4: 1 });
    }
    for (const t of [
      { wg: 8, tm: 8, tn: 8, bk: 16 },
      { wg: 16, tm: 8, tn: 4, bk: 8 },
    ]) {
      await check({ M: 37, N: 68, K: 36, seed: 5, bias: true, ...t, expectVec4: 1 });
      await check({ M: 36, N: 68, K: 44, seed: 6, transA: true, transB: true, ...t, expectVec4: 1 });
    }
    await check({ M: 37, N: 203, K: 29, seed: 7, bias: true, expectVec4: 0 }); // odd inner dimensions: scalar
  });
});
