import { describe, expect, it } from 'vitest';
import { decoderRowNorms, histogram, sortedFiringRates } from './diagnostics';
import { SeriesTable } from './history';

describe('SeriesTable', () => {
  it('stores points column-wise and thins evenly when full, keeping the whole range', () => {
    const t = new SeriesTable(['step', 'v'] as const, 8);
    for (let i = 1; i <= 8; i++) t.push({ step: i, v: i * 10 });
    expect([...t.column('step')]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (let i = 9; i <= 20; i++) t.push({ step: i, v: i * 10 });
    // After the first thinning the stride is 2 (odd steps); after the second it is 4.
    expect([...t.column('step')]).toEqual([1, 5, 9, 13, 17]);
    expect([...t.column('v')]).toEqual([10, 50, 90, 130, 170]);
    expect(t.last).toEqual({ step: 20, v: 200 });
  });

  it('round-trips through a snapshot (structured clone) and keeps thinning in step', () => {
    const a = new SeriesTable(['step'] as const, 8);
    for (let i = 1; i <= 13; i++) a.push({ step: i });
    const b = new SeriesTable(['step'] as const, 8);
    b.restore(structuredClone(a.snapshot()));
    for (let i = 14; i <= 30; i++) {
      a.push({ step: i });
      b.push({ step: i });
    }
    expect([...b.column('step')]).toEqual([...a.column('step')]);
  });

  it('restores a snapshot larger than its capacity by thinning it', () => {
    const big = new SeriesTable(['step'] as const, 64);
    for (let i = 1; i <= 50; i++) big.push({ step: i });
    const small = new SeriesTable(['step'] as const, 8);
    small.restore(big.snapshot());
    expect(small.length).toBeLessThanOrEqual(8);
    expect(small.column('step')[0]).toBe(1);
    expect(small.last).toEqual({ step: 50 });
  });
});

describe('diagnostics', () => {
  it('sorts firing rates descending with never-fired latents last', () => {
    expect([...sortedFiringRates(new Uint32Array([0, 5, 2, 0, 10]), 10)]).toEqual([1, 0.5, 0.2, 0, 0]);
  });

  it('computes decoder row norms', () => {
    const w = new Float32Array([3, 4, 0, 0, 1, 0]);
    expect([...decoderRowNorms(w, 2, 3)]).toEqual([5, 1]);
    expect(() => decoderRowNorms(w, 3, 3)).toThrow(/W_dec has 6 values/);
  });

  it('bins values, clamping outliers into the end bins', () => {
    const h = histogram([0, 0.1, 0.5, 0.99, 1, 2, -1], 4, 0, 1);
    expect([...h.edges]).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect([...h.counts]).toEqual([3, 0, 1, 3]);
  });
});
