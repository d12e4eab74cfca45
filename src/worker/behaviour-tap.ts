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

/** A run's handle on a language-model evaluator: its Worker's API, opened once; `close` when the run is done. */
export interface Evaluator {
  open: BehaviourWorkerApi['open'];
  evaluate: BehaviourWorkerApi['evaluate'];
  close(): void;
}

/** The run's own evaluator (a Worker of its own, terminated on close). */
function ownEvaluator(): Evaluator {
  const w = startEvaluator();
  let opened: Promise<{ hook: string; model: string } | null> | null = null;
  return {
    open: (...args) => {
      opened ??= w.api.open(...args);
      return opened;
    },
    evaluate: (...args) => w.api.evaluate(...args),
    close: () => w.terminate(),
  };
}

/**
 * ONE language-model Worker for several runs of one dataset split (a sweep's members): opened once, evaluations
 * one at a time in call order, terminated when the last holder lets go. {@link hold} / {@link release} keep it
 * alive between runs (the sweep holds it while it lives); {@link lease} gives one run its handle.
 */
export class SharedEvaluator {
  private worker: ReturnType<typeof startEvaluator> | null = null;
  private opened: Promise<{ hook: string; model: string } | null> | null = null;
  private holders = 0;
  private queue: Promise<unknown> = Promise.resolve();

  /** Keep the Worker alive until the matching {@link release}. */
  hold(): void {
    this.holders++;
  }

  /** Let go; the last release terminates the Worker. */
  release(): void {
    this.holders = Math.max(0, this.holders - 1);
    if (this.holders > 0) return;
    this.worker?.terminate();
    this.worker = null;
    this.opened = null;
  }

  /** One run's handle: holds the Worker until its close (once). */
  lease(): Evaluator {
    this.hold();
    let closed = false;
    return {
      open: (...args) => {
        this.worker ??= startEvaluator();
        this.opened ??= this.worker.api.open(...args);
        return this.opened;
      },
      evaluate: (...args) => {
        const w = this.worker;
        if (!w) return Promise.reject(new Error('the shared patched-CE evaluator was not opened'));
        const p = this.queue.then(() => w.api.evaluate(...args));
        this.queue = p.catch(() => undefined);
        return p;
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.release();
      },
    };
  }
}

/**
 * Wrap `listener` so that behaviour points follow the run's evals and summary.
 * @param params reads the SAE's current parameters (training space) from the active trainer
 * @param evaluators the run's evaluator, made at its first evaluation (default: a Worker of its own; a sweep passes
 *   its {@link SharedEvaluator}'s lease so its members share one)
 */
export function withBehaviour(
  listener: LabEventListener,
  manifest: DatasetManifest,
  params: () => Promise<SaeParams>,
  evaluators: () => Evaluator = ownEvaluator,
): LabEventListener {
  const prov = datasetProvenance(manifest);
  if (!prov) return listener;
  let run: RunInfo | null = null;
  let worker: Evaluator | null = null;
  let busy = false;
  const fail = (e: unknown) => listener({ type: 'behaviour-error', message: (e as Error).message });
  const go = async (step: number, final: boolean) => {
    if (!run) return;
    const r = run;
    worker ??= evaluators();
    const info = await worker.open(prov, r.trainRows, manifest.nTokens);
    if (!info) return;
    const p = await params();
    const metrics = await worker.evaluate(p, r.shape, r.scale, final ? undefined : LIVE_DOCUMENTS);
    listener({
      type: 'behaviour',
      point: { runId: r.runId, step, final, hook: info.hook, model: info.model, metrics },
    });
  };
  const close = () => {
    worker?.close();
    worker = null;
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
