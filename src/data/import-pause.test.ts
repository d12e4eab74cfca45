/**
 * An import over the storage quota pauses instead of failing (importPausingOverQuota in import-client.ts): the real
 * importer on an in-memory store, with a quota that the user "frees" between the pause and Resume.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { bytesSource } from './bytes';
import { isCancelled, isQuotaImportError } from './errors';
import { encodeElems, npyBytes } from './fixtures';
import { type ImportJob, importPausingOverQuota, type QuotaDecision } from './import-client';
import { importDataset } from './importer';
import { DatasetStore, memoryKv } from './store';

const ROWS = 40;
const D = 5;
const file = () =>
  bytesSource(
    'p.npy',
    npyBytes({ descr: '<f4', shape: [ROWS, D], data: encodeElems(new Rng(3).normalArray(ROWS * D), 'f32') }),
  );

/** A store whose writes of shards throw QuotaExceededError while `full.on` (IndexedDB over quota). */
function storeWithQuota(full: { on: boolean }) {
  const kv = memoryKv();
  const store = new DatasetStore({
    ...kv,
    async set(key: string, value: unknown) {
      if (full.on && key.startsWith('shard/')) throw new DOMException('', 'QuotaExceededError');
      return kv.set(key, value);
    },
  });
  return { kv, store };
}

/** One attempt as the import worker runs it (the importer on the store), counted. */
function attempts(store: DatasetStore, quota: { bytes: number }) {
  let n = 0;
  const start = (): ImportJob => {
    n++;
    return {
      done: importDataset(
        store,
        [{ source: file() }],
        { kind: 'new', name: 'p' },
        {
          shardBytes: 7 * D * 4,
          estimate: async () => ({ usage: 0, quota: quota.bytes }),
        },
      ),
      cancel: () => {},
    };
  };
  return { start, count: () => n };
}

describe('import over the storage quota', () => {
  it('pauses with bytes needed, used and allowed; after space is freed, Resume imports it completely', async () => {
    const full = { on: false };
    const { store } = storeWithQuota(full);
    const quota = { bytes: 100 }; // the estimate says it cannot fit: refused before writing
    const { start, count } = attempts(store, quota);
    const messages: string[] = [];
    const m = await importPausingOverQuota(start, async (message) => {
      messages.push(message);
      expect(await store.allKeys()).toEqual([]); // paused with nothing of it stored
      if (messages.length === 1) {
        // Still over quota at the next attempt, this time a write throws mid-import.
        quota.bytes = 1e9;
        full.on = true;
      } else full.on = false; // the user deleted a dataset
      return 'resume';
    });
    expect(count()).toBe(3);
    expect(messages[0]).toMatch(
      /"p.npy": over quota: storing 40 rows × 5 as float32 needs 800 bytes, but the browser allows only 100 bytes more \(0 bytes used of 100 bytes\)/,
    );
    expect(messages[1]).toMatch(/"p.npy": over quota \(QuotaExceededError\): .*needs 800 bytes/);
    expect(m.nTokens).toBe(ROWS);
    const src = await store.open(m.id);
    expect(src.manifest.shardCount).toBe(Math.ceil(ROWS / 7));
  });

  it('Cancel leaves the store exactly as it was', async () => {
    const full = { on: true };
    const { kv, store } = storeWithQuota(full);
    await kv.set('dataset/other', { keep: true });
    const before = new Map(kv.map);
    const { start, count } = attempts(store, { bytes: 1e9 });
    const decisions: QuotaDecision[] = ['cancel'];
    const err = await importPausingOverQuota(start, async () => decisions.shift() ?? 'cancel').catch(
      (e: unknown) => e,
    );
    expect(isCancelled(err)).toBe(true);
    expect(count()).toBe(1);
    expect(new Map(kv.map)).toEqual(before);
  });

  it('other errors are not paused; without onQuota an over-quota import fails as before', async () => {
    const bad = (): ImportJob => ({
      done: Promise.reject(new Error('"x.npy": truncated data')),
      cancel() {},
    });
    let asked = 0;
    await expect(
      importPausingOverQuota(bad, async () => {
        asked++;
        return 'resume';
      }),
    ).rejects.toThrow(/truncated data/);
    expect(asked).toBe(0);
    const { store } = storeWithQuota({ on: false });
    const err = await importPausingOverQuota(attempts(store, { bytes: 10 }).start).catch((e: unknown) => e);
    expect(isQuotaImportError(err)).toBe(true);
  });
});
