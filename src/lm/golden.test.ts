/**
 * The CPU twin against golden_stories260K.json (an independent float32 forward of stories260K): the residual stream
 * at positions 0–15 after every block, the first 16 logits at position 0, story 1's mean CE, and greedy decoding.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLlamaCheckpoint } from './checkpoint';
import { lmForwardCpu, logSoftmaxCpu, tokenCeCpu } from './forward-cpu';
import { encode, parseTokenizer } from './tokenizer';

const root = resolve(import.meta.dirname, '../..');
const golden = JSON.parse(
  readFileSync(resolve(root, 'e2e/fixtures/golden_stories260K.json'), 'utf8').toString(),
);
const model = parseLlamaCheckpoint(
  new Uint8Array(readFileSync(resolve(root, 'public/lm/stories260K.bin'))),
  'stories260K.bin',
);
const tok = parseTokenizer(
  new Uint8Array(readFileSync(resolve(root, 'public/lm/tok512.bin'))),
  'tok512.bin',
  512,
);

/**
 * Largest |a − b| / max(|b|, floor) over the pairs: relative error, with a floor of 1% of the tensor's largest |value|
 * for entries near zero (the golden file itself differs from a plain float32 lookup by ~5e-7 absolute).
 */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>, scale: number): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++)
    worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), scale));
  return worst;
}

describe('stories260K golden forward (CPU twin)', () => {
  it('has the shipped files', () => {
    expect(existsSync(resolve(root, 'e2e/fixtures/golden_stories260K.json'))).toBe(true);
    expect(model.config).toMatchObject({
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
    });
    expect(model.config.sharedClassifier).toBe(true);
  });

  it('tokenizes story 1 to the golden ids', () => {
    expect(encode(tok, golden.story1_text, true)).toEqual(golden.story1_tokens);
  });

  it('matches the residual stream at positions 0–15 after every block, the logits and the CE', () => {
    const tokens: number[] = golden.story1_tokens;
    const L = model.config.nLayers;
    const D = model.config.dim;
    const resid: Float32Array[] = [];
    const hooks = Object.fromEntries(
      ['hook_embed', ...Array.from({ length: L }, (_, l) => `blocks.${l}.hook_resid_post`)].map((name, k) => [
        name,
        { read: (x: Float32Array) => (resid[k] = x.slice(0, 16 * D)) },
      ]),
    );
    const logits = lmForwardCpu(model, tokens, { hooks });
    expect(logits).not.toBeNull();
    const V = model.config.vocabSize;
    let worst = 0;
    for (let k = 0; k <= L; k++) {
      const want = (golden.story1_resid_first16 as number[][][]).flatMap((pos) => pos[k]);
      let scale = 0;
      for (const w of want) scale = Math.max(scale, Math.abs(w));
      const rel = maxRel(resid[k], want, 1e-2 * scale);
      worst = Math.max(worst, rel);
    }
    console.log(`golden resid max relative error (CPU twin): ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
    const first16 = (logits as Float32Array).slice(0, 16);
    const relLogits = maxRel(
      first16,
      golden.story1_logits_pos0_first16,
      1e-2 * Math.max(...first16.map(Math.abs)),
    );
    console.log(`golden logits max relative error (CPU twin): ${relLogits.toExponential(2)}`);
    expect(relLogits).toBeLessThan(1e-4);
    const ce = tokenCeCpu(logSoftmaxCpu(logits as Float32Array, tokens.length, V), tokens, V);
    const mean = ce.reduce((s, v) => s + v, 0) / ce.length;
    console.log(`story-1 CE ${mean} vs golden ${golden.story1_mean_ce_nats}`);
    expect(Math.abs(mean - golden.story1_mean_ce_nats) / golden.story1_mean_ce_nats).toBeLessThan(1e-4);
  });

  it('greedy decoding from BOS gives the golden tokens', () => {
    const want: number[] = golden.greedy_from_bos_tokens;
    const seq = [want[0]];
    const V = model.config.vocabSize;
    while (seq.length < want.length) {
      const logits = lmForwardCpu(model, seq) as Float32Array;
      const last = logits.subarray((seq.length - 1) * V, seq.length * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (last[v] > last[best]) best = v;
      seq.push(best);
    }
    expect(seq).toEqual(want);
  });
});
