/** Page-side handle on the feature dashboard's worker (src/worker/features-worker.ts), one per page. */
import * as Comlink from 'comlink';
import type { FeaturesWorkerApi } from './features-worker';

let remote: Comlink.Remote<FeaturesWorkerApi> | null = null;

/** The features worker's API, started on first use. */
export function featuresWorker(): Comlink.Remote<FeaturesWorkerApi> {
  if (!remote) {
    const w = new Worker(new URL('./features-worker.ts', import.meta.url), {
      type: 'module',
      name: 'sae-lab-features',
    });
    remote = Comlink.wrap<FeaturesWorkerApi>(w);
  }
  return remote;
}
