/**
 * Whole training steps of every architecture on the GPU (GpuSaeEngine in the harness Web Worker) against the CPU
 * oracle (CpuSaeEngine): parameters (θ included), Adam moments, counters, step sums with the AuxK and sparsity
 * losses; evaluation (BatchTopK as JumpReLU with its running θ); state round trips with θ.
 */
import { expect, type Page, test } from '@playwright/test';
import type { CheckParams } from './harness/checks/types';
import { openHarness, runCheck } from './harness-client';

const SMALL: CheckParams = { rows: 37, dModel: 29, dSae: 203, k: 5 };
const MEDIUM: CheckParams = { rows: 128, dModel: 64, dSae: 256, k: 8 };

async function expectCheck(page: Page, name: string, params: CheckParams) {
  const r = await runCheck(page, 'worker', name, params);
  expect(r.context).toBe('worker');
  for (const rep of r.reports) expect(rep.ok, rep.summary).toBe(true);
}

test.describe('GpuSaeEngine steps of every architecture equal CpuSaeEngine steps', () => {
  test.beforeEach(async ({ page }) => {
    await openHarness(page);
  });

  test('BatchTopK: 3 steps (θ set on the first, then EMA), the dense fallback, and with AuxK', async ({
    page,
  }) => {
    for (const s of [SMALL, MEDIUM]) {
      await expectCheck(page, 'sae-step', {
        ...s,
        architecture: 'batchtopk',
        steps: 3,
        beta1: 0.9,
        seed: 21,
      });
    }
    // k = 250 of d_sae = 600: tokens keep more than 256 latents, so the steps take the dense path.
    await expectCheck(page, 'sae-step', {
      rows: 9,
      dModel: 29,
      dSae: 600,
      k: 250,
      architecture: 'batchtopk',
      steps: 2,
      seed: 28,
      expectDense: true,
    });
    await expectCheck(page, 'sae-step', {
      ...SMALL,
      architecture: 'batchtopk',
      auxk: true,
      kAux: 9,
      steps: 3,
      window: 1,
      seed: 22,
      expectAuxk: true,
    });
  });

  test('Matryoshka BatchTopK: 3 steps (nested-prefix loss, running θ), and with AuxK and user-set widths', async ({
    page,
  }) => {
    await expectCheck(page, 'sae-step', {
      ...MEDIUM,
      architecture: 'matryoshka',
      steps: 3,
      beta1: 0.9,
      seed: 41,
    });
    await expectCheck(page, 'sae-step', {
      ...SMALL,
      architecture: 'matryoshka',
      auxk: true,
      kAux: 9,
      matryoshkaWidths: '0.3,0.7,1',
      steps: 3,
      window: 1,
      seed: 42,
      expectAuxk: true,
    });
  });

  test('JumpReLU: 3 steps with λ, the STE and log-θ Adam', async ({ page }) => {
    for (const s of [SMALL, MEDIUM]) {
      await expectCheck(page, 'sae-step', {
        ...s,
        architecture: 'jumprelu',
        steps: 3,
        lambda: 0.5,
        bandwidth: 0.05,
        thresholdInit: 0.1,
        thresholdLrScale: 10,
        seed: 23,
      });
    }
  });

  test('ReLU + L1: 3 steps with λ', async ({ page }) => {
    for (const s of [SMALL, MEDIUM]) {
      await expectCheck(page, 'sae-step', { ...s, architecture: 'relu', steps: 3, lambda: 3, seed: 24 });
    }
  });

  test('TopK + AuxK: 3 steps, dead latents after a 1-step window', async ({ page }) => {
    for (const s of [SMALL, MEDIUM]) {
      await expectCheck(page, 'sae-step', {
        ...s,
        architecture: 'topk',
        auxk: true,
        kAux: 16,
        steps: 3,
        window: 1,
        seed: 25,
        expectAuxk: true,
      });
    }
  });

  test('evaluate and state round trips with a threshold', async ({ page }) => {
    for (const architecture of ['batchtopk', 'jumprelu', 'relu']) {
      await expectCheck(page, 'sae-eval', { ...SMALL, architecture, evalRows: 100, seed: 26 });
      await expectCheck(page, 'sae-state', { ...SMALL, architecture, seed: 27 });
    }
  });

  // 50 steps of every architecture, GPU next to CPU on tiny shapes: the trajectories must stay together, so the
  // 300-step quality runs on the CPU engine in Node (scripts/demo-*.test.ts) stand for the GPU engine.
  const TRACK: CheckParams = {
    rows: 64,
    dModel: 29,
    dSae: 203,
    k: 6,
    steps: 50,
    lr: 3e-3,
    beta1: 0.9,
    window: 20,
  };
  const TRACKED: [string, CheckParams][] = [
    ['TopK + AuxK', { architecture: 'topk', auxk: true, kAux: 8, auxWindow: 5, seed: 31 }],
    ['BatchTopK', { architecture: 'batchtopk', seed: 32 }],
    ['Matryoshka BatchTopK', { architecture: 'matryoshka', seed: 35 }],
    [
      'JumpReLU',
      {
        architecture: 'jumprelu',
        lambda: 0.3,
        bandwidth: 0.05,
        thresholdInit: 0.1,
        thresholdLrScale: 10,
        seed: 33,
      },
    ],
    ['ReLU + L1', { architecture: 'relu', lambda: 1, seed: 34 }],
  ];
  for (const [name, params] of TRACKED) {
    test(`${name}: 50 GPU steps track 50 CPU steps (curves, final parameters, held-out evaluation)`, async ({
      page,
    }) => {
      const r = await runCheck(page, 'worker', 'sae-track', { ...TRACK, ...params });
      console.log(r.reports.map((x) => x.summary).join('\n'));
      for (const rep of r.reports) expect(rep.ok, rep.summary).toBe(true);
    });
  }
});
