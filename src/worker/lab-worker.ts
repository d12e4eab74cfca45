/**
 * The lab's compute worker: owns the GPUDevice, the training engine and every training buffer; the UI talks to
 * it only through {@link LabApi}. One run at a time.
 *
 * Training runs on the GPU (GpuSaeEngine); datasets are read from IndexedDB (src/data/store.ts); checkpoints go
 * to their own IndexedDB database (src/train/checkpoint.ts).
 */
import * as Comlink from 'comlink';
import { openDataset } from '../data/store';
import { exportSaeLens } from '../export/saelens';
import { describeAdapter, Gpu } from '../gpu/device';
import { GpuSaeEngine } from '../gpu/sae-engine';
import { runSelfCheck } from '../gpu/selfcheck';
import { featureRecovery } from '../sae/metrics';
import type { SaeParams, SaeShape } from '../sae/types';
import { IdbCheckpointStore } from '../train/checkpoint';
import { DEFAULT_CONFIG, engineShape, type TrainConfig } from '../train/config';
import { Trainer, type TrainerDeps } from '../train/trainer';
import type { ExportedSae, GpuStatus, LabApi, LabEventListener } from './api';

let gpuPromise: Promise<Gpu> | null = null;
/** The worker's Gpu, created on first use and re-created after a device loss. */
function gpu(): Promise<Gpu> {
  gpuPromise ??= Gpu.create().then((g) => {
    g.onLost((info) => {
      gpuPromise = null;
      active?.listener({
        type: 'device-lost',
        reason: `${info.reason}: ${info.message}`,
        runId: active.trainer.info.runId,
      });
    });
    return g;
  });
  gpuPromise.catch(() => {
    gpuPromise = null;
  });
  return gpuPromise;
}

const checkpoints = new IdbCheckpointStore();

/** The current (or last finished) run of this worker. */
let active: { trainer: Trainer; listener: LabEventListener; done: Promise<unknown> } | null = null;

function isBusy(): boolean {
  const s = active?.trainer.currentStatus;
  return s === 'running' || s === 'paused';
}

async function deps(listener: LabEventListener): Promise<TrainerDeps> {
  const g = await gpu();
  return {
    createEngine: (shape: SaeShape, init: SaeParams) => GpuSaeEngine.create(g, shape, init),
    checkpoints,
    onEvent: (e) => listener(e),
    adapter: describeAdapter(g.adapter),
  };
}

function launch(trainer: Trainer, listener: LabEventListener): void {
  active?.trainer.dispose();
  const done = trainer.run();
  active = { trainer, listener, done };
}

function baseName(runId: string, dSae: number, k: number): string {
  return `sae-${runId}-topk-${dSae}-k${k}`;
}

const api: LabApi = {
  async gpuStatus(): Promise<GpuStatus> {
    try {
      return { ok: true, adapter: (await gpu()).adapter };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  },

  async selfCheck() {
    return runSelfCheck(await gpu());
  },

  async start(config: TrainConfig, datasetId: string, onEvent: LabEventListener) {
    if (isBusy()) throw new Error('A run is already active: pause it and stop it before starting another.');
    const source = await openDataset(datasetId);
    const trainer = await Trainer.start(config, source, await deps(onEvent));
    launch(trainer, onEvent);
    return trainer.info;
  },

  async pause() {
    await active?.trainer.pause();
  },

  async resume() {
    active?.trainer.resume();
  },

  async stop() {
    if (!active) return;
    active.trainer.stop();
    await active.done;
  },

  listCheckpoints() {
    return checkpoints.list();
  },

  async resumeFromCheckpoint(runId: string, onEvent: LabEventListener) {
    if (isBusy()) throw new Error('A run is already active: stop it before resuming another.');
    const cp = await checkpoints.load(runId);
    if (!cp) throw new Error(`No checkpoint for run "${runId}".`);
    const source = await openDataset(cp.meta.datasetId);
    const trainer = await Trainer.resume(cp, source, await deps(onEvent));
    launch(trainer, onEvent);
    return trainer.info;
  },

  async deleteCheckpoint(runId: string) {
    await checkpoints.remove(runId);
  },

  async exportSae(runId: string): Promise<ExportedSae> {
    let params: SaeParams;
    let shape: SaeShape;
    let info: Parameters<typeof exportSaeLens>[2];
    let datasetId: string;
    if (active && active.trainer.info.runId === runId && active.trainer.currentStatus !== 'error') {
      const t = active.trainer;
      datasetId = t.info.datasetId;
      params = await t.params();
      shape = t.info.shape;
      info = {
        scale: t.info.scale,
        runId,
        datasetName: t.info.datasetName,
        steps: t.stepsDone,
        tokens: t.stepsDone * shape.batchSize,
        config: t.info.config,
      };
    } else {
      const cp = await checkpoints.load(runId);
      if (!cp) throw new Error(`No run or checkpoint "${runId}" to export.`);
      const m = cp.meta;
      datasetId = m.datasetId;
      params = cp.data.state.params;
      shape = engineShape({ ...DEFAULT_CONFIG, ...m.config }, m.dModel, m.dSae);
      info = {
        scale: m.scale,
        runId,
        datasetName: m.datasetName,
        steps: m.step,
        tokens: m.tokens,
        config: m.config,
      };
    }
    try {
      const source = await openDataset(datasetId);
      info.datasetMetadata = source.manifest.metadata;
    } catch {
      // The dataset's metadata only adds model / hook names; export without them.
    }
    const out = exportSaeLens(params, shape, info);
    const result: ExportedSae = {
      baseName: baseName(runId, shape.dSae, shape.k),
      cfgJson: out.cfgJson,
      safetensors: out.safetensors,
    };
    return Comlink.transfer(result, [out.safetensors.buffer]);
  },

  async featureRecovery(runId: string) {
    const t = active?.trainer;
    if (!t || t.info.runId !== runId) return null;
    const truth = (await openDataset(t.info.datasetId)).manifest.synthetic;
    if (!truth) return null;
    const r = featureRecovery(truth.features, (await t.params()).wDec, t.info.shape.dModel);
    return { ...r, runId, probabilities: truth.probabilities };
  },

  async loseDeviceForTest() {
    (await gpu()).destroy();
  },
};

Comlink.expose(api);
