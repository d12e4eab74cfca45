/**
 * The dataset store: manifests and float32 shards in IndexedDB (idb-keyval over a database of our own), plus an
 * in-memory twin for unit tests. Works in the page and in workers.
 *
 * Keys (strings):
 *   dataset/<id>                     DatasetManifest
 *   shard/<id>/<generation>/<index>  Float32Array [rows · d_model], rows = shardRowCount(manifest, index)
 *
 * A manifest lists the keys of its shards (`shardKeys`). An import writes its shards under a fresh generation
 * and writes the manifest last, so a dataset becomes visible only when complete; appending to a dataset
 * rewrites its partial last shard under the new generation and swaps the manifest in one write. Any shard key
 * that no manifest lists is an orphan (a failed, cancelled or interrupted import) and is removed by
 * {@link DatasetStore.cleanupOrphans}, which runs at startup while no import holds the write lock.
 */

import { createStore, delMany, get, del as idbDel, promisifyRequest, set, type UseStore } from 'idb-keyval';
import { withDatasetExclusive } from './dataset-lock';
import type { DatasetManifest, DatasetSource } from './types';
import { shardRowCount } from './types';

/** IndexedDB database and object store of the dataset library (one store per database: idb-keyval's rule). */
export const DB_NAME = 'sae-lab-datasets';
export const STORE_NAME = 'datasets';
/** Web Lock held (shared) by every import and (exclusive, if free) by orphan cleanup. */
export const WRITE_LOCK = 'sae-lab-datasets-write';
/** BroadcastChannel on which every change to the library is announced. */
export const CHANGE_CHANNEL = 'sae-lab-datasets';

/** Minimal key-value interface the store needs; implemented over IndexedDB and in memory. */
export interface Kv {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  del(keys: string[]): Promise<void>;
  /** All keys starting with `prefix`, sorted. */
  keys(prefix?: string): Promise<string[]>;
  /** All values whose key starts with `prefix`, in key order. */
  values<T>(prefix: string): Promise<T[]>;
}

function range(prefix: string): IDBKeyRange | undefined {
  return prefix ? IDBKeyRange.bound(prefix, `${prefix}\uffff`) : undefined;
}

/** A {@link Kv} over one IndexedDB object store (via idb-keyval). */
export function idbKv(dbName = DB_NAME, storeName = STORE_NAME): Kv {
  const store: UseStore = createStore(dbName, storeName);
  return {
    get: <T>(key: string) => get<T>(key, store),
    set: (key, value) => set(key, value, store),
    del: (keys) =>
      keys.length === 1 ? idbDel(keys[0], store) : keys.length ? delMany(keys, store) : Promise.resolve(),
    keys: (prefix = '') =>
      store('readonly', (s) => promisifyRequest(s.getAllKeys(range(prefix)))).then((ks) => ks.map(String)),
    values: <T>(prefix: string) =>
      store('readonly', (s) => promisifyRequest(s.getAll(range(prefix)) as IDBRequest<T[]>)),
  };
}

/** An in-memory {@link Kv} (values are structured-cloned, as IndexedDB does). For unit tests. */
export function memoryKv(): Kv & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  const sortedKeys = (prefix: string) => [...map.keys()].filter((k) => k.startsWith(prefix)).sort();
  return {
    map,
    async get<T>(key: string) {
      return map.has(key) ? (structuredClone(map.get(key)) as T) : undefined;
    },
    async set(key, value) {
      map.set(key, structuredClone(value));
    },
    async del(keys) {
      for (const k of keys) map.delete(k);
    },
    async keys(prefix = '') {
      return sortedKeys(prefix);
    },
    async values<T>(prefix: string) {
      return sortedKeys(prefix).map((k) => structuredClone(map.get(k)) as T);
    },
  };
}

/** Key of a dataset's manifest. */
export function manifestKey(id: string): string {
  return `dataset/${id}`;
}

/** Key of shard `index` written by import generation `gen` of dataset `id`. */
export function shardKey(id: string, gen: number, index: number): string {
  return `shard/${id}/${gen}/${index}`;
}

/** Generation part of a shard key (-1 when the key is not a shard key). */
export function shardGeneration(key: string): number {
  const m = /^shard\/[^/]+\/(\d+)\/\d+$/.exec(key);
  return m ? Number(m[1]) : -1;
}

/** The keys of a manifest's shards, in shard order (`shardKeys`, or generation 0 when absent). */
export function shardKeysOf(m: DatasetManifest): string[] {
  return m.shardKeys ?? Array.from({ length: m.shardCount }, (_, i) => shardKey(m.id, 0, i));
}

/** Every key a manifest owns: its shards, its token ids (harvest or attached) and an attached tokenizer. */
function listedKeysOf(m: DatasetManifest): string[] {
  const keys = [...shardKeysOf(m)];
  if (m.lm?.tokens.kind === 'key') keys.push(m.lm.tokens.key);
  if (m.tokenizer) keys.push(m.tokenizer.key);
  if (m.tokenIds) keys.push(m.tokenIds.key);
  return keys;
}

/** A fresh dataset id (no '/'). */
export function newDatasetId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

type LockFn<T> = (held: boolean) => Promise<T>;
/** Run `fn` under Web Lock `name` when the API exists (else just run it, with held = true). */
async function withLock<T>(
  name: string,
  mode: 'shared' | 'exclusive',
  ifAvailable: boolean,
  fn: LockFn<T>,
): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return fn(true);
  return locks.request(name, { mode, ifAvailable }, (lock) => fn(lock !== null)) as Promise<T>;
}

/** Announce a change of the library to every page, worker and tab (no-op where BroadcastChannel is missing). */
function announce(): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const ch = new BroadcastChannel(CHANGE_CHANNEL);
  ch.postMessage('changed');
  ch.close();
}

/**
 * Call `cb` whenever a dataset is added, renamed or deleted (in this or another context).
 * @returns a function that stops listening.
 */
export function subscribeDatasets(cb: () => void): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => {};
  const ch = new BroadcastChannel(CHANGE_CHANNEL);
  ch.onmessage = () => cb();
  return () => ch.close();
}

/** Manifests, shards and their life cycle over a {@link Kv}. */
export class DatasetStore {
  constructor(readonly kv: Kv) {}

  /** Every complete dataset, oldest first. */
  async list(): Promise<DatasetManifest[]> {
    const ms = await this.kv.values<DatasetManifest>('dataset/');
    return ms.sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  }

  /** The manifest of dataset `id`, or undefined. */
  get(id: string): Promise<DatasetManifest | undefined> {
    return this.kv.get<DatasetManifest>(manifestKey(id));
  }

  /**
   * Shard reader of dataset `id`.
   * @throws Error when there is no such dataset. readShard throws RangeError for an index outside
   *   [0, shardCount) and Error when a shard is missing or has the wrong length.
   */
  async open(id: string): Promise<DatasetSource> {
    const manifest = await this.get(id);
    if (!manifest) throw new Error(`dataset "${id}" not found`);
    const keys = shardKeysOf(manifest);
    const kv = this.kv;
    return {
      manifest,
      async readShard(index: number): Promise<Float32Array> {
        if (!Number.isInteger(index) || index < 0 || index >= manifest.shardCount)
          throw new RangeError(
            `dataset "${manifest.name}": shard ${index} outside [0, ${manifest.shardCount})`,
          );
        const data = await kv.get<Float32Array>(keys[index]);
        const want = shardRowCount(manifest, index) * manifest.dModel;
        if (!(data instanceof Float32Array))
          throw new Error(
            `dataset "${manifest.name}": shard ${index} (${keys[index]}) is missing from the store`,
          );
        if (data.length !== want)
          throw new Error(
            `dataset "${manifest.name}": shard ${index} has ${data.length} values, expected ${want}`,
          );
        return data;
      },
    };
  }

  /**
   * Rename dataset `id`.
   * @throws Error for an empty name or an unknown id.
   */
  async rename(id: string, name: string): Promise<DatasetManifest> {
    const trimmed = name.trim();
    if (!trimmed) throw new Error('a dataset name cannot be empty');
    const m = await this.get(id);
    if (!m) throw new Error(`dataset "${id}" not found`);
    const next = { ...m, name: trimmed };
    await this.kv.set(manifestKey(id), next);
    announce();
    return next;
  }

  /**
   * Delete dataset `id`: the manifest first (the dataset disappears at once), then its shards. Shards left by
   * an interruption are orphans and go at the next cleanup. Unknown ids are ignored.
   * @throws DatasetInUseError when a run uses the dataset (nothing is deleted then).
   */
  async delete(id: string): Promise<void> {
    const m = await this.get(id);
    if (!m) return;
    // Refused at once while a run (in any tab) uses the dataset: see src/data/dataset-lock.ts.
    await withDatasetExclusive(id, m.name, async () => {
      await this.kv.del([manifestKey(id)]);
      announce();
      const keys = new Set([...shardKeysOf(m), ...(await this.kv.keys(`shard/${id}/`))]);
      await this.kv.del([...keys]);
    });
  }

  /**
   * Remove shards that no manifest lists. Skipped (returns null) while an import anywhere holds the write lock,
   * because that import's shards are not listed yet.
   * @returns the removed keys, or null when skipped.
   */
  cleanupOrphans(): Promise<string[] | null> {
    return withLock(WRITE_LOCK, 'exclusive', true, async (held) => {
      if (!held) return null;
      const listed = new Set((await this.list()).flatMap(listedKeysOf));
      const orphans = (await this.kv.keys('shard/')).filter((k) => !listed.has(k));
      await this.kv.del(orphans);
      return orphans;
    });
  }

  /** Run an import-like writer while holding the shared write lock (so cleanup never sees its shards). */
  withWriteLock<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(WRITE_LOCK, 'shared', false, () => fn());
  }

  /** Every key in the store, sorted (tests compare these before and after a failed import). */
  allKeys(): Promise<string[]> {
    return this.kv.keys('');
  }

  /** Store one shard (importer only). */
  putShard(key: string, rows: Float32Array): Promise<void> {
    return this.kv.set(key, rows);
  }

  /** Store a side value of a dataset under a shard key (harvest token ids; src/lm/harvest-store.ts). */
  putValue(key: string, value: unknown): Promise<void> {
    return this.kv.set(key, value);
  }

  /** Read a value by key (harvest token ids). */
  getValue<T>(key: string): Promise<T | undefined> {
    return this.kv.get<T>(key);
  }

  /** Write a manifest, making the dataset visible (importer only; call after all its shards are stored). */
  async commit(m: DatasetManifest): Promise<void> {
    await this.kv.set(manifestKey(m.id), m);
    announce();
  }

  /** Delete keys (importer cleanup). */
  deleteKeys(keys: string[]): Promise<void> {
    return this.kv.del(keys);
  }
}

let defaultStore: DatasetStore | null = null;
/** The IndexedDB-backed store of this context (page or worker), created on first use. */
export function datasetStore(): DatasetStore {
  defaultStore ??= new DatasetStore(idbKv());
  return defaultStore;
}

/** All stored datasets, oldest first. */
export function listDatasets(): Promise<DatasetManifest[]> {
  return datasetStore().list();
}

/** Shard reader of a stored dataset. @throws Error when it does not exist (see {@link DatasetStore.open}). */
export function openDataset(id: string): Promise<DatasetSource> {
  return datasetStore().open(id);
}

/** Rename a stored dataset. @throws Error for an empty name or unknown id. */
export function renameDataset(id: string, name: string): Promise<DatasetManifest> {
  return datasetStore().rename(id, name);
}

/** Delete a stored dataset and its shards. */
export function deleteDataset(id: string): Promise<void> {
  return datasetStore().delete(id);
}

/** Remove orphan shards of interrupted imports; call once at startup. @returns removed keys, null if skipped. */
export function cleanupOrphanShards(): Promise<string[] | null> {
  return datasetStore().cleanupOrphans();
}
