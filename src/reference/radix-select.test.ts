import { describe, expect, it } from 'vitest';
import { f32OrderKey } from '../sae/formulas';
import { Rng } from '../util/rng';
import { batchTopkCpu } from './batchtopk';
import { f32OrderKeys, kthLargestKey } from './radix-select';

/** The definition: element n − rank of the ascending sort. */
const bySort = (keys: Uint32Array, rank: number) => keys.slice().sort()[keys.length - rank];

describe('radix select', () => {
  it('order keys from the float bits equal f32OrderKey, NaN payloads, ±0 and ±∞ included', () => {
    const x = Float32Array.from([0, -0, 1.5, -1.5, Infinity, -Infinity, 3e-45, -3e-45, Number.NaN]);
    const bits = new Uint32Array(x.buffer);
    bits[8] = 0xffc00001; // a negative NaN with a payload
    const keys = f32OrderKeys(x, x.length);
    for (let i = 0; i < x.length; i++) expect(keys[i], `element ${i}`).toBe(f32OrderKey(x[i]));
  });

  it('the rank-th largest key equals the sort at every rank, with heavy ties and mixed signs', () => {
    const rng = new Rng(12);
    for (const [n, levels] of [
      [1, 0],
      [37, 0],
      [203, 5],
      [1000, 2],
      [4099, 0],
    ]) {
      const x = Float32Array.from({ length: n }, () =>
        levels ? rng.int(levels) - 1 : rng.normal() * (rng.next() < 0.1 ? 1e30 : 1),
      );
      const keys = f32OrderKeys(x, n);
      const ranks = n < 300 ? Array.from({ length: n }, (_, i) => i + 1) : [1, 2, 7, n >> 1, n - 1, n];
      for (const rank of ranks)
        expect(kthLargestKey(keys, rank), `n ${n} rank ${rank}`).toBe(bySort(keys, rank));
    }
    expect(() => kthLargestKey(new Uint32Array(3), 4)).toThrow(/rank must be 1 to 3/);
  });

  it('batchTopkCpu keeps the values at or above the sort-defined threshold, ties and all-negative batches included', () => {
    const rng = new Rng(5);
    for (const [R, S, k, tie] of [
      [17, 29, 3, false],
      [9, 600, 250, false],
      [13, 41, 5, true],
      [4, 7, 7, false],
    ] as const) {
      const pre = Float32Array.from({ length: R * S }, () => (tie ? rng.int(4) * 0.5 - 0.5 : rng.normal()));
      const out = batchTopkCpu(pre, R, S, k);
      const keys = f32OrderKeys(pre, R * S);
      const t = bySort(keys, Math.min(k * R, R * S));
      expect(out.thresholdKey).toBe(t);
      for (let i = 0; i < R * S; i++) expect(out.z[i]).toBe(keys[i] >= t && pre[i] > 0 ? pre[i] : 0);
    }
  });
});
