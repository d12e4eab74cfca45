/**
 * The language model on the GPU (issue 12), inside the harness Web Worker: every kernel against its CPU twin at odd
 * shapes, the whole forward of a random model of another shape, the stories260K golden test, and patched CE on the
 * GPU against the CPU. Each report names the first mismatching index.
 */
import { expect, test } from '@playwright/test';
import { openHarness, runCheck } from './harness-client';

async function expectCheck(
  page: import('@playwright/test').Page,
  name: string,
  params: Record<string, number>,
) {
  const r = await runCheck(page, 'worker', name, params);
  for (const rep of r.reports) {
    console.log(`[${name}] ${rep.summary}`);
    expect(rep.ok, rep.summary).toBe(true);
  }
  expect(r.reports.length).toBeGreaterThan(0);
}

test.describe('language model kernels and forward on the GPU', () => {
  test.beforeEach(async ({ page }) => {
    await openHarness(page);
  });

  test('rmsnorm, rope, attention, swiglu, residual add, log-softmax/CE, KL match their twins at odd shapes', async ({
    page,
  }) => {
    await expectCheck(page, 'lm-kernels', {
      T: 37,
      heads: 6,
      kvHeads: 2,
      hs: 6,
      hidden: 53,
      vocab: 97,
      seed: 1,
    });
    await expectCheck(page, 'lm-kernels', {
      T: 5,
      heads: 3,
      kvHeads: 3,
      hs: 10,
      hidden: 7,
      vocab: 301,
      seed: 2,
    });
  });

  test('the forward of a random model of another shape matches the CPU twin', async ({ page }) => {
    await expectCheck(page, 'lm-odd', { T: 37, seed: 7 });
  });

  test('stories260K on the GPU matches golden_stories260K.json within 1e-4 relative', async ({ page }) => {
    test.setTimeout(180_000);
    await expectCheck(page, 'lm-golden', {});
  });

  test('patched CE: identity → 1, zeros → 0, a TopK SAE equal on the GPU and the CPU within 1e-4', async ({
    page,
  }) => {
    test.setTimeout(180_000);
    await expectCheck(page, 'lm-patched', { seed: 5 });
  });

  test('patched CE of a TopK SAE trained on the demo (300 steps, d_sae 512, k 8): score in (0, 1), GPU = CPU within 1e-4', async ({
    page,
  }) => {
    test.setTimeout(240_000);
    await expectCheck(page, 'lm-patched-demo', { documents: 3 });
  });
});
