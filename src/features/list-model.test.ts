/** The latent list's model at d_sae = 65,536 (the size): sort orders, dead latents, token search. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { density, FeatureListModel } from './list-model';
import { TOP_N } from './pass';

const S = 65_536;

function model() {
  const r = new Rng(9);
  const count = Uint32Array.from({ length: S }, (_, s) => (s % 97 === 0 ? 0 : 1 + r.int(5000)));
  const maxAct = Float32Array.from({ length: S }, (_, s) => (count[s] === 0 ? 0 : r.uniform(0.1, 9)));
  const topTokenIds = new Int32Array(S * TOP_N).fill(-1);
  for (let s = 0; s < S; s++) {
    if (count[s] === 0) continue;
    for (let j = 0; j < TOP_N; j++) topTokenIds[s * TOP_N + j] = r.int(512);
  }
  // Latent 12,345 alone has token 511 ("zebra").
  for (let j = 0; j < topTokenIds.length; j++) if (topTokenIds[j] === 511) topTokenIds[j] = 0;
  topTokenIds[12_345 * TOP_N + 3] = 511;
  const vocab = Array.from({ length: 512 }, (_, i) => (i === 511 ? ' zebra' : `t${i}`));
  return new FeatureListModel({ dSae: S, nTokens: 100_000, count, maxAct, topTokenIds, vocab });
}

describe('FeatureListModel at d_sae = 65,536', () => {
  const m = model();
  it('orders by density and max activation (descending, ties to the lower index) and by index', () => {
    const byDensity = m.order('density');
    expect(byDensity.length).toBe(S);
    const c = m.input.count;
    let bad = 0;
    for (let i = 1; i < S; i++) {
      const a = byDensity[i - 1];
      const b = byDensity[i];
      if (!(c[a] > c[b] || (c[a] === c[b] && a < b))) bad++;
    }
    expect(bad).toBe(0);
    const byMax = m.order('maxAct', true);
    for (let i = 1; i < S; i++) if (m.input.maxAct[byMax[i - 1]] > m.input.maxAct[byMax[i]]) bad++;
    expect(bad).toBe(0);
    expect(Array.from(m.order('index').subarray(0, 3))).toEqual([0, 1, 2]);
    expect(m.order('index', false)[0]).toBe(S - 1);
    expect(new Set(byMax).size).toBe(S);
  });

  it('marks dead latents', () => {
    expect(m.deadCount()).toBe(Math.ceil(S / 97));
    expect(m.isDead(97)).toBe(true);
    expect(m.isDead(98)).toBe(false);
    expect(density(250, 1000)).toBe(0.25);
    expect(density(0, 0)).toBe(0);
  });

  it('finds latents by a token of their top contexts, or by #index; sorts a subset', () => {
    expect(Array.from(m.search('ZEBRA '))).toEqual([12_345]);
    expect(Array.from(m.search('#42'))).toEqual([42]);
    expect(m.search('#70000').length).toBe(0);
    expect(m.search('').length).toBe(S);
    const hits = m.search('t12');
    expect(hits.length).toBeGreaterThan(100);
    const sub = m.order('density', false, hits);
    expect(new Set(sub)).toEqual(new Set(hits));
  });
});
