/**
 * Training the other architectures on the demo dataset (real stories260K activations [81,790, 64]) with the real
 * trainer (src/train/trainer.ts) on GpuSaeEngine in the harness Web Worker — the lab worker's path without the
 * UI (e2e/arch-ui.spec.ts covers the picker, live curves and export). Each run prints its held-out numbers.
 *
 * Criteria (issue 6): BatchTopK k = 8 reaches a held-out explained variance ≥ TopK's − 0.02 and a held-out L0
 * within ±25% of k; JumpReLU reaches an L0 in [4, 40] with the documented λ; ReLU + L1 trains with a finite loss
 * and a decreasing L0; a TopK run with a bad encoder init scale ends with fewer dead latents with AuxK than without.
 *
 * These runs take about 25 minutes on a CPU WebGPU adapter, so they are tagged `@long` and run only with
 * `npm run test:long`; `npm test` checks the same criteria on the CPU engine in Node (scripts/demo-*.test.ts),
 * which e2e/arch-step.spec.ts ties to the GPU engine (50 steps of every architecture, GPU = CPU).
 */
import { resolve } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import type { TrainConfig } from '../src/train/config';
import type { TrainRunResult } from './harness/checks/train-run';
import { openHarness, runCheck } from './harness-client';

const ACTIVATIONS = resolve(import.meta.dirname, '../public/demo/stories260K.resid_post.2.f32.npy');
const DATA_URL = '/__test-data/stories260K.resid_post.2.f32.npy';

/** The demo run of the issue: d_sae = 512, batch 512, 300 steps (other fields: the trainer's defaults). */
const DEMO: Partial<TrainConfig> = { dSae: 512, batchSize: 512, steps: 300, k: 8, lr: 1e-3, seed: 42 };

async function train(page: Page, config: Partial<TrainConfig>, encoderSpread = 0): Promise<TrainRunResult> {
  const r = await runCheck(page, 'worker', 'train-run', {
    url: DATA_URL,
    config: JSON.stringify(config),
    encoderSpread,
  });
  expect(r.ok, r.reports[0]?.summary).toBe(true);
  const res = JSON.parse(r.reports[0].summary.replace(/^train-run /, '').replace(/: ok — run finished$/, ''));
  const h = res.heldOut;
  console.log(
    `[demo ${res.architecture}${config.auxk ? '+AuxK' : ''}] ${res.steps} steps in ${res.wallS.toFixed(0)} s: ` +
      `held-out EV ${h.explainedVariance.toFixed(4)}, FVU ${h.fvu.toFixed(4)}, L0 ${h.l0.toFixed(2)}, ` +
      `dead fraction ${h.deadFraction.toFixed(4)} (${res.sampleTokens} tokens); dead in window ${res.deadInWindow}` +
      `${res.meanThreshold !== null ? `; mean θ ${res.meanThreshold.toFixed(3)}` : ''}`,
  );
  return res;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test.describe('architectures on the demo dataset (real activations) @long', () => {
  test.beforeEach(async ({ page }) => {
    await page.route(`**${DATA_URL}`, (route) =>
      route.fulfill({ path: ACTIVATIONS, contentType: 'application/octet-stream' }),
    );
    await openHarness(page);
  });

  test('BatchTopK k = 8: held-out EV ≥ TopK − 0.02, held-out L0 within ±25% of k', async ({ page }) => {
    test.setTimeout(1_200_000);
    // Both at lr 3e-3: at the default 1e-3 neither 300-step run is near convergence and BatchTopK, whose
    // allocation starts very uneven (10% of tokens get ≤ 1 latent at init), still lags TopK by 0.044 held-out EV;
    // at 3e-3 the gap is 0.017 (src/sae/README.md). θ's rate γ = 0.05 is the config default.
    const fast = { ...DEMO, lr: 3e-3 };
    const topk = await train(page, { ...fast, architecture: 'topk' });
    const batch = await train(page, { ...fast, architecture: 'batchtopk' });
    expect(batch.heldOut.explainedVariance).toBeGreaterThanOrEqual(topk.heldOut.explainedVariance - 0.02);
    expect(Math.abs(batch.heldOut.l0 - 8)).toBeLessThanOrEqual(0.25 * 8);
    // In training BatchTopK keeps k·B latents per batch: L0 = k on every sampled step (ties aside).
    expect(Math.abs(mean(batch.trainL0) - 8)).toBeLessThan(0.05);
    expect(batch.meanThreshold).toBeGreaterThan(0);
  });

  test('JumpReLU (config defaults, λ = 0.3): held-out L0 in [4, 40]', async ({ page }) => {
    test.setTimeout(1_500_000);
    // The trainer's defaults (src/train/config.ts): λ = 0.3 (per-token units) warmed up over 100 steps, θ starts at
    // Gemma Scope's 0.001, log θ learns at 30 × lr with ε = 0.01 so that θ reaches its working range within a
    // 300-step run (src/sae/README.md). lr 3e-3 as for the other architectures of the demo table.
    const r = await train(page, { ...DEMO, lr: 3e-3, architecture: 'jumprelu' });
    expect(r.heldOut.l0).toBeGreaterThanOrEqual(4);
    expect(r.heldOut.l0).toBeLessThanOrEqual(40);
    expect(r.heldOut.explainedVariance).toBeGreaterThan(0.6);
    expect(r.sparsityLoss.at(-1)).toBeGreaterThan(0);
    expect(r.meanThreshold).toBeGreaterThan(0.01);
  });

  test('ReLU + L1 (λ = 1, the default): finite loss and decreasing L0', async ({ page }) => {
    test.setTimeout(1_500_000);
    // λ = 1 (per-token units) warmed up over 100 steps, lr 3e-3. L0 starts near d_sae/2 (ReLU of a tied init)
    // and falls as the L1 term takes hold; Anthropic's λ = 5 collapses a run this short (src/train/config.ts).
    const r = await train(page, { ...DEMO, lr: 3e-3, architecture: 'relu', l1Coefficient: 1 });
    expect(r.trainMse.every(Number.isFinite)).toBe(true);
    expect(r.sparsityLoss.every(Number.isFinite)).toBe(true);
    expect(Number.isFinite(r.heldOut.fvu)).toBe(true);
    const n = r.trainL0.length;
    const first = mean(r.trainL0.slice(0, 10));
    const mid = mean(r.trainL0.slice(Math.floor(n / 2) - 5, Math.floor(n / 2) + 5));
    const last = mean(r.trainL0.slice(-10));
    console.log(
      `[demo relu] train L0: first 10 sampled steps ${first.toFixed(1)}, middle 10 ${mid.toFixed(1)}, last 10 ${last.toFixed(1)}`,
    );
    expect(mid).toBeLessThan(first);
    expect(last).toBeLessThan(mid);
    expect(r.heldOut.l0).toBeLessThan(first);
    expect(r.heldOut.explainedVariance).toBeGreaterThan(0.5);
  });

  test('dead latents: TopK d_sae = 1024, k = 4, bad init scale — fewer dead with AuxK than without', async ({
    page,
  }) => {
    test.setTimeout(1_200_000);
    // W_enc column s scaled by exp(−3·|n_s|), n_s ~ N(0, 1) seeded: about three quarters of the latents start with
    // encoder columns too short ever to win the TopK. Dead = silent for the last 100 steps (12,800 tokens); AuxK
    // treats a latent as dead after 50 silent steps. lr 1e-2: AuxK must grow a dead latent's encoder column about
    // 5× before it can win the TopK, and Adam moves each weight by about lr per step (src/sae/README.md, "AuxK").
    const cfg: Partial<TrainConfig> = {
      architecture: 'topk',
      dSae: 1024,
      k: 4,
      batchSize: 128,
      steps: 300,
      lr: 1e-2,
      seed: 42,
      deadWindowTokens: 12_800,
      auxkDeadWindowTokens: 6_400,
    };
    const off = await train(page, { ...cfg, auxk: false }, 3);
    const on = await train(page, { ...cfg, auxk: true }, 3);
    console.log(
      `[demo dead latents] dead in the last 100 steps: ${off.deadInWindow} of 1024 without AuxK, ` +
        `${on.deadInWindow} with AuxK (k_aux = d_model/2 = 32, α = 1/32)`,
    );
    expect(off.deadInWindow).toBeGreaterThan(0.25 * 1024);
    expect(on.deadInWindow).toBeLessThan(0.75 * off.deadInWindow);
    expect(Math.max(...on.auxkLoss)).toBeGreaterThan(0);
    expect(off.auxkLoss.every((v) => v === 0)).toBe(true);
  });
});
