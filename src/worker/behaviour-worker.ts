/**
 * The patched-CE evaluator of one run in its own Worker (started by src/worker/behaviour-tap.ts from the lab
 * worker), so that the language model's CPU forward passes never block training, checkpoints or the run library's
 * writes. Comlink API {@link BehaviourWorkerApi}: `open` loads the built-in model and the held-out documents once,
 * `evaluate` scores the SAE it is given (src/lm/behaviour.ts).
 */
import * as Comlink from 'comlink';
import { datasetStore } from '../data/store';
import { BehaviourEval } from '../lm/behaviour';
import type { HarvestTokens } from '../lm/harvest-store';
import type { LmProvenance } from '../lm/provenance';
import type { PatchedCeMetrics } from '../sae/metrics';
import type { SaeParams, SaeShape } from '../sae/types';
import { fetchBytes } from './fetch-bytes';

let evaluator: Promise<BehaviourEval | null> | null = null;

const api = {
  /**
   * Load the model and the run's held-out documents. @returns the hook and model name, or null when the dataset has
   * no held-out document or names a model the lab does not have.
   */
  async open(
    prov: LmProvenance,
    trainRows: number,
    nTokens: number,
  ): Promise<{ hook: string; model: string } | null> {
    evaluator = BehaviourEval.open(prov, trainRows, nTokens, fetchBytes, (key) =>
      datasetStore()
        .getValue<HarvestTokens>(key)
        .then((v) => v?.tokens),
    );
    const ev = await evaluator;
    return ev ? { hook: ev.hook, model: ev.model.name } : null;
  },
  /** Patched CE of the SAE (training-space params, scale) on the first `limit` held-out documents (all if undefined). */
  async evaluate(
    params: SaeParams,
    shape: SaeShape,
    scale: number,
    limit?: number,
  ): Promise<PatchedCeMetrics> {
    const ev = await evaluator;
    if (!ev) throw new Error('the patched-CE evaluator was not opened');
    return ev.evaluate(params, shape, scale, limit);
  },
};

/** What the lab worker calls. */
export type BehaviourWorkerApi = typeof api;

Comlink.expose(api);
