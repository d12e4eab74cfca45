/**
 * Page-side (or worker-side) handle on the import worker: inspect dropped files, run an import with progress
 * and cancel, and make sure the built-in demo dataset is stored.
 */
import * as Comlink from 'comlink';
import { appFileUrl } from '../lm/app-files';
import type { HarvestProgress } from '../lm/harvest-store';
import { DEMO_PROVENANCE } from '../lm/provenance';
import { errorText } from '../util/error-text';
import { DEMO } from './demo';
import { ImportCancelled, isQuotaImportError } from './errors';
import type { HarvestInput, ImportInput, ImportWorkerApi, InspectResult } from './import-api';
import type { ImportProgress, ImportTarget } from './importer';
import { datasetStore } from './store';
import type { DatasetManifest } from './types';

let remote: Comlink.Remote<ImportWorkerApi> | null = null;

/** The import worker of this context, started on first use. */
export function importWorker(): Comlink.Remote<ImportWorkerApi> {
  if (!remote) {
    const w = new Worker(new URL('./import-worker.ts', import.meta.url), {
      type: 'module',
      name: 'sae-lab-import',
    });
    remote = Comlink.wrap<ImportWorkerApi>(w);
  }
  return remote;
}

/** Read the headers of dropped files in the import worker. Never throws; errors are per file. */
export function inspectFiles(files: File[]): Promise<InspectResult[]> {
  return importWorker().inspect(files);
}

let persistAsked = false;
/** Ask once per page for persistent storage (the browser may say no; imports work either way). */
function askPersistence(): void {
  if (persistAsked) return;
  persistAsked = true;
  const s = (globalThis.navigator as Navigator | undefined)?.storage;
  if (s && typeof s.persist === 'function') s.persist().catch(() => {});
}

/** A running import. */
export interface ImportJob {
  /** Resolves with the committed manifest; rejects with an ImportError or an AbortError (see isCancelled). */
  done: Promise<DatasetManifest>;
  /** Stop the import; nothing it wrote stays stored. */
  cancel(): void;
}

/** The user's answer to an import paused over the storage quota. */
export type QuotaDecision = 'resume' | 'cancel';

/**
 * Shows an import paused over the storage quota (`message`: bytes needed, used, allowed and what to delete) and
 * resolves with the user's answer.
 */
export type OnImportQuota = (message: string) => Promise<QuotaDecision>;

/**
 * Run an import that pauses over the storage quota instead of failing. When the import stops over quota, the importer
 * has already deleted what it wrote (the store is exactly as before); `onQuota` shows the message and waits:
 * 'resume' starts the same import again from the beginning (same inputs, so dropped File handles are kept), as often
 * as it stops over quota; 'cancel' ends it.
 * @param start starts one attempt (e.g. `() => startImport(inputs, target, onProgress)`)
 * @param onQuota without it, an over-quota import fails like any other
 * @returns the committed manifest
 * @throws the import's other errors unchanged; ImportCancelled (name "AbortError") after 'cancel'.
 */
export async function importPausingOverQuota(
  start: () => ImportJob,
  onQuota?: OnImportQuota,
): Promise<DatasetManifest> {
  for (;;) {
    try {
      return await start().done;
    } catch (e) {
      if (!onQuota || !isQuotaImportError(e)) throw e;
      if ((await onQuota(errorText(e))) === 'cancel') throw new ImportCancelled();
    }
  }
}

let jobCounter = 0;
/**
 * Start importing `inputs` into `target` in the import worker.
 * @param onProgress called at most every 100 ms with bytes, rows, rate and ETA.
 */
export function startImport(
  inputs: ImportInput[],
  target: ImportTarget,
  onProgress?: (p: ImportProgress) => void,
  options?: { fingerprint?: boolean },
): ImportJob {
  askPersistence();
  const jobId = `job-${Date.now()}-${++jobCounter}`;
  const w = importWorker();
  const done = w.import(jobId, inputs, target, onProgress ? Comlink.proxy(onProgress) : undefined, options);
  return { done, cancel: () => void w.cancel(jobId) };
}

/** Absolute URL of the demo .npy served from public/demo/. */
export function demoUrl(): string {
  return appFileUrl(`demo/${DEMO.file}`);
}

/** Start importing the built-in demo dataset (overwrites nothing: it gets its own fixed id). */
export function startDemoImport(onProgress?: (p: ImportProgress) => void): ImportJob {
  return startImport(
    [{ kind: 'url', url: demoUrl(), name: DEMO.file }],
    { kind: 'new', id: DEMO.id, name: DEMO.name, builtin: true, lm: DEMO_PROVENANCE },
    onProgress,
  );
}

let demoPromise: Promise<DatasetManifest> | null = null;
/**
 * The built-in demo dataset (stories260K layer-2 residual stream, [81790, 64]); imported from public/demo/
 * through the same streaming pipeline (fetch → stream → shards) the first time, then read from IndexedDB.
 * Concurrent calls (in this context, or in other tabs via a Web Lock) share one import. With `onQuota`, an import
 * over the storage quota pauses and asks (see {@link importPausingOverQuota}).
 * @throws ImportError when the download or import fails, ImportCancelled when the user cancels a paused import (the
 *   store is then unchanged).
 */
export function ensureDemoDataset(
  onProgress?: (p: ImportProgress) => void,
  onQuota?: OnImportQuota,
): Promise<DatasetManifest> {
  demoPromise ??= (async () => {
    const store = datasetStore();
    const have = await store.get(DEMO.id);
    if (have) return have;
    const run = async () =>
      (await store.get(DEMO.id)) ?? importPausingOverQuota(() => startDemoImport(onProgress), onQuota);
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    return locks ? locks.request('sae-lab-demo-import', run) : run();
  })().finally(() => {
    demoPromise = null;
  });
  return demoPromise;
}

/** Start harvesting activations from text into a new dataset (src/lm/harvest-store.ts, in the import worker). */
export function startHarvest(
  input: HarvestInput,
  onProgress?: (p: HarvestProgress) => void,
): { done: Promise<DatasetManifest>; cancel: () => void } {
  const jobId = `harvest-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const w = importWorker();
  const done = w.harvest(jobId, input, onProgress ? Comlink.proxy(onProgress) : undefined);
  return { done, cancel: () => void w.cancel(jobId) };
}
