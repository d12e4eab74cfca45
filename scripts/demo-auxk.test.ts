/**
 * AuxK on the demo, on the CPU engine in Node (see scripts/demo-table.test.ts for why here): a TopK run with a bad
 * encoder init scale ends with fewer dead latents with AuxK than without.
 */
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../src/train/config';
import { demo, LONG_MS } from './demo-runs';

describe('AuxK on the demo (CPU engine, 300 steps)', () => {
  it('TopK d_sae = 1024, k = 4, bad init scale: fewer dead latents with AuxK than without', {
    timeout: 2 * LONG_MS,
  }, async () => {
    // W_enc column s scaled by exp(−3·|n_s|), n_s ~ N(0, 1) seeded: about three quarters of the latents start with
    // encoder columns too short ever to win the TopK. Dead = silent for the last 100 steps (12,800 tokens); AuxK
    // treats a latent as dead after 50 silent steps. lr 1e-2: AuxK must grow a dead latent's encoder column about
    // 5× before it can win the TopK (src/sae/README.md, "AuxK").
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
    const off = await demo({ ...cfg, auxk: false }, 3);
    const on = await demo({ ...cfg, auxk: true }, 3);
    console.log(
      `[demo dead latents] dead in the last 100 steps: ${off.dead_in_window} of 1024 without AuxK, ${on.dead_in_window} with AuxK`,
    );
    expect(off.dead_in_window).toBeGreaterThan(0.25 * 1024);
    expect(on.dead_in_window).toBeLessThan(0.75 * off.dead_in_window);
    expect(Math.max(...on.series.auxkLoss)).toBeGreaterThan(0);
    expect(off.series.auxkLoss.every((v) => v === 0)).toBe(true);
  });
});
