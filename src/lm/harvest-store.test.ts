/**
 * Harvest into the (in-memory) dataset store: the first documents of tinystories.jsonl at blocks.2.hook_resid_post
 * reproduce the shipped activations' first rows within 1e-4, with token ids, document/position indices and the
 * provenance record; cancellation and bad input leave the store's keys exactly as they were.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetStore, memoryKv } from '../data/store';
import { parseNpyF32 } from '../train/testing/npy';
import { type HarvestRequest, type HarvestTokens, harvestToStore } from './harvest-store';

const root = resolve(import.meta.dirname, '../..');
const file = (p: string) => new Uint8Array(readFileSync(resolve(root, p)));
const DOCS = 6;
const jsonl = readFileSync(resolve(root, 'public/lm/tinystories.jsonl'), 'utf8')
  .split('\n')
  .slice(0, DOCS)
  .join('\n');

function request(over: Partial<HarvestRequest> = {}): HarvestRequest {
  return {
    name: 'harvest test',
    checkpoint: { name: 'stories260K.bin', bytes: file('public/lm/stories260K.bin') },
    tokenizer: { name: 'tok512.bin', bytes: file('public/lm/tok512.bin') },
    text: { name: 'first.jsonl', bytes: new TextEncoder().encode(jsonl) },
    hook: 'blocks.2.hook_resid_post',
    ctx: 512,
    ...over,
  };
}

describe('harvest into the dataset store', () => {
  it('stores the shipped activations, token ids and provenance', { timeout: 300_000 }, async () => {
    const store = new DatasetStore(memoryKv());
    const seen: number[] = [];
    const m = await harvestToStore(store, request(), {
      shardBytes: 64 * 64 * 4 * 3,
      onProgress: (p) => seen.push(p.documents),
    });
    expect(seen.at(-1)).toBe(DOCS);
    expect(m.lm?.hook).toBe('blocks.2.hook_resid_post');
    expect(m.lm?.modelSha256).toBe('b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696');
    expect(m.lm?.ctx).toBe(512);
    expect(m.lm?.textSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.metadata?.hook_name).toBe('blocks.2.hook_resid_post');
    const want = parseNpyF32(
      new Uint8Array(
        readFileSync(resolve(import.meta.dirname, '../../public/demo/stories260K.resid_post.2.f32.npy')),
      ),
    );
    const src = await store.open(m.id);
    let row = 0;
    let worst = 0;
    for (let s = 0; s < m.shardCount; s++) {
      const rows = await src.readShard(s);
      for (let i = 0; i < rows.length; i++)
        worst = Math.max(worst, Math.abs(rows[i] - want.data[row * 64 + i]));
      row += rows.length / 64;
    }
    expect(row).toBe(m.nTokens);
    expect(worst).toBeLessThan(1e-4);
    const side = (await store.getValue<HarvestTokens>(
      m.lm?.tokens.kind === 'key' ? m.lm.tokens.key : '',
    )) as HarvestTokens;
    const tokens = new Int32Array(
      readFileSync(resolve(import.meta.dirname, '../../public/demo/stories260K.tokens.npy')).buffer.slice(
        128,
      ),
    );
    expect(side.tokens).toEqual(tokens.slice(0, m.nTokens));
    expect(side.documents[m.nTokens - 1]).toBe(DOCS - 1);
    expect(side.positions[0]).toBe(0);
    // Orphan cleanup keeps the token ids (the manifest lists them).
    expect(await store.cleanupOrphans()).toEqual([]);
  });

  it('cancel and bad input leave the store unchanged', { timeout: 300_000 }, async () => {
    const store = new DatasetStore(memoryKv());
    const before = await store.allKeys();
    const signal = { aborted: false };
    const p = harvestToStore(store, request(), {
      signal,
      shardBytes: 1024,
      onProgress: (x) => {
        if (x.documents === 2) signal.aborted = true;
      },
    });
    await expect(p).rejects.toThrow(/harvest cancelled/);
    expect(await store.allKeys()).toEqual(before);
    await expect(harvestToStore(store, request({ hook: 'blocks.7.hook_resid_post' }))).rejects.toThrow(
      /stories260K\.bin.*unknown hook/,
    );
    await expect(
      harvestToStore(
        store,
        request({ text: { name: 'bad.jsonl', bytes: new TextEncoder().encode('{"t": 1}\n') } }),
      ),
    ).rejects.toThrow(/bad\.jsonl.*line 1 has no string "text"/);
    await expect(
      harvestToStore(store, request({ checkpoint: { name: 'junk.bin', bytes: new Uint8Array(64) } })),
    ).rejects.toThrow(/junk\.bin/);
    expect(await store.allKeys()).toEqual(before);
  });
});
