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
