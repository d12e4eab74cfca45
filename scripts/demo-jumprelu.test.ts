/**
 * JumpReLU on the demo, on the CPU engine in Node (see scripts/demo-table.test.ts for why here): it reaches an L0 in
 * [4, 40] with the documented λ. (One run per file, so that Vitest's workers share the demo runs evenly.)
 */
import { describe, expect, it } from 'vitest';
import { DEMO, demo, LONG_MS } from './demo-runs';

describe('JumpReLU on the demo (CPU engine, 300 steps)', () => {
  it('JumpReLU (config defaults, λ = 0.3): held-out L0 in [4, 40]', { timeout: LONG_MS }, async () => {
    // The trainer's defaults (src/train/config.ts): λ = 0.3 (per-token units) warmed up over 100 steps, θ starts at
    // Gemma Scope's 0.001, log θ learns at 30 × lr with ε = 0.01 (src/sae/README.md). lr 3e-3 as in the table.
    const r = await demo({ ...DEMO, lr: 3e-3, architecture: 'jumprelu' });
    expect(r.held_out.l0).toBeGreaterThanOrEqual(4);
    expect(r.held_out.l0).toBeLessThanOrEqual(40);
    expect(r.held_out.explainedVariance).toBeGreaterThan(0.6);
    expect(r.series.sparsityLoss.at(-1)).toBeGreaterThan(0);
    expect(r.mean_threshold).toBeGreaterThan(0.01);
  });
});
