import { describe, expect, it } from 'vitest';
import { emptyManifest } from '../data/fixtures';
import { DatasetStore, memoryKv } from '../data/store';
import type { DatasetManifest } from '../data/types';
import { setDatasetNames } from '../lm/dataset-names';
import type { Checkpoint, CheckpointStore } from '../train/checkpoint';
import { contextRange } from './context';
import { FeatureSession } from './session';

/** A byte-level BPE tokenizer.json with three pieces ("Ġ" = space) and <|endoftext|> between documents. */
const tokenizerJson = JSON.stringify({
  version: '1.0',
  added_tokens: [
    {
      id: 3,
      content: '<|endoftext|>',
      special: true,
      normalized: false,
      lstrip: false,
      rstrip: false,
      single_word: false,
    },
  ],
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: null,
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', vocab: { Once: 0, Ġupon: 1, Ġa: 2 }, merges: [], byte_fallback: false },
});

describe('feature session on an imported dataset', () => {
  it('decodes contexts with the tokenizer attached to the dataset (not the built-in model)', async () => {
    const D = 4;
    const S = 3;
    const N = 5;
    const store = new DatasetStore(memoryKv());
    const m = emptyManifest('imp', N, D, 'imported');
    await store.commit(m);
    await setDatasetNames(
      store,
      'imp',
      {
        modelName: 'gpt2-small',
        hookName: 'blocks.0.hook_resid_pre',
        tokenIds: { name: 'ids.npy', ids: new Int32Array([3, 0, 1, 3, 2]) },
        tokenizer: { name: 'tokenizer.json', bytes: new TextEncoder().encode(tokenizerJson) },
      },
      () => Promise.reject(new Error('the built-in model is not needed')),
    );
    const cp = {
      meta: {
        runId: 'r',
        datasetId: 'imp',
        datasetName: 'imported',
        dModel: D,
        dSae: S,
        scale: 1,
        config: {},
      },
      data: {
        state: {
          params: {
            wEnc: new Float32Array(D * S).fill(0.5),
            wDec: new Float32Array(S * D).fill(0.5),
            bEnc: new Float32Array(S),
            bDec: new Float32Array(D),
          },
        },
      },
    } as unknown as Checkpoint;
    const checkpoints = { load: async () => cp } as unknown as CheckpointStore;
    const s = await FeatureSession.open('r', {
      checkpoints,
      openDataset: async () => ({
        manifest: (await store.get('imp')) as DatasetManifest,
        readShard: async () => new Float32Array(N * D),
      }),
      fetchBytes: () => Promise.reject(new Error('no app files for an imported dataset')),
      readTokens: (key) => store.getValue<{ tokens: Int32Array }>(key).then((v) => v?.tokens),
      readTokenizer: (key) => store.getValue<{ bytes: Uint8Array }>(key).then((v) => v?.bytes),
    });
    expect(s.model).toBeNull();
    expect(Array.from(s.tokens ?? [])).toEqual([3, 0, 1, 3, 2]);
    const vocab = s.vocab();
    expect(Array.from(s.tokens ?? [], (id) => vocab[id]).join('')).toBe(
      '<|endoftext|>Once upon<|endoftext|> a',
    );
    // Documents start at the tokenizer's <|endoftext|> (not llama2.c's id 1): contexts are cut there.
    expect(s.bosId).toBe(3);
    expect(contextRange(s.tokens ?? [], 2, 8, s.bosId)).toEqual([0, 3]);
    expect(contextRange(s.tokens ?? [], 4, 8, s.bosId)).toEqual([3, 5]);

    // A stored tokenizer that has gone missing is named.
    await expect(
      FeatureSession.open('r', {
        checkpoints,
        openDataset: async () => ({
          manifest: (await store.get('imp')) as DatasetManifest,
          readShard: async () => new Float32Array(0),
        }),
        fetchBytes: () => Promise.reject(new Error('unused')),
        readTokens: async () => undefined,
        readTokenizer: async () => undefined,
      }),
    ).rejects.toThrow(/the tokenizer tokenizer\.json of dataset "imported" is missing/);
  });
});
