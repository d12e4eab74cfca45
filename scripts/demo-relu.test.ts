/**
 * ReLU + L1 on the demo, on the CPU engine in Node (see scripts/demo-table.test.ts for why here): it trains with a
 * finite loss and a decreasing L0.
 */
import { describe, expect, it } from 'vitest';
import { DEMO, demo, LONG_MS, mean } from './demo-runs';

describe('ReLU + L1 on the demo (CPU engine, 300 steps)', () => {
  it('ReLU + L1 (λ = 1, the default): finite loss and decreasing L0', { timeout: LONG_MS }, async () => {
    // λ = 1 warmed up over 100 steps, lr 3e-3. L0 starts near d_sae/2 (ReLU of a tied init) and falls as the L1
    // term takes hold; Anthropic's λ = 5 collapses a run this short (src/train/config.ts).
    const r = await demo({ ...DEMO, lr: 3e-3, architecture: 'relu', l1Coefficient: 1 });
    expect(r.series.mse.every(Number.isFinite)).toBe(true);
    expect(r.series.sparsityLoss.every(Number.isFinite)).toBe(true);
    expect(Number.isFinite(r.held_out.fvu)).toBe(true);
    const l0 = r.series.l0;
    const n = l0.length;
    const first = mean(l0.slice(0, 10));
    const mid = mean(l0.slice(Math.floor(n / 2) - 5, Math.floor(n / 2) + 5));
    const last = mean(l0.slice(-10));
    console.log(
      `[demo relu] train L0: first 10 steps ${first.toFixed(1)}, middle 10 ${mid.toFixed(1)}, last 10 ${last.toFixed(1)}`,
    );
    expect(mid).toBeLessThan(first);
    expect(last).toBeLessThan(mid);
    expect(r.held_out.l0).toBeLessThan(first);
    expect(r.held_out.explainedVariance).toBeGreaterThan(0.5);
  });
});
