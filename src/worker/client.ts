/** UI-side handle on the lab worker (one per page). */
import * as Comlink from 'comlink';
import type { LabApi } from './api';

let remote: Comlink.Remote<LabApi> | null = null;

/** The lab worker's API, started on first use. */
export function labWorker(): Comlink.Remote<LabApi> {
  if (!remote) {
    const w = new Worker(new URL('./lab-worker.ts', import.meta.url), {
      type: 'module',
      name: 'sae-lab-worker',
    });
    remote = Comlink.wrap<LabApi>(w);
  }
  return remote;
}
