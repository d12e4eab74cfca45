import { describe, expect, it } from 'vitest';
import { decaySteps, learningRate } from './schedule';

const base = { lr: 1e-3, steps: 100, warmupSteps: 10, decay: 'cosine' as const, decayFraction: 0.2 };

describe('learningRate', () => {
  it('warms up linearly from η/W to η', () => {
    expect(learningRate(base, 0)).toBeCloseTo(1e-4, 12);
    expect(learningRate(base, 4)).toBeCloseTo(5e-4, 12);
    expect(learningRate(base, 9)).toBeCloseTo(1e-3, 12);
  });

  it('is constant between warmup and decay', () => {
    for (const t of [10, 50, 79]) expect(learningRate(base, t)).toBe(1e-3);
  });

  it('decays with a half cosine over the last 20% of steps', () => {
    expect(decaySteps(base)).toBe(20);
    expect(learningRate(base, 80)).toBeCloseTo(1e-3, 12);
    expect(learningRate(base, 90)).toBeCloseTo(0.5e-3, 12);
    expect(learningRate(base, 99)).toBeCloseTo(1e-3 * 0.5 * (1 + Math.cos((Math.PI * 19) / 20)), 12);
    expect(learningRate(base, 99)).toBeGreaterThan(0);
  });

  it('decays linearly when asked, and not at all for none', () => {
    const lin = { ...base, decay: 'linear' as const };
    expect(learningRate(lin, 85)).toBeCloseTo(1e-3 * (1 - 5 / 20), 12);
    const none = { ...base, decay: 'none' as const };
    expect(decaySteps(none)).toBe(0);
    expect(learningRate(none, 99)).toBe(1e-3);
  });

  it('is monotone non-increasing after warmup', () => {
    let prev = Number.POSITIVE_INFINITY;
    for (let t = 10; t < 100; t++) {
      const lr = learningRate(base, t);
      expect(lr).toBeLessThanOrEqual(prev);
      prev = lr;
    }
  });

  it('rejects steps outside the run', () => {
    expect(() => learningRate(base, 100)).toThrow(RangeError);
    expect(() => learningRate(base, -1)).toThrow(/outside \[0, 100\)/);
  });
});
