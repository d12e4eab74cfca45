/**
 * Wires patched-CE evaluation (src/lm/behaviour.ts) into a run's event stream in the lab worker: after each
 * held-out 'eval' event a live point on a few held-out documents, after the 'summary' the final one on all of them.
 * Evaluations run one at a time; an eval that arrives while one is running is skipped (the curve is thinned, the
 * run never waits). The model runs in a Worker of its own (src/worker/behaviour-worker.ts), so training, checkpoints
 * and the run library's writes never wait for it. Only for datasets whose provenance names a model the lab has.
 */
import * as Comlink from 'comlink';
import type { DatasetManifest } from '../data/types';
import { LIVE_DOCUMENTS } from '../lm/behaviour';
import { datasetProvenance } from '../lm/provenance';
import type { SaeParams } from '../sae/types';
import type { RunInfo } from '../train/trainer';
import type { LabEvent, LabEventListener } from './api';
import type { BehaviourWorkerApi } from './behaviour-worker';

/** The run's evaluator: a Worker of its own (src/worker/behaviour-worker.ts), so training never waits for it. */
function startEvaluator(): { api: Comlink.Remote<BehaviourWorkerApi>; terminate: () => void } {
  const w = new Worker(new URL('./behaviour-worker.ts', import.meta.url), {
    type: 'module',
    name: 'sae-lab-behaviour',
  });
  return { api: Comlink.wrap<BehaviourWorkerApi>(w), terminate: () => w.terminate() };
}

/**
 * Wrap `listener` so that behaviour points follow the run's evals and summary.
 * @param params reads the SAE's current parameters (training space) from the active trainer
 */
export function withBehaviour(
  listener: LabEventListener,
  manifest: DatasetManifest,
  params: () => Promise<SaeParams>,
): LabEventListener {
  const prov = datasetProvenance(manifest);
  if (!prov) return listener;
  let run: RunInfo | null = null;
  let worker: ReturnType<typeof startEvaluator> | null = null;
  let opened: Promise<{ hook: string; model: string } | null> | null = null;
  let busy = false;
  const fail = (e: unknown) => listener({ type: 'behaviour-error', message: (e as Error).message });
  const go = async (step: number, final: boolean) => {
    if (!run) return;
    const r = run;
    worker ??= startEvaluator();
    opened ??= worker.api.open(prov, r.trainRows, manifest.nTokens);
    const info = await opened;
    if (!info) return;
    const p = await params();
    const metrics = await worker.api.evaluate(p, r.shape, r.scale, final ? undefined : LIVE_DOCUMENTS);
    listener({
      type: 'behaviour',
      point: { runId: r.runId, step, final, hook: info.hook, model: info.model, metrics },
    });
  };
  const close = () => {
    worker?.terminate();
    worker = null;
    opened = null;
  };
  return (e: LabEvent) => {
    listener(e);
    if (e.type === 'started') run = e.run;
    if (e.type === 'eval' && !busy) {
      busy = true;
      go(e.point.step, false)
        .catch(fail)
        .finally(() => {
          busy = false;
        });
    }
    if (e.type === 'summary') go(e.summary.steps, true).catch(fail).finally(close);
    if (e.type === 'error') close();
  };
}
