/** Decoder neighbours, logit effects, contexts and feature links against plain brute force on small shapes. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { contextRange } from './context';
import { decoderNeighbours, LOGIT_BINS, LOGITS_SHOWN, logitEffects, NEIGHBOURS } from './decoder';
import { featureFragment, featureUrl, isFeatureFragment, parseFeatureFragment } from './link';

describe('decoder neighbours and logit effects', () => {
  const S = 37;
  const D = 11;
  const wDec = new Rng(4).normalArray(S * D);
  // Latent 5's row is −2 × latent 20's: |cos| = 1, sign −1.
  for (let d = 0; d < D; d++) wDec[5 * D + d] = -2 * wDec[20 * D + d];

  it('ranks the 10 others by |cos| (brute force)', () => {
    const row = (i: number) => Array.from(wDec.subarray(i * D, (i + 1) * D));
    const cos = (a: number[], b: number[]) => {
      const dot = a.reduce((s, v, j) => s + v * b[j], 0);
      return dot / Math.hypot(...a) / Math.hypot(...b);
    };
    const want = Array.from({ length: S }, (_, j) => j)
      .filter((j) => j !== 5)
      .map((j) => ({ latent: j, cos: cos(row(5), row(j)) }))
      .sort((a, b) => Math.abs(b.cos) - Math.abs(a.cos) || a.latent - b.latent)
      .slice(0, NEIGHBOURS);
    const got = decoderNeighbours(wDec, S, D, 5);
    expect(got.map((n) => n.latent)).toEqual(want.map((n) => n.latent));
    for (const [j, n] of got.entries()) expect(n.cos).toBeCloseTo(want[j].cos, 10);
    expect(got[0]).toEqual({ latent: 20, cos: expect.closeTo(-1, 10) });
    expect(() => decoderNeighbours(wDec, S, D, S)).toThrow(/outside/);
  });

  it('logit effects fold the final RMSNorm weight into W_dec[i]·W_U', () => {
    const V = 29;
    const r = new Rng(8);
    const wU = r.normalArray(V * D);
    const g = r.uniformArray(D, 0.5, 2);
    const e = logitEffects(wDec, D, 7, wU, g);
    const logit = (v: number) => {
      let s = 0;
      for (let d = 0; d < D; d++) s += wDec[7 * D + d] * g[d] * wU[v * D + d];
      return s;
    };
    const all = Array.from({ length: V }, (_, v) => ({ token: v, logit: logit(v) })).sort(
      (a, b) => b.logit - a.logit,
    );
    expect(e.top.map((t) => t.token)).toEqual(all.slice(0, LOGITS_SHOWN).map((t) => t.token));
    expect(e.bottom.map((t) => t.token)).toEqual(
      all
        .slice(-LOGITS_SHOWN)
        .reverse()
        .map((t) => t.token),
    );
    for (const t of e.top) expect(t.logit).toBeCloseTo(logit(t.token), 5);
    expect(e.hist.length).toBe(LOGIT_BINS);
    expect(e.hist.reduce((a, b) => a + b, 0)).toBe(V);
    expect(() => logitEffects(wDec, D, 7, wU, g.subarray(1))).toThrow(/width/);
  });
});

describe('contexts and feature links', () => {
  it('cuts a context at its document boundaries (BOS = 1 starts a document)', () => {
    //            0  1  2  3  4  5  6  7  8  9 10 11
    const toks = [1, 9, 9, 9, 1, 9, 9, 9, 9, 9, 9, 1];
    expect(contextRange(toks, 2)).toEqual([0, 4]);
    expect(contextRange(toks, 6, 2)).toEqual([4, 9]);
    expect(contextRange(toks, 10, 8)).toEqual([4, 11]);
    expect(contextRange(toks, 4)).toEqual([4, 11]);
    expect(() => contextRange(toks, 12)).toThrow(/outside/);
  });

  it('writes and reads #feature=<run>/<index>; damaged links give a message', () => {
    expect(featureFragment('run a/b', 17)).toBe('feature=run%20a%2Fb/17');
    expect(parseFeatureFragment(`#${featureFragment('run a/b', 17)}`)).toEqual({
      runId: 'run a/b',
      latent: 17,
    });
    expect(featureUrl('http://x/', 'r1', 3)).toBe('http://x/#feature=r1/3');
    expect(isFeatureFragment('#feature=r1/3')).toBe(true);
    expect(isFeatureFragment('#run=1.abc')).toBe(false);
    expect(() => parseFeatureFragment('#feature=r1')).toThrow(/damaged/);
    expect(() => parseFeatureFragment('#feature=r1/-3')).toThrow(/not a number/);
    expect(() => parseFeatureFragment('#feature=%E0%A4%A/3')).toThrow(/URI/);
  });
});
