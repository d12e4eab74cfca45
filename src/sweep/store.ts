/**
 * Stored sweeps (IndexedDB `sae-lab-sweeps`, idb-keyval): each sweep's spec (grid, members with their run ids,
 * groups), its status and its stage times. The runs themselves live in the run library and the checkpoint store
 * like any run; a sweep only lists them. An unfinished sweep (running or paused) is what a reload offers to resume.
 */
import { createStore, del, get, set, type UseStore, values } from 'idb-keyval';
import type { DatasetRef } from '../runs/dataset-ref';
import type { SweepSpec, SweepStages } from './runner';

/** Status of a stored sweep. */
export type SweepStatus = 'running' | 'paused' | 'done' | 'stopped' | 'error';

/** A stored sweep. Plain data. */
export interface SweepRecord extends SweepSpec {
  status: SweepStatus;
  /** The memory plan's line (groups, bytes). */
  planMessage: string;
  /** The dataset's portable reference (share link), null without a fingerprint. */
  dataset: DatasetRef | null;
  /** Stage times of the last session (null before the first ends). */
  stages: SweepStages | null;
  /** Last error message, if the sweep failed. */
  error?: string;
}

let store: UseStore | null = null;
function db(): UseStore {
  if (typeof indexedDB === 'undefined')
    throw new Error('Sweeps need IndexedDB, which this context does not provide.');
  store ??= createStore('sae-lab-sweeps', 'sweeps');
  return store;
}

/** Write (replace) a sweep. */
export async function saveSweep(r: SweepRecord): Promise<void> {
  await set(r.id, r, db());
}

/** A sweep by id, or null. */
export async function loadSweep(id: string): Promise<SweepRecord | null> {
  return ((await get<SweepRecord>(id, db())) as SweepRecord | undefined) ?? null;
}

/** Every stored sweep, newest first. */
export async function listSweeps(): Promise<SweepRecord[]> {
  return ((await values<SweepRecord>(db())) as SweepRecord[]).sort((a, b) => b.createdAt - a.createdAt);
}

/** Delete a sweep's record (its runs stay in the library). */
export async function deleteSweep(id: string): Promise<void> {
  await del(id, db());
}

/** True when a reload should offer to resume this sweep. */
export function isUnfinished(r: SweepRecord): boolean {
  return r.status === 'running' || r.status === 'paused';
}

/** True for the run id of a sweep member (`<sweep id>-<index>`, sweep ids start with "sweep-"): such runs are
 * resumed with their sweep, not one by one. */
export function isSweepRunId(runId: string): boolean {
  return runId.startsWith('sweep-');
}
