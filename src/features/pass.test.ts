/**
 * The feature pass (src/features/pass.ts) against a brute-force oracle: every (latent, token, value) collected, then
 * sorted — exact top-20 sets with the tie rule, histograms, band samples, counts and max — for the three activation
 * kinds, at odd shapes, with duplicated rows (ties), in small blocks, with and without the sparse cache.
 */
import { describe, expect, it } from 'vitest';
import type { InferenceSae } from '../lm/sae-splice';
import { Rng } from '../util/rng';
import {
  BANDS,
  BINS,
  bandPriority,
  binOf,
  binScales,
  encodeSparse,
  type FeatureStats,
  featurePassCpu,
  PassCancelled,
  PER_BAND,
  type RowReader,
  TOP_N,
} from './pass';

function randomSae(D: number, S: number, act: InferenceSae['activation'], seed: number): InferenceSae {
  const r = new Rng(seed);
  return {
    dIn: D,
    dSae: S,
    wEnc: Float32Array.from(r.normalArray(D * S)),
    wDec: Float32Array.from(r.normalArray(S * D)),
    bEnc: Float32Array.from(r.normalArray(S), (v) => v * 0.1 - 0.2),
    bDec: Float32Array.from(r.normalArray(D), (v) => v * 0.1),
    activation: act,
  };
}

/** T rows of width D; every 7th row repeats the row 3 before it (equal activations: ties). */
function rowsWithTies(T: number, D: number, seed: number): Float32Array {
  const x = Float32Array.from(new Rng(seed).normalArray(T * D));
  for (let t = 3; t < T; t += 7) x.copyWithin(t * D, (t - 3) * D, (t - 2) * D);
  return x;
}

function reader(x: Float32Array, D: number): RowReader {
  return { nTokens: x.length / D, read: async (a, n) => x.slice(a * D, (a + n) * D) };
}

/** The oracle: all firings collected, then sorted per latent. */
function oracle(sae: InferenceSae, x: Float32Array, seed: number) {
  const z = encodeSparse(sae, x);
  const S = sae.dSae;
  const per: { v: number; t: number }[][] = Array.from({ length: S }, () => []);
  for (let t = 0; t < z.rows; t++)
    for (let j = z.offsets[t]; j < z.offsets[t + 1]; j++) per[z.ids[j]].push({ v: z.values[j], t });
  const max = Float32Array.from(per, (l) => l.reduce((m, e) => Math.max(m, e.v), 0));
  const hs = binScales(max, BINS);
  const bs = binScales(max, BANDS);
  return per.map((l, s) => {
    const top = [...l].sort((a, b) => b.v - a.v || a.t - b.t).slice(0, TOP_N);
    const hist = new Array<number>(BINS).fill(0);
    for (const e of l) hist[binOf(e.v, hs[s], BINS)]++;
    const bands = Array.from({ length: BANDS }, (_, b) =>
      l
        .filter((e) => binOf(e.v, bs[s], BANDS) === b)
        .sort((p, q) => bandPriority(seed, s, p.t) - bandPriority(seed, s, q.t) || p.t - q.t)
        .slice(0, PER_BAND),
    );
    return { count: l.length, max: max[s], top, hist, bands };
  });
}

function expectMatches(st: FeatureStats, want: ReturnType<typeof oracle>) {
  want.forEach((w, s) => {
    const at = `latent ${s}`;
    expect(st.count[s], at).toBe(w.count);
    expect(st.maxAct[s], at).toBe(w.max);
    const k = w.top.length;
    expect(Array.from(st.topTokens.subarray(s * TOP_N, s * TOP_N + k)), at).toEqual(w.top.map((e) => e.t));
    expect(Array.from(st.topValues.subarray(s * TOP_N, s * TOP_N + k)), at).toEqual(w.top.map((e) => e.v));
    if (k < TOP_N) expect(st.topTokens[s * TOP_N + k], at).toBe(-1);
    expect(Array.from(st.hist.subarray(s * BINS, (s + 1) * BINS)), at).toEqual(w.hist);
    w.bands.forEach((band, b) => {
      const o = (s * BANDS + b) * PER_BAND;
      const got = Array.from(st.bandTokens.subarray(o, o + PER_BAND)).filter((t) => t >= 0);
      expect(got, `${at} band ${b}`).toEqual(band.map((e) => e.t));
    });
  });
}

describe('feature pass (CPU) = brute-force oracle', () => {
  const cases: [string, InferenceSae['activation']][] = [
    ['topk', { kind: 'topk', k: 3 }],
    ['relu', { kind: 'relu' }],
    [
      'threshold',
      { kind: 'threshold', threshold: Float32Array.from({ length: 13 }, (_, i) => 0.1 * (i % 4)) },
    ],
  ];
  for (const [name, act] of cases) {
    it(`${name}: exact top-${TOP_N} sets (ties to the lower token), histogram, bands, count, max`, async () => {
      const D = 7;
      const S = 13;
      const T = 613;
      const sae = randomSae(D, S, act, 3);
      const x = rowsWithTies(T, D, 5);
      const want = oracle(sae, x, 11);
      // Ties exist: some latent holds equal values in its top list.
      const st = await featurePassCpu(sae, reader(x, D), { seed: 11, blockRows: 37 });
      expect(st.nTokens).toBe(T);
      expectMatches(st, want);
      const again = await featurePassCpu(sae, reader(x, D), { seed: 11, blockRows: 2048, cacheEntries: 0 });
      expect(again).toEqual(st);
    });
  }

  it('has ties in its test data, and the lower token wins them', async () => {
    const sae = randomSae(7, 13, { kind: 'relu' }, 3);
    const x = rowsWithTies(613, 7, 5);
    const st = await featurePassCpu(sae, reader(x, 7), { blockRows: 64 });
    let ties = 0;
    for (let j = 0; j + 1 < st.topValues.length; j++) {
      if ((j + 1) % TOP_N === 0 || st.topTokens[j + 1] < 0) continue;
      if (st.topValues[j] === st.topValues[j + 1]) {
        ties++;
        expect(st.topTokens[j]).toBeLessThan(st.topTokens[j + 1]);
      }
    }
    expect(ties).toBeGreaterThan(0);
  });

  it('honours the token budget and cancellation', async () => {
    const sae = randomSae(5, 9, { kind: 'topk', k: 2 }, 1);
    const x = rowsWithTies(300, 5, 2);
    const st = await featurePassCpu(sae, reader(x, 5), { maxTokens: 100 });
    expect(st.nTokens).toBe(100);
    expect(Math.max(...st.topTokens)).toBeLessThan(100);
    expectMatches(st, oracle(sae, x.slice(0, 100 * 5), 0));
    let blocks = 0;
    await expect(
      featurePassCpu(sae, reader(x, 5), { blockRows: 50, cancelled: () => ++blocks > 2 }),
    ).rejects.toBeInstanceOf(PassCancelled);
  });

  it('encodes TopK with ties to the lower latent and drops non-positive values', () => {
    const sae: InferenceSae = {
      dIn: 1,
      dSae: 5,
      wEnc: Float32Array.of(1, 2, 2, -1, 0.5),
      wDec: new Float32Array(5),
      bEnc: new Float32Array(5),
      bDec: new Float32Array(1),
      activation: { kind: 'topk', k: 2 },
    };
    const z = encodeSparse(sae, Float32Array.of(1, -1));
    // Row 0: pre = [1, 2, 2, −1, 0.5] → latents 1 and 2 (tie at 2, both kept). Row 1: pre = [−1, −2, −2, 1, −0.5]
    // → the top 2 are latent 3 (1) and latent 4 (−0.5); only the positive one fires.
    expect(Array.from(z.offsets)).toEqual([0, 2, 3]);
    expect(Array.from(z.ids)).toEqual([1, 2, 3]);
    expect(Array.from(z.values)).toEqual([2, 2, 1]);
  });

  it('bandPriority is murmur3 fmix32 of the mix (values from an independent Python implementation)', () => {
    // python: h = (t·0x9e3779b1 ^ (s+1)·0x85ebca77 ^ seed) mod 2³², then fmix32.
    expect([
      bandPriority(0, 0, 0),
      bandPriority(7, 3, 12345),
      bandPriority(0xffffffff, 65535, 1 << 30),
    ]).toEqual([2612203797, 1813576790, 3277394030]);
    const seen = new Set<number>();
    for (let t = 0; t < 1000; t++) seen.add(bandPriority(1, 2, t));
    expect(seen.size).toBe(1000);
    for (const v of seen) expect(v >= 0 && v < 2 ** 32 && Number.isInteger(v)).toBe(true);
  });
});
