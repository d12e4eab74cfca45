/**
 * The architecture kernels (BatchTopK selection + running θ, JumpReLU forward/backward with the STE and log-θ
 * Adam, ReLU + L1 backward and dense rows, AuxK) against their CPU twins inside the harness Web Worker, at odd
 * shapes with seeded data. Each report names the first mismatching index.
 */
import { expect, type Page, test } from '@playwright/test';
import type { CheckParams } from './harness/checks/types';
import { openHarness, runCheck } from './harness-client';

const SHAPES: CheckParams[] = [
  { rows: 37, dModel: 29, dSae: 203, k: 5, seed: 1 },
  { rows: 256, dModel: 64, dSae: 512, k: 32, seed: 2 },
];

async function expectCheck(page: Page, name: string, params: CheckParams) {
  const r = await runCheck(page, 'worker', name, params);
  expect(r.context).toBe('worker');
  for (const rep of r.reports) expect(rep.ok, rep.summary).toBe(true);
}

test.describe('architecture kernels in the worker match their CPU twins', () => {
  test.beforeEach(async ({ page }) => {
    await openHarness(page);
  });

  test('batchtopk: batch-level top-(k·B) radix select, ties, mostly-negative batches, running θ', async ({
    page,
  }) => {
    for (const s of SHAPES) {
      await expectCheck(page, 'batchtopk', { ...s, first: true });
      await expectCheck(page, 'batchtopk', { ...s, ties: 6 });
    }
    await expectCheck(page, 'batchtopk', { ...SHAPES[0], negative: true });
    // B·S = 2,000,000: many workgroups per radix pass.
    await expectCheck(page, 'batchtopk', { rows: 500, dSae: 4000, k: 7, seed: 3 });
    // Rows keeping more than 256 latents (compaction cut at k_cap = 256; the engine takes the dense path).
    await expectCheck(page, 'batchtopk', { rows: 9, dSae: 600, k: 250, seed: 4 });
  });

  test('jumprelu: forward, backward with the rectangle-kernel STE, log-θ Adam', async ({ page }) => {
    for (const s of SHAPES) await expectCheck(page, 'jumprelu', s);
  });

  test('relu-l1: ReLU forward, L1 term and its W_dec gradient, masked backward, dense rows', async ({
    page,
  }) => {
    for (const s of SHAPES) await expectCheck(page, 'relu-l1', s);
  });

  test('matryoshka: nested-prefix residuals, ∂z, ∂W_dec, ∂b_dec at odd shapes', async ({ page }) => {
    for (const s of SHAPES) await expectCheck(page, 'matryoshka', s);
    await expectCheck(page, 'matryoshka', { ...SHAPES[0], widths: '0.2,0.5,1', seed: 5 });
  });

  test('auxk: dead-latent TopK, residual decode, scale, gradients added; off when nothing is dead', async ({
    page,
  }) => {
    await expectCheck(page, 'auxk', { ...SHAPES[0], kAux: 14 });
    await expectCheck(page, 'auxk', { ...SHAPES[1], kAux: 32 });
    await expectCheck(page, 'auxk', { ...SHAPES[0], kAux: 14, deadFrom: 195 }); // 8 dead < k_aux
    await expectCheck(page, 'auxk', { ...SHAPES[0], kAux: 14, deadFrom: 203 }); // none dead
  });
});
