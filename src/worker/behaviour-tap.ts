/**
 * Wires patched-CE evaluation (src/lm/behaviour.ts) into a run's event stream in the lab worker: after each
 * held-out 'eval' event a live point on a few held-out documents, after the 'summary' the final one on all of them.
 * Evaluations run one at a time; an eval that arrives while one is running is skipped (the curve is thinned, the
 * run never waits). Only for datasets whose provenance names a model the lab has.
 */
import { datasetStore } from '../data/store';
import type { DatasetManifest } from '../data/types';
import { BehaviourEval, LIVE_DOCUMENTS } from '../lm/behaviour';
import type { HarvestTokens } from '../lm/harvest-store';
import { datasetProvenance } from '../lm/provenance';
import type { SaeParams } from '../sae/types';
import type { RunInfo } from '../train/trainer';
import type { LabEvent, LabEventListener } from './api';

/** Bytes of a file under the app's base URL. */
async function fetchBytes(path: string): Promise<Uint8Array> {
  const base = import.meta.env.BASE_URL ?? '/';
  const url = new URL(`${base}${path}`, globalThis.location.href).href;
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
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
  let evaluator: Promise<BehaviourEval | null> | null = null;
  let busy = false;
  const fail = (e: unknown) => listener({ type: 'behaviour-error', message: (e as Error).message });
  const go = async (step: number, final: boolean) => {
    if (!run) return;
    const r = run;
    evaluator ??= BehaviourEval.open(prov, r.trainRows, manifest.nTokens, fetchBytes, (key) =>
      datasetStore()
        .getValue<HarvestTokens>(key)
        .then((v) => v?.tokens),
    );
    const ev = await evaluator;
    if (!ev) return;
    const p = await params();
    const metrics = ev.evaluate(p, r.shape, r.scale, final ? undefined : LIVE_DOCUMENTS);
    listener({
      type: 'behaviour',
      point: { runId: r.runId, step, final, hook: ev.hook, model: ev.model.name, metrics },
    });
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
    if (e.type === 'summary') go(e.summary.steps, true).catch(fail);
  };
}
