/**
 * The demo table on the CPU engine in Node: the real trainer (src/train/trainer.ts) on CpuSaeEngine, 300 steps on
 * the built-in demo (stories260K activations [81,790, 64]) — the criteria of issue 6 and of the TopK demo run,
 * moved here from the browser (a 300-step run takes minutes on a CPU WebGPU adapter; `npm run test:long` still runs
 * them there, e2e/arch-train.spec.ts and e2e/train.spec.ts). The CPU engine stands for the GPU: e2e/arch-step.spec.ts
 * checks 50 GPU steps of every architecture against it.
 *
 * TopK: the demo run (d_sae 512, k 8, batch 512, lr 1e-3) reaches a held-out explained variance ≥ 0.75 with L0 = 8.
 * BatchTopK k = 8: held-out EV ≥ TopK's − 0.02 (both at lr 3e-3) and held-out L0 within ±25% of k.
 */
import { describe, expect, it } from 'vitest';
import { DEMO, demo, LONG_MS, mean } from './demo-runs';

describe('the demo table on the CPU engine (300 steps)', () => {
  it('TopK, the demo run at lr 1e-3: held-out EV ≥ 0.75 and L0 = k', { timeout: LONG_MS }, async () => {
    const r = await demo({ ...DEMO, architecture: 'topk' });
    expect(r.steps).toBe(300);
    expect(r.held_out.explainedVariance).toBeGreaterThanOrEqual(0.75);
    expect(r.held_out.explainedVariance).toBeLessThan(1);
    expect(r.held_out.l0).toBe(8);
    expect(r.series.l0.every((l0) => l0 === 8)).toBe(true);
  });

  it('BatchTopK k = 8: held-out EV ≥ TopK − 0.02, held-out L0 within ±25% of k', {
    timeout: 2 * LONG_MS,
  }, async () => {
    // Both at lr 3e-3: at the default 1e-3 neither 300-step run is near convergence and BatchTopK, whose
    // allocation starts very uneven, still lags TopK by 0.044 held-out EV; at 3e-3 the gap is 0.017
    // (src/sae/README.md). θ's rate γ = 0.05 is the config default.
    const fast = { ...DEMO, lr: 3e-3 };
    const topk = await demo({ ...fast, architecture: 'topk' });
    const batch = await demo({ ...fast, architecture: 'batchtopk' });
    expect(batch.held_out.explainedVariance).toBeGreaterThanOrEqual(topk.held_out.explainedVariance - 0.02);
    expect(Math.abs(batch.held_out.l0 - 8)).toBeLessThanOrEqual(0.25 * 8);
    // In training BatchTopK keeps k·B latents per batch: L0 = k on every step (ties aside).
    expect(Math.abs(mean(batch.series.l0) - 8)).toBeLessThan(0.05);
    expect(batch.mean_threshold).toBeGreaterThan(0);
  });
});
