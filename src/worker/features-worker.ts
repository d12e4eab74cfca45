/**
 * The feature dashboard's worker (src/features/): opens a run's SAE and dataset, runs the feature pass, stores it
 * with the run, and answers per-latent questions. A Worker of its own, so the lab worker's training never waits for
 * it (and it never waits for training). Comlink API {@link FeaturesWorkerApi}; the page calls it through
 * src/worker/features-client.ts.
 */
import * as Comlink from 'comlink';
import { datasetStore, openDataset } from '../data/store';
import { featurePassGpu } from '../features/gpu-pass';
import { type FeatureStats, featurePassCpu, PassCancelled, type PassOptions } from '../features/pass';
import { type FeatureDetail, FeatureSession, type TryTextResult } from '../features/session';
import { featuresBytes, loadFeatures, type StoredFeatures, saveFeatures } from '../features/store';
import { Gpu } from '../gpu/device';
import { fetchAppBytes } from '../lm/app-files';
import type { HarvestTokens } from '../lm/harvest-store';
import { RunLibrary } from '../runs/library';
import { IdbCheckpointStore } from '../train/checkpoint';

const checkpoints = new IdbCheckpointStore();
let session: Promise<FeatureSession> | null = null;
let sessionRun: string | null = null;
let cancelRequested = false;
let gpuPromise: Promise<Gpu> | null = null;
/** This worker's Gpu (its own device), created on first GPU pass. */
function gpu(): Promise<Gpu> {
  gpuPromise ??= Gpu.create();
  gpuPromise.catch(() => {
    gpuPromise = null;
  });
  return gpuPromise;
}

function open(runId: string): Promise<FeatureSession> {
  if (session && sessionRun === runId) return session;
  sessionRun = runId;
  session = FeatureSession.open(runId, {
    checkpoints,
    openDataset,
    fetchBytes: fetchAppBytes,
    readTokens: (key) =>
      datasetStore()
        .getValue<HarvestTokens>(key)
        .then((v) => v?.tokens),
    readTokenizer: (key) =>
      datasetStore()
        .getValue<{ bytes: Uint8Array }>(key)
        .then((v) => v?.bytes),
  });
  session.catch(() => {
    session = null;
    sessionRun = null;
  });
  return session;
}

/** What the page learns on opening a run's dashboard. */
export interface OpenedFeatures {
  runId: string;
  dSae: number;
  nTokens: number;
  datasetName: string;
  /** Text of each token id ([] without a tokenizer). */
  vocab: string[];
  /** The dataset carries token ids; its model is one the lab has (logit effects, "try a text"). */
  hasTokens: boolean;
  hasModel: boolean;
  /** The stored pass, or null before the first one. */
  stored: StoredFeatures | null;
}

/** Progress of a pass as the page sees it: fraction done in [0, 1] and a line of text. */
export type FeaturesProgress = (p: { fraction: number; text: string }) => void;

const api = {
  /** Open run `runId` (weights + dataset + tokenizer). @throws Error when its weights or dataset are missing. */
  async open(runId: string): Promise<OpenedFeatures> {
    const s = await open(runId);
    const stored = await loadFeatures(runId);
    return {
      runId,
      dSae: s.sae.dSae,
      nTokens: s.source.manifest.nTokens,
      datasetName: s.source.manifest.name,
      vocab: s.vocab(),
      hasTokens: s.tokens !== null,
      hasModel: s.model !== null,
      stored,
    };
  },

  /**
   * Run the feature pass of run `runId` over the first `maxTokens` rows (all when undefined) on the engine the lab
   * chose ('gpu': src/features/gpu-pass.ts; 'cpu': featurePassCpu), store it with the run and return it.
   * @throws Error "…cancelled" after {@link cancel}; GPU errors when the GPU path fails.
   */
  async compute(
    runId: string,
    maxTokens: number | undefined,
    engine: 'gpu' | 'cpu',
    onProgress: FeaturesProgress,
  ): Promise<StoredFeatures> {
    const s = await open(runId);
    cancelRequested = false;
    const t0 = performance.now();
    const rows = s.rowReader();
    let stats: FeatureStats;
    try {
      const reader = {
        nTokens: rows.nTokens,
        // A macrotask between blocks lets cancel() arrive.
        read: async (a: number, n: number) => {
          await new Promise((r) => setTimeout(r, 0));
          return rows.read(a, n);
        },
      };
      const opts: PassOptions = {
        maxTokens,
        progress: (p) =>
          onProgress({
            fraction: (p.pass - 1) / 2 + p.rows / p.total / 2,
            text: `pass ${p.pass} of 2 (${engine.toUpperCase()}): ${p.rows.toLocaleString('en-US')} of ${p.total.toLocaleString('en-US')} tokens`,
          }),
        cancelled: () => cancelRequested,
      };
      stats =
        engine === 'gpu'
          ? await featurePassGpu(await gpu(), s.sae, reader, opts)
          : await featurePassCpu(s.sae, reader, opts);
    } catch (e) {
      if (e instanceof PassCancelled) throw new Error(e.message);
      throw e;
    }
    const rec: Omit<StoredFeatures, 'bytes'> = {
      runId,
      datasetId: s.datasetId,
      engine,
      ms: performance.now() - t0,
      createdAt: Date.now(),
      stats,
      topTokenIds: s.topTokenIds(stats),
    };
    const out: StoredFeatures = { ...rec, bytes: featuresBytes(rec) };
    await saveFeatures(out);
    // The run library shows the stored pass's size with the run.
    const lib = new RunLibrary(checkpoints);
    const meta = await lib.meta(runId);
    if (meta) await lib.put({ ...meta, featuresBytes: out.bytes });
    return out;
  },

  /** Ask the running pass to stop after its current block. */
  async cancel(): Promise<void> {
    cancelRequested = true;
  },

  /** One latent's contexts, neighbours and logit effects. @throws Error before a pass is stored. */
  async detail(runId: string, latent: number): Promise<FeatureDetail> {
    const s = await open(runId);
    const stored = await loadFeatures(runId);
    if (!stored) throw new Error(`run "${runId}" has no feature pass yet`);
    return s.detail(stored.stats, latent);
  },

  /** "Try a text" on run `runId`'s SAE. @throws Error without the dataset's model. */
  async tryText(runId: string, text: string): Promise<TryTextResult> {
    return (await open(runId)).tryText(text);
  },
};

/** What the page calls. */
export type FeaturesWorkerApi = typeof api;

Comlink.expose(api);
