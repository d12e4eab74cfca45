/**
 * Corpus checks of the CPU twin: the whole corpus tokenizes to the shipped token ids; harvesting
 * blocks.2.hook_resid_post reproduces the shipped activations; the mean CE over the 254 TinyStories documents equals
 * harvest.json's 1.754 nats/token. The forward passes take minutes over all 254 documents on a shared CPU, so by
 * default they run on the first DOCS documents (rows of the shipped file up to there; CE within 0.05 of the full
 * figure is not asserted on a subset); LM_FULL=1 runs the whole corpus with the tolerances:
 *   LM_FULL=1 npx vitest run src/lm/corpus.test.ts
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpyF32 } from '../train/testing/npy';
import { parseLlamaCheckpoint } from './checkpoint';
import { corpusCeCpu, harvestCpu } from './corpus-cpu';
import { splitDocuments, tokenizeDocuments } from './text';
import { parseTokenizer } from './tokenizer';

const root = resolve(import.meta.dirname, '../..');
// The shipped copies of ../shared/data/stories260K (identical files): public/demo, and e2e/fixtures for harvest.json.
const demo = resolve(root, 'public/demo');
const read = (p: string) => new Uint8Array(readFileSync(p));
const model = parseLlamaCheckpoint(read(resolve(root, 'public/lm/stories260K.bin')), 'stories260K.bin');
const tok = parseTokenizer(read(resolve(root, 'public/lm/tok512.bin')), 'tok512.bin', 512);
const docs = splitDocuments(
  readFileSync(resolve(root, 'public/lm/tinystories.jsonl'), 'utf8'),
  'tinystories.jsonl',
);
const seqs = tokenizeDocuments(tok, docs, 512);
const FULL = process.env.LM_FULL === '1';
const DOCS = FULL ? seqs.length : 12;
const subset = seqs.slice(0, DOCS);
const subsetRows = subset.reduce((s, q) => s + q.length, 0);
const harvestJson = JSON.parse(readFileSync(resolve(root, 'e2e/fixtures/harvest.json'), 'utf8'));

describe('stories260K over tinystories.jsonl (CPU twin)', () => {
  it('tokenizes the corpus to the shipped token ids', () => {
    expect(docs.length).toBe(254);
    const want = new Int32Array(read(`${demo}/stories260K.tokens.npy`).slice(128).buffer);
    const got = Int32Array.from(seqs.flatMap((s) => Array.from(s)));
    expect(got.length).toBe(harvestJson.tokens);
    expect(got).toEqual(want);
  });

  it.runIf(FULL)('mean CE = harvest.json within 1e-3 (LM_FULL=1)', { timeout: 3_600_000 }, () => {
    const r = corpusCeCpu(model, seqs);
    console.log(
      `corpus CE ${r.ceNatsPerToken} over ${r.tokens} targets (harvest.json ${harvestJson.mean_ce_nats})`,
    );
    expect(Math.abs(r.ceNatsPerToken - harvestJson.mean_ce_nats)).toBeLessThan(1e-3);
  });

  it('harvest at blocks.2.hook_resid_post = the shipped activations within 1e-4', {
    timeout: 3_600_000,
  }, () => {
    const h = harvestCpu(model, subset, 'blocks.2.hook_resid_post');
    const want = parseNpyF32(read(`${demo}/stories260K.resid_post.2.f32.npy`));
    expect(want.shape).toEqual([harvestJson.tokens, 64]);
    expect(h.tokens.length).toBe(subsetRows);
    expect(h.documents[subsetRows - 1]).toBe(DOCS - 1);
    expect(h.positions[subset[0].length]).toBe(0);
    let worst = 0;
    for (let i = 0; i < subsetRows * 64; i++)
      worst = Math.max(worst, Math.abs(h.activations[i] - want.data[i]));
    console.log(`harvest of ${DOCS} documents (${subsetRows} rows): max abs error ${worst}`);
    expect(worst).toBeLessThan(1e-4);
  });
});
