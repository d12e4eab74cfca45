/**
 * Every TopK SAE kernel against its CPU twin, inside the harness Web Worker (where the trainer runs them), at
 * odd shapes with seeded data. Each report names the first mismatching index.
 */
import { expect, test } from '@playwright/test';
import { ENCODER_TILE_CANDIDATES, ENCODER_VEC4_CANDIDATES } from '../src/gpu/kernels/encoder-tiles';
import type { CheckParams } from './harness/checks/types';
import { openHarness, runCheck } from './harness-client';

/** The shapes: B=37, d_model=29, d_sae=203, k=5; and B=256, d_model=64, d_sae=512, k=32. */
const SHAPES: CheckParams[] = [
  { rows: 37, dModel: 29, dSae: 203, k: 5, seed: 1 },
  { rows: 256, dModel: 64, dSae: 512, k: 32, seed: 2 },
];

async function expectCheck(page: import('@playwright/test').Page, name: string, params: CheckParams) {
  const r = await runCheck(page, 'worker', name, params);
  expect(r.context).toBe('worker');
  for (const rep of r.reports) expect(rep.ok, rep.summary).toBe(true);
}

test.describe('SAE kernels in the worker match their CPU twins', () => {
  test.beforeEach(async ({ page }) => {
    await openHarness(page);
  });

  test('encoder: (x − b_dec)·W_enc + b_enc, fused; tiled and direct variants', async ({ page }) => {
    for (const variant of ['tiled', 'direct']) {
      for (const s of SHAPES) await expectCheck(page, 'encoder', { ...s, variant });
      await expectCheck(page, 'encoder', { rows: 65, dModel: 17, dSae: 129, k: 1, seed: 3, variant }); // partial tiles
    }
  });

  test('encoder: every autotune tile at an odd shape; the autotune picks one and caches it', async ({
    page,
  }) => {
    for (const variant of ['tiled', 'direct']) {
      for (const t of ENCODER_TILE_CANDIDATES.filter((c) => !c.vec4)) {
        await expectCheck(page, 'encoder', { rows: 65, dModel: 17, dSae: 129, k: 1, seed: 7, variant, ...t });
      }
    }
    await expectCheck(page, 'encoder-tune', { rows: 37, dModel: 29, dSae: 203, k: 5, seed: 8 });
  });

  test('encoder vec4: every vec4 tile (4×4 to 8×8 per invocation) at a non-power-of-two shape; odd d_model / d_sae fall back to the scalar shader', async ({
    page,
  }) => {
    for (const variant of ['tiled', 'direct']) {
      for (const t of ENCODER_VEC4_CANDIDATES) {
        const s = { rows: 37, dModel: 68, dSae: 204, k: 1, seed: 9 }; // partial tiles in every dimension
        await expectCheck(page, 'encoder', { ...s, variant, ...t, vec4: 1, expectVec4: 1 });
      }
      const [t4, t8] = [ENCODER_VEC4_CANDIDATES[0], ENCODER_VEC4_CANDIDATES[1]];
      await expectCheck(page, 'encoder', {
        ...{ rows: 17, dModel: 65, dSae: 129, k: 1, seed: 10 },
        ...{ variant, ...t4, vec4: 1, expectVec4: 0 },
      });
      await expectCheck(page, 'encoder', {
        ...{ rows: 37, dModel: 29, dSae: 203, k: 1, seed: 11 },
        ...{ variant, ...t8, vec4: 1, expectVec4: 0 },
      });
    }
  });

  test('topk: (index, value) sets per row, order and lower-index tie rule', async ({ page }) => {
    for (const s of SHAPES) {
      await expectCheck(page, 'topk', s);
      await expectCheck(page, 'topk', { ...s, ties: 6 }); // heavy ties at the threshold
    }
    await expectCheck(page, 'topk', { rows: 5, dModel: 1, dSae: 7, k: 7, seed: 4 }); // k = d_sae
    await expectCheck(page, 'topk', { rows: 3, dModel: 1, dSae: 131072, k: 256, seed: 5 }); // the limits
    await expectCheck(page, 'topk', { rows: 2, dModel: 1, dSae: 131072, k: 256, seed: 6, ties: 4 });
  });

  test('decode: sparse gather of k W_dec rows and per-row sums', async ({ page }) => {
    for (const s of SHAPES) await expectCheck(page, 'decode', s);
  });

  test('backward: sparse gradients of W_dec, W_enc, b_enc, dense b_dec', async ({ page }) => {
    for (const s of SHAPES) await expectCheck(page, 'backward', s);
  });

  test('decoder constraint: gradient projection and row renormalisation', async ({ page }) => {
    for (const s of SHAPES) await expectCheck(page, 'decoder-constraint', s);
  });

  test('nonfinite: the sticky NaN/Inf flag of the training step', async ({ page }) => {
    for (const n of [1, 203, 70001]) await expectCheck(page, 'nonfinite', { n, seed: n });
  });

  test('adam: bias-corrected update, β1 = 0 and 0.9', async ({ page }) => {
    for (const beta1 of [0, 0.9]) {
      for (const t of [1, 7]) await expectCheck(page, 'adam', { n: 70001, t, beta1, seed: t });
    }
  });

  test('stats: step sums and steps-since-fired counters', async ({ page }) => {
    for (const s of SHAPES) await expectCheck(page, 'stats', s);
  });
});

test.describe('feature pass kernels in the worker match their CPU twin', () => {
  test('feature-top and feature-bands: exact top-20 sets (lower-token ties), histograms, band samples', async ({
    page,
  }) => {
    await openHarness(page);
    await expectCheck(page, 'feature-stats', { dSae: 203, rows: 37, blocks: 3, seed: 1, density: 0.3 });
    await expectCheck(page, 'feature-stats', {
      dSae: 131,
      rows: 61,
      blocks: 4,
      seed: 2,
      density: 0.5,
      ties: 4,
    });
    await expectCheck(page, 'feature-stats', { dSae: 7, rows: 5, blocks: 2, seed: 3, density: 1 });
    await expectCheck(page, 'feature-scatter', { rows: 37, dSae: 203, k: 5, seed: 4 });
    await expectCheck(page, 'feature-unscatter', { rows: 37, dSae: 203, k: 5, seed: 7 });
  });

  test('the whole GPU feature pass equals the CPU pass on an SAE with exact float32 sums', async ({
    page,
  }) => {
    await openHarness(page);
    const base = { dModel: 13, dSae: 131, rows: 301, seed: 6, blockRows: 64 };
    await expectCheck(page, 'feature-pass', { ...base, arch: 'topk', k: 4 });
    await expectCheck(page, 'feature-pass', { ...base, arch: 'relu', blockRows: 301 });
    await expectCheck(page, 'feature-pass', { ...base, arch: 'threshold', rows: 97 });
    // Several submits of 2 blocks each, with pass 2 encoding again (no cache) or reading the kept latents.
    await expectCheck(page, 'feature-pass', { ...base, arch: 'topk', k: 4, submitRows: 128, cacheBytes: 0 });
    await expectCheck(page, 'feature-pass', { ...base, arch: 'relu', submitRows: 128 });
  });
});
