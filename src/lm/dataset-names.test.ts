import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyManifest } from '../data/fixtures';
import { DatasetStore, memoryKv } from '../data/store';
import type { DatasetManifest } from '../data/types';
import { exportSaeLens } from '../export/saelens';
import { DEFAULT_CONFIG } from '../train/config';
import { datasetNames, setDatasetNames } from './dataset-names';
import { BUILTIN_MODEL } from './provenance';

const loadModel = async () =>
  new Uint8Array(await readFile(resolve(import.meta.dirname, '../../public/lm/stories260K.bin')));

const manifest = (id: string, nTokens: number) => emptyManifest(id, nTokens);

async function storeWith(
  m: DatasetManifest,
): Promise<{ store: DatasetStore; keys: () => Promise<string[]> }> {
  const kv = memoryKv();
  const store = new DatasetStore(kv);
  await store.commit(m);
  return { store, keys: () => kv.keys('') };
}

describe('naming a dataset’s model and hook', () => {
  it('stores the names where the SAELens export reads them, and clears them with empty strings', async () => {
    const { store } = await storeWith(manifest('a', 6));
    const m = await setDatasetNames(
      store,
      'a',
      { modelName: ' gpt2-small ', hookName: 'blocks.8.hook_resid_pre' },
      loadModel,
    );
    expect(datasetNames(m)).toEqual({ modelName: 'gpt2-small', hookName: 'blocks.8.hook_resid_pre' });
    expect(datasetNames((await store.get('a')) as DatasetManifest).hookName).toBe('blocks.8.hook_resid_pre');
    expect(m.lm).toBeUndefined();
    const S = 3;
    const D = 4;
    const { cfg } = exportSaeLens(
      {
        wEnc: new Float32Array(D * S),
        wDec: new Float32Array(S * D),
        bEnc: new Float32Array(S),
        bDec: new Float32Array(D),
      },
      { dModel: D, dSae: S, k: 1, batchSize: 1 },
      {
        scale: 1,
        runId: 'r',
        datasetName: m.name,
        steps: 1,
        tokens: 1,
        config: DEFAULT_CONFIG,
        datasetMetadata: m.metadata,
      },
    );
    expect(cfg.model_name).toBe('gpt2-small');
    expect(cfg.hook_name).toBe('blocks.8.hook_resid_pre');
    const cleared = await setDatasetNames(store, 'a', { modelName: '', hookName: '' }, loadModel);
    expect(datasetNames(cleared)).toEqual({ modelName: '', hookName: '' });
  });

  it('with the built-in model, a hook and token ids, records provenance (patched CE) and stores the ids', async () => {
    const { store, keys } = await storeWith(manifest('b', 5));
    const ids = new Int32Array([1, 300, 301, 1, 42]);
    const m = await setDatasetNames(
      store,
      'b',
      {
        modelName: BUILTIN_MODEL.name,
        hookName: 'blocks.2.hook_resid_post',
        tokenIds: { name: 't.npy', ids },
      },
      loadModel,
    );
    expect(m.lm?.model).toBe(BUILTIN_MODEL.name);
    expect(m.lm?.hook).toBe('blocks.2.hook_resid_post');
    const tk = m.lm?.tokens;
    expect(tk?.kind).toBe('key');
    if (tk?.kind !== 'key') throw new Error('unreachable');
    expect((await store.getValue<{ tokens: Int32Array }>(tk.key))?.tokens).toEqual(ids);
    // Replacing the token ids frees the old value; the orphan cleanup keeps the listed one.
    const again = await setDatasetNames(
      store,
      'b',
      {
        modelName: BUILTIN_MODEL.name,
        hookName: 'blocks.1.hook_resid_post',
        tokenIds: { name: 't2.npy', ids },
      },
      loadModel,
    );
    expect(await keys()).not.toContain(tk.key);
    expect(await store.cleanupOrphans()).toEqual([]);
    const k2 = again.lm?.tokens;
    expect(k2?.kind === 'key' && (await keys()).includes(k2.key)).toBe(true);
  });

  it('refuses bad input with a message and leaves the store exactly as it was', async () => {
    const { store, keys } = await storeWith(manifest('c', 4));
    const before = { manifest: await store.get('c'), keys: await keys() };
    const bad: [string, Parameters<typeof setDatasetNames>[2]][] = [
      ['unknown hook', { modelName: BUILTIN_MODEL.name, hookName: 'blocks.9.hook_resid_post' }],
      [
        'count',
        {
          modelName: BUILTIN_MODEL.name,
          hookName: 'hook_embed',
          tokenIds: { name: 'n.npy', ids: new Int32Array([1, 2]) },
        },
      ],
      [
        'BOS',
        {
          modelName: BUILTIN_MODEL.name,
          hookName: 'hook_embed',
          tokenIds: { name: 'b.npy', ids: new Int32Array([5, 2, 3, 4]) },
        },
      ],
      [
        'vocab',
        {
          modelName: BUILTIN_MODEL.name,
          hookName: 'hook_embed',
          tokenIds: { name: 'v.npy', ids: new Int32Array([1, 2, 9999, 4]) },
        },
      ],
      [
        'other model',
        {
          modelName: 'gpt2',
          hookName: 'hook_embed',
          tokenIds: { name: 'o.npy', ids: new Int32Array([1, 2, 3, 4]) },
        },
      ],
      ['control', { modelName: 'a\u0007b', hookName: '' }],
      ['too long', { modelName: 'x'.repeat(201), hookName: '' }],
    ];
    const messages: string[] = [];
    for (const [what, names] of bad) {
      const e = await setDatasetNames(store, 'c', names, loadModel).then(
        () => null,
        (err: Error) => err.message,
      );
      expect(e, what).not.toBeNull();
      messages.push(e as string);
    }
    expect(messages[0]).toMatch(/unknown hook|layer|blocks\.9/);
    expect(messages[1]).toMatch(/n\.npy: 2 token ids, but the dataset "set c" has 4 rows/);
    expect(messages[2]).toMatch(/b\.npy: the first token must be BOS/);
    expect(messages[3]).toMatch(/v\.npy: token id 9999 at row 2 is outside the vocabulary/);
    expect(messages[4]).toMatch(
      /o\.npy: token ids of a model other than the built-in stories260K need its tokenizer/,
    );
    expect(await store.get('c')).toEqual(before.manifest);
    expect(await keys()).toEqual(before.keys);
    await expect(setDatasetNames(store, 'zz', { modelName: 'm', hookName: 'h' }, loadModel)).rejects.toThrow(
      /not found/,
    );
  });
});
