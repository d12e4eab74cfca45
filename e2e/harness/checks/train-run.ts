/**
 * train-run: the real trainer (src/train/trainer.ts) with GpuSaeEngine on real activations, inside the harness
 * (the lab worker's code path minus the UI): a whole run of a config, then its held-out summary. Used by the
 * architecture training tests (e2e/arch-train.spec.ts), which assert on the numbers.
 *
 * Params: url (a 2-D '<f4' .npy of activations), config (JSON of a partial TrainConfig), encoderSpread
 * (optional: multiply W_enc column s by exp(−spread·|n_s|), n_s ~ N(0, 1) seeded — a deliberately bad init
 * scale: most encoder columns shrink, and latents whose column shrinks most never win a TopK, so they are dead). The one report's summary is `train-run <JSON>` with the held-out metrics, the
 * per-step training L0 and losses, the dead counts and the wall time; its `ok` says the run finished.
 */
import type { Gpu } from '../../../src/gpu/device';
import { GpuSaeEngine } from '../../../src/gpu/sae-engine';
import type { EvalMetrics } from '../../../src/sae/metrics';
import type { SaeParams } from '../../../src/sae/types';
import { MemoryCheckpointStore } from '../../../src/train/checkpoint';
import { DEFAULT_CONFIG, type TrainConfig } from '../../../src/train/config';
import { memorySource } from '../../../src/train/testing/memory-source';
import { type TrainEvent, Trainer } from '../../../src/train/trainer';
import { Rng } from '../../../src/util/rng';
import { parseNpyF32 } from '../npy';
import { type Check, num } from './types';
import { conditionReport } from './util';

/** Fetched activations, cached per URL for the checks of one page. */
const cache = new Map<string, ReturnType<typeof parseNpyF32>>();

/** What {@link runTraining} reports about one run. */
export interface TrainRunResult {
  architecture: string;
  auxk: boolean;
  steps: number;
  wallS: number;
  heldOut: EvalMetrics;
  sampleTokens: number;
  deadInWindow: number;
  deadInSample: number;
  dSae: number;
  meanThreshold: number | null;
  trainL0: number[];
  trainMse: number[];
  auxkLoss: number[];
  sparsityLoss: number[];
}

/** Fetch and parse a 2-D '<f4' .npy once per URL. @throws Error naming the URL on a failed fetch. */
export async function loadActivations(url: string): Promise<ReturnType<typeof parseNpyF32>> {
  let npy = cache.get(url);
  if (!npy) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`train-run: fetching ${url} failed with HTTP ${res.status}`);
    npy = parseNpyF32(await res.arrayBuffer(), url);
    cache.set(url, npy);
  }
  return npy;
}

/**
 * One whole run of the real trainer with GpuSaeEngine on in-memory activations (see the module comment for
 * encoderSpread). @throws Error when the run fails.
 */
export async function runTraining(
  gpu: Gpu,
  npy: ReturnType<typeof parseNpyF32>,
  partial: Partial<TrainConfig>,
  spread = 0,
): Promise<TrainRunResult> {
  const config: TrainConfig = { ...DEFAULT_CONFIG, ...partial };
  const source = memorySource(npy.data, npy.cols, { shardRows: 8192, id: 'demo', name: 'stories260K demo' });
  const events: TrainEvent[] = [];
  const t0 = performance.now();
  const trainer = await Trainer.start(config, source, {
    createEngine: async (shape, init: SaeParams) => {
      if (spread > 0) {
        const rng = new Rng(config.seed + 1);
        for (let s = 0; s < shape.dSae; s++) {
          const f = Math.exp(-spread * Math.abs(rng.normal()));
          for (let d = 0; d < shape.dModel; d++) init.wEnc[d * shape.dSae + s] *= f;
        }
      }
      return GpuSaeEngine.create(gpu, shape, init);
    },
    checkpoints: new MemoryCheckpointStore(),
    onEvent: (e) => events.push(e),
    adapter: gpu.adapter.description ?? '',
    readbackIntervalMs: 0,
  });
  const summary = await trainer.run();
  const error = events.find((e) => e.type === 'error');
  if (!summary)
    throw new Error(`train-run: the run failed: ${error?.type === 'error' ? error.message : '?'}`);
  const points = events.flatMap((e) => (e.type === 'metrics' ? [e.point] : []));
  return {
    architecture: config.architecture,
    auxk: config.auxk,
    steps: summary.steps,
    wallS: (performance.now() - t0) / 1000,
    heldOut: summary.heldOut,
    sampleTokens: summary.sampleTokens,
    deadInWindow: summary.deadInWindow,
    deadInSample: summary.deadInSample,
    dSae: summary.dSae,
    meanThreshold: summary.meanThreshold,
    trainL0: points.map((q) => q.l0),
    trainMse: points.map((q) => q.mse),
    auxkLoss: points.map((q) => q.auxkLoss),
    sparsityLoss: points.map((q) => q.sparsityLoss),
  };
}

export const trainRunCheck: Check = async (gpu, p) => {
  const url = p['url'];
  if (typeof url !== 'string')
    throw new Error('train-run: parameter "url" (the .npy activations) is required');
  const npy = await loadActivations(url);
  const partial: Partial<TrainConfig> = JSON.parse(String(p['config'] ?? '{}'));
  const result = await runTraining(gpu, npy, partial, num(p, 'encoderSpread', 0));
  const steps = partial.steps ?? DEFAULT_CONFIG.steps;
  return [conditionReport(`train-run ${JSON.stringify(result)}`, result.steps === steps, 'run finished')];
};
