/**
 * `window.__saeLab.store`: a small read-mostly handle on the dataset store for browser tests and for poking at
 * the library from the devtools console. It exposes nothing the app itself cannot do.
 */
import { ensureDemoDataset } from './import-client';
import { datasetStore } from './store';

/** What the hook offers. */
export interface StoreHook {
  /** Manifests, oldest first. */
  listDatasets(): Promise<import('./types').DatasetManifest[]>;
  /** Every IndexedDB key of the dataset store, sorted. */
  allKeys(): Promise<string[]>;
  /** Rows [start, start + count) of dataset `id` as plain arrays (reads the shards that hold them). */
  readRows(id: string, start: number, count: number): Promise<number[][]>;
  /** Remove orphan shards now; returns the removed keys (null when an import is running). */
  cleanupOrphans(): Promise<string[] | null>;
  /** {@link ensureDemoDataset}: the built-in demo dataset, imported on first use. */
  ensureDemoDataset(): Promise<import('./types').DatasetManifest>;
}

/** Install (or refresh) `globalThis.__saeLab.store`, keeping other members of `__saeLab`. */
export function installStoreHook(): void {
  const store = datasetStore();
  const hook: StoreHook = {
    listDatasets: () => store.list(),
    allKeys: () => store.allKeys(),
    cleanupOrphans: () => store.cleanupOrphans(),
    ensureDemoDataset: () => ensureDemoDataset(),
    async readRows(id, start, count) {
      const src = await store.open(id);
      const { dModel, shardRows, nTokens } = src.manifest;
      const out: number[][] = [];
      for (let r = Math.max(0, start); r < Math.min(nTokens, start + count); r++) {
        const shard = await src.readShard(Math.floor(r / shardRows));
        const o = (r % shardRows) * dModel;
        out.push(Array.from(shard.subarray(o, o + dModel)));
      }
      return out;
    },
  };
  const g = globalThis as unknown as { __saeLab?: Record<string, unknown> };
  g.__saeLab = { ...(g.__saeLab ?? {}), store: hook };
}
