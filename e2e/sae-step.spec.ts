/**
 * The whole TopK SAE training step on the GPU (GpuSaeEngine, in the harness Web Worker) against the CPU oracle
 * (CpuSaeEngine), plus evaluation, state round trips, determinism, and 50 steps on real activations.
 */
import { resolve } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import type { CheckParams } from './harness/checks/types';
import { openHarness, runCheck } from './harness-client';

/** Real activations (numpy float32 [81790, 64]); CI clones the repo with shared/ beside it. */
/** The demo's real activations (public/demo/README.md), in the repository so that a fresh clone has them. */
const ACTIVATIONS = resolve(import.meta.dirname, '../public/demo/stories260K.resid_post.2.f32.npy');
const DATA_URL = '/__test-data/stories260K.resid_post.2.f32.npy';

const SHAPES: CheckParams[] = [
  { rows: 37, dModel: 29, dSae: 203, k: 5 },
  { rows: 256, dModel: 64, dSae: 512, k: 32 },
];

async function expectCheck(page: Page, name: string, params: CheckParams) {
  const r = await runCheck(page, 'worker', name, params);
  expect(r.context).toBe('worker');
  for (const rep of r.reports) expect(rep.ok, rep.summary).toBe(true);
  return r;
}

test.describe('GpuSaeEngine in the worker', () => {
  test.beforeEach(async ({ page }) => {
    await openHarness(page);
  });

  test('one GPU step equals one CPU step: params, Adam moments, counters, sums (β1 = 0 and 0.9)', async ({
    page,
  }) => {
    for (const s of SHAPES) {
      for (const beta1 of [0, 0.9]) await expectCheck(page, 'sae-step', { ...s, beta1, seed: 11 });
    }
  });

  test('three GPU steps equal three CPU steps (bias correction at t > 1, dead window 2)', async ({
    page,
  }) => {
    for (const s of SHAPES)
      await expectCheck(page, 'sae-step', { ...s, steps: 3, beta1: 0.9, window: 2, seed: 12 });
  });

  test('evaluate matches the CPU engine, including a partial last chunk', async ({ page }) => {
    await expectCheck(page, 'sae-eval', { ...SHAPES[0], evalRows: 100, seed: 13 });
    await expectCheck(page, 'sae-eval', { ...SHAPES[1], evalRows: 600, seed: 14 });
  });

  test('getState/setState round-trip exactly; resumed and repeated runs are bit-identical', async ({
    page,
  }) => {
    for (const s of SHAPES) await expectCheck(page, 'sae-state', { ...s, seed: 15 });
  });

  test('50 GPU steps on real activations lower the loss and track the CPU engine', async ({ page }) => {
    await page.route(`**${DATA_URL}`, (route) =>
      route.fulfill({ path: ACTIVATIONS, contentType: 'application/octet-stream' }),
    );
    const r = await expectCheck(page, 'sae-train', {
      url: DATA_URL,
      rows: 256,
      dSae: 512,
      k: 32,
      steps: 50,
      lr: 1e-3,
      seed: 1,
      cpu: true,
    });
    console.log(r.reports.map((x) => x.summary).join('\n'));
  });
});
