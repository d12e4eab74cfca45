/**
 * Patched CE (src/lm/corpus-cpu.ts patchedCeCpu + src/sae/metrics.ts patchedCeMetrics) on a small random model:
 * splicing the identity gives CE_SAE = CE_clean and a CE-loss score of exactly 1 (KL score 1); splicing zeros gives
 * exactly 0; the bootstrap interval is seeded and brackets the estimate.
 */
import { describe, expect, it } from 'vitest';
import { ceLossScore, deltaLoss, klScore, patchedCeMetrics } from '../sae/metrics';
import { Rng } from '../util/rng';
import { patchedCeCpu } from './corpus-cpu';
import { ODD_CONFIG, randomModel } from './testing/random-model';
import { BOS } from './tokenizer';

const model = randomModel(ODD_CONFIG, 5, 'odd');
const rng = new Rng(9);
const seqs = Array.from({ length: 6 }, (_, d) => [
  BOS,
  ...Array.from({ length: 9 + 3 * d }, () => 3 + rng.int(297)),
]);
const hook = 'blocks.1.hook_resid_post';

describe('patched cross-entropy', () => {
  it('identity splice: score exactly 1; zero splice: score exactly 0', () => {
    const id = patchedCeMetrics(patchedCeCpu(model, seqs, hook, (x) => x.slice()));
    expect(id.ceSae).toBe(id.ceClean);
    expect(id.ceLossScore.value).toBe(1);
    expect(id.deltaLoss.value).toBe(0);
    expect(id.klScore).toBe(1);
    expect(id.ceZero).not.toBe(id.ceClean);
    const zero = patchedCeMetrics(patchedCeCpu(model, seqs, hook, (x) => new Float32Array(x.length)));
    expect(Math.abs(zero.ceLossScore.value)).toBe(0);
    expect(Math.abs(zero.klScore)).toBe(0);
    expect(zero.tokens).toBe(seqs.reduce((s, q) => s + q.length - 1, 0));
  });

  it('a noisy splice scores between, with a seeded interval around it', () => {
    const noise = new Rng(1);
    const docs = patchedCeCpu(model, seqs, hook, (x) => x.map((v) => v + 0.5 * noise.normal()));
    const a = patchedCeMetrics(docs, 4);
    const b = patchedCeMetrics(docs, 4);
    expect(a).toEqual(b);
    expect(a.ceLossScore.lo).toBeLessThanOrEqual(a.ceLossScore.value);
    expect(a.ceLossScore.hi).toBeGreaterThanOrEqual(a.ceLossScore.value);
    expect(a.deltaLoss.lo).toBeLessThanOrEqual(a.deltaLoss.hi);
    expect(a.documents).toBe(6);
  });

  it('formulas', () => {
    expect(ceLossScore(1, 1.5, 3)).toBeCloseTo(0.75, 12);
    expect(deltaLoss(1, 1.5)).toBe(0.5);
    expect(klScore(0.5, 2)).toBe(0.75);
    expect(ceLossScore(1, 1, 1)).toBeNaN();
    expect(() => patchedCeMetrics([])).toThrow(/no target tokens/);
  });
});
