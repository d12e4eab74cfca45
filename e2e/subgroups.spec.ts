/**
 * Issue 17, GPU practice: BatchTopK steps planned on the GPU (no readback per step), and the subgroup variants of
 * TopK and the reductions against their CPU twins, with and without subgroups (in the harness Web Worker).
 */
import { expect, type Page, test } from '@playwright/test';
import type { CheckParams } from './harness/checks/types';
import { openHarness, runCheck } from './harness-client';

async function expectCheck(page: Page, name: string, params: CheckParams) {
  const r = await runCheck(page, 'worker', name, params);
  expect(r.context).toBe('worker');
  expect(r.reports.length).toBeGreaterThan(0);
  for (const rep of r.reports) expect(rep.ok, rep.summary).toBe(true);
}

test.describe('GPU practice: no per-step readback, subgroup variants', () => {
  test.beforeEach(async ({ page }) => {
    await openHarness(page);
  });

  test('BatchTopK: the bucket plan on the GPU equals its twin; steps read nothing back and equal the readback plan', async ({
    page,
  }) => {
    for (const dSae of [203, 1024])
      await expectCheck(page, 'batchtopk-plan', { dSae, slots: 37, seed: dSae });
    await expectCheck(page, 'batchtopk-steps', { rows: 37, dModel: 29, dSae: 203, k: 5, steps: 2, seed: 3 });
    // k = 250 of d_sae = 600: the dense fallback; with AuxK.
    await expectCheck(page, 'batchtopk-steps', { rows: 9, dModel: 29, dSae: 600, k: 250, steps: 2, seed: 4 });
    await expectCheck(page, 'batchtopk-steps', {
      rows: 37,
      dModel: 29,
      dSae: 203,
      k: 9,
      steps: 2,
      auxk: true,
      seed: 5,
    });
  });

  test('TopK: the subgroup variant and the plain one select exactly the picks, order and ties of the CPU twin', async ({
    page,
  }) => {
    for (const subgroups of [false, true]) {
      for (const k of [7, 8]) {
        await expectCheck(page, 'topk', { rows: 37, dModel: 1, dSae: 203, k, seed: k, subgroups });
        await expectCheck(page, 'topk', { rows: 37, dModel: 1, dSae: 203, k, seed: k, ties: 6, subgroups });
      }
      await expectCheck(page, 'topk', { rows: 5, dModel: 1, dSae: 7, k: 7, seed: 4, subgroups }); // k = d_sae
    }
    // Wide rows at the kernel's k limit (the plain variant's are in e2e/kernels.spec.ts).
    await expectCheck(page, 'topk', {
      rows: 3,
      dModel: 1,
      dSae: 4099,
      k: 256,
      seed: 5,
      ties: 4,
      subgroups: true,
    });
  });

  test('reductions: step stats, evaluation sums and the sparsity loss, subgroup and plain variants, at odd lengths', async ({
    page,
  }) => {
    for (const subgroups of [false, true]) {
      await expectCheck(page, 'stats', { rows: 37, dModel: 29, dSae: 203, k: 5, seed: 1, subgroups });
      await expectCheck(page, 'stats', { rows: 3, dModel: 5, dSae: 7, k: 2, seed: 2, subgroups });
      for (const rows of [1, 37, 1001])
        await expectCheck(page, 'eval-reduce', { rows, dSae: 203, chunk: 2, seed: rows, subgroups });
      for (const mode of ['relu', 'jumprelu'])
        await expectCheck(page, 'arch-stats', { dSae: 203, rows: 37, mode, seed: 9, subgroups });
    }
  });
});
