/** UI-side handle on the lab worker (one per page). */
import * as Comlink from 'comlink';
import type { LabApi } from './api';

let remote: Comlink.Remote<LabApi> | null = null;
let worker: Worker | null = null;
const failureListeners = new Set<(reason: string) => void>();

function fail(reason: string): void {
  for (const cb of failureListeners) cb(reason);
}

/** The lab worker's API, started on first use (and started afresh after a crash). */
export function labWorker(): Comlink.Remote<LabApi> {
  if (!remote) {
    const w = new Worker(new URL('./lab-worker.ts', import.meta.url), {
      type: 'module',
      name: 'sae-lab-worker',
    });
    // A worker that fails to load or throws outside any call: the UI must hear of it.
    w.addEventListener('error', (e) => {
      fail(e.message ? `the lab worker failed: ${e.message}` : 'the lab worker failed (no message)');
    });
    w.addEventListener('messageerror', () => fail('the lab worker sent a message that could not be read'));
    worker = w;
    remote = Comlink.wrap<LabApi>(w);
  }
  return remote;
}

/** Call `cb` with a reason when the lab worker crashes or is terminated. @returns unsubscribe. */
export function onLabWorkerFailure(cb: (reason: string) => void): () => void {
  failureListeners.add(cb);
  return () => failureListeners.delete(cb);
}

/**
 * Test hook: terminate the lab worker as a crash would (its run stops mid-step, its GPU device goes away); the next
 * {@link labWorker} call starts a fresh one.
 */
export function terminateLabWorkerForTest(): void {
  if (!worker) return;
  worker.terminate();
  worker = null;
  remote = null;
  fail('the lab worker stopped (terminated)');
}
