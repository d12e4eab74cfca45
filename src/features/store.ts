/**
 * Stored feature passes: one record per run in IndexedDB (database "sae-lab-features", store "features", key
 * `run/<runId>`), so a run's dashboard reopens without a new pass. Deleted with the run (src/runs/library.ts).
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { FeatureStats } from './pass';

export const FEATURES_DB = 'sae-lab-features';
export const FEATURES_STORE = 'features';

/** A stored feature pass of one run. Plain data. */
export interface StoredFeatures {
  runId: string;
  datasetId: string;
  /** Engine that computed it ('gpu' | 'cpu') and its wall time, ms. */
  engine: string;
  ms: number;
  createdAt: number;
  stats: FeatureStats;
  /** Token id at the centre of each top context [S, TOP_N] (−1 padding), for the list's token search. */
  topTokenIds: Int32Array;
  /** Bytes of this record (typed arrays). */
  bytes: number;
}

let db: UseStore | null = null;
function store(): UseStore {
  if (typeof indexedDB === 'undefined')
    throw new Error('Feature passes are stored in IndexedDB, absent here.');
  db ??= createStore(FEATURES_DB, FEATURES_STORE);
  return db;
}

/** Byte size of a record's typed arrays. */
export function featuresBytes(s: Omit<StoredFeatures, 'bytes'>): number {
  const st = s.stats;
  return [
    st.count,
    st.maxAct,
    st.topValues,
    st.topTokens,
    st.hist,
    st.bandValues,
    st.bandTokens,
    s.topTokenIds,
  ].reduce((a, x) => a + x.byteLength, 0);
}

/** The stored pass of a run, or null. */
export async function loadFeatures(runId: string): Promise<StoredFeatures | null> {
  return (await get<StoredFeatures>(`run/${runId}`, store())) ?? null;
}

/** Store (replace) a run's pass. */
export async function saveFeatures(f: StoredFeatures): Promise<void> {
  await set(`run/${f.runId}`, f, store());
}

/** Delete a run's pass (no-op when absent, or without IndexedDB). */
export async function deleteFeatures(runId: string): Promise<void> {
  if (typeof indexedDB === 'undefined') return;
  await del(`run/${runId}`, store());
}
