/**
 * The lab's compute worker: owns the GPUDevice, the training engine and every training buffer; the UI talks to
 * it only through {@link LabApi}. One run at a time.
 *
 * Training runs on the GPU (GpuSaeEngine) on a hardware adapter, or on the fast CPU engine (WasmCpuSaeEngine) on a
 * software adapter or without WebGPU (src/cpu/engine-choice.ts; the user can override); datasets are read from IndexedDB (src/data/store.ts); checkpoints go
 * to their own IndexedDB database (src/train/checkpoint.ts).
 */
import * as Comlink from 'comlink';
import {
  chooseEngine,
  ENGINE_LABEL,
  type EngineChoice,
  type EngineOverride,
  PROBE_TIMEOUT_MS,
  probeAdapter,
} from '../cpu/engine-choice';
import { WasmCpuSaeEngine } from '../cpu/sae-engine';
import { holdForRun } from '../data/dataset-lock';
import { openDataset } from '../data/store';
import type { DatasetManifest } from '../data/types';
import { safeBaseName, zipFileName, zipSaeLens } from '../export/bundle';
import { exportSaeLens } from '../export/saelens';
import { describeAdapter, Gpu } from '../gpu/device';
import { autotuneEncoderTile } from '../gpu/kernels/encoder-tune';
import { GpuSaeEngine } from '../gpu/sae-engine';
import { runSelfCheck } from '../gpu/selfcheck';
import { deleteRunWeights } from '../runs/delete-run';
import { RunLibrary } from '../runs/library';
import { recorderFor } from '../runs/worker-recorder';
import { initSaeParams } from '../sae/init';
import { featureRecovery } from '../sae/metrics';
import type { SaeEngine, SaeParams, SaeShape } from '../sae/types';
import { evaluateImportedInLab, importedExportNames, importSaeInLab } from '../saes/lab';
import { limitsFor, type SweepApi, sweepApi, sweepBusy } from '../sweep/worker-sweep';
import { IdbCheckpointStore } from '../train/checkpoint';
import { DEFAULT_CONFIG, engineShape, resolveDSae, type TrainConfig } from '../train/config';
import { stepHyper } from '../train/schedule';
import { errorText, Trainer, type TrainerDeps } from '../train/trainer';
import { Rng } from '../util/rng';
import type { ExportedSae, FaultForTest, GpuStatus, LabApi, LabEventListener } from './api';
import { withBehaviour } from './behaviour-tap';

let gpuPromise: Promise<Gpu> | null = null;
/** The worker's Gpu, created on first use and re-created after a device loss. */
function gpu(): Promise<Gpu> {
  gpuPromise ??= Gpu.create().then((g) => {
    g.onLost((info) => {
      gpuPromise = null;
      // A run on the CPU engine does not use the device (the probe created it).
      if (!runUsesGpu) return;
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

let engineChoice: Promise<EngineChoice> | null = null;
/** Whether the current (or last) run trains on the GPU engine. */
let runUsesGpu = true;
/** Probe the adapter (≤ 1 s unless the GPU is forced) and decide the engine (src/cpu/engine-choice.ts). */
function decideEngine(override: EngineOverride): Promise<EngineChoice> {
  engineChoice = (async () => {
    const t0 = performance.now();
    const timeout = override === 'gpu' ? 60_000 : PROBE_TIMEOUT_MS;
    const probe = await probeAdapter(async () => (await gpu()).adapter, timeout);
    return chooseEngine(probe, override, performance.now() - t0);
  })();
  return engineChoice;
}

/** The current (or last finished) run of this worker. */
let active: { trainer: Trainer; listener: LabEventListener; done: Promise<unknown> } | null = null;

function runBusy(): boolean {
  const s = active?.trainer.currentStatus;
  return s === 'running' || s === 'paused';
}

/** A single run or a sweep (src/sweep/) is active. */
function isBusy(): boolean {
  return runBusy() || sweepBusy();
}

/** Test hook state: a fault to inject into the next run's engine (see {@link LabApi.injectFaultForTest}). */
let pendingFault: FaultForTest | null = null;

/**
 * The engine with the pending test fault, if any: before its `atStep`-th step (1-based, counted from the engine's
 * creation) the parameters are rewritten through getState/setState — W_enc[0] = NaN ('nan', a divergence the GPU's
 * non-finite flag must catch) or b_enc = −10⁴ ('collapse': no latent fires again, L0 = 0).
 */
function withFault(engine: SaeEngine): SaeEngine {
  const fault = pendingFault;
  pendingFault = null;
  if (!fault) return engine;
  let calls = 0;
  const step = engine.step.bind(engine);
  engine.step = async (x, hyper, readStats) => {
    calls++;
    if (calls === fault.atStep) {
      const st = await engine.getState();
      if (fault.kind === 'nan') st.params.wEnc[0] = Number.NaN;
      else st.params.bEnc.fill(-1e4);
      await engine.setState(st);
    }
    return step(x, hyper, readStats);
  };
  return engine;
}

async function deps(
  listener: LabEventListener,
  datasetId: string,
): Promise<TrainerDeps & { record: Awaited<ReturnType<typeof recorderFor>> }> {
  const choice = await (engineChoice ?? decideEngine('auto'));
  runUsesGpu = choice.engine === 'gpu';
  // Every run is recorded in the run library (src/runs/), next to its checkpoint.
  const record = await recorderFor(checkpoints, datasetId, listener);
  const onEvent: TrainerDeps['onEvent'] = (e) => {
    record(e);
    // The end of a run reaches the page only once the run library holds it: a reload right after "done" must
    // find the run done, with its summary (the events keep their order: the writes are one queue).
    const ends =
      e.type === 'summary' || (e.type === 'status' && (e.status === 'done' || e.status === 'stopped'));
    if (ends) void record.flushed().then(() => listener(e));
    else listener(e);
  };
  if (choice.engine === 'cpu') {
    return {
      createEngine: async (shape: SaeShape, init: SaeParams) =>
        withFault(await WasmCpuSaeEngine.create(shape, init)),
      checkpoints,
      onEvent,
      adapter: ENGINE_LABEL.cpu,
      record,
    };
  }
  if (!choice.available) throw new Error(`The GPU engine cannot run: ${choice.reason}`);
  const g = await gpu();
  return {
    createEngine: async (shape: SaeShape, init: SaeParams) => {
      // Start-up tile tune of the encoder on a hardware adapter, once per adapter and worker (cached in memory;
      // src/gpu/kernels/encoder-tune.ts). Software adapters keep the default tile (they train on the CPU engine
      // unless forced, and the tune's pipeline compiles take seconds there).
      if (!g.adapter.isFallbackAdapter) await autotuneEncoderTile(g).catch(() => undefined);
      return withFault(await GpuSaeEngine.create(g, shape, init));
    },
    checkpoints,
    onEvent,
    adapter: describeAdapter(g.adapter),
    record,
  };
}

/**
 * The run's patched-CE tap (src/worker/behaviour-tap.ts) with the run library in the loop: `tapped` goes to the
 * trainer's deps; `attach(deps)` hands the tap's final point to that run's recorder (the Runs table's CE column).
 */
function behaviourTap(
  onEvent: LabEventListener,
  manifest: DatasetManifest,
  params: () => Promise<SaeParams>,
): { tapped: LabEventListener; attach: <D extends Awaited<ReturnType<typeof deps>>>(d: D) => D } {
  let record: Awaited<ReturnType<typeof recorderFor>> | null = null;
  const toPage: LabEventListener = (e) => {
    if (e.type === 'behaviour') record?.onBehaviour(e.point);
    onEvent(e);
  };
  return {
    tapped: withBehaviour(toPage, manifest, params),
    attach: (d) => {
      record = d.record;
      return d;
    },
  };
}

async function launch(trainer: Trainer, listener: LabEventListener): Promise<void> {
  active?.trainer.dispose();
  let release: () => void = () => {};
  const ended = new Promise<void>((res) => {
    release = res;
  });
  const i = trainer.info;
  try {
    // The dataset stays locked while the run lives (src/data/dataset-lock.ts).
    await holdForRun(i.datasetId, i.datasetName, i.runId, ended);
  } catch (e) {
    trainer.dispose();
    release();
    throw e;
  }
  const done = trainer.run().finally(release);
  active = { trainer, listener, done };
}

/** The export's folder and file base: dataset, architecture, d_sae, k and the run id (so names never collide). */
function baseName(datasetName: string, architecture: string, runId: string, dSae: number, k: number): string {
  return safeBaseName(`${datasetName}-${architecture}-${dSae}-k${k}-${runId}`);
}

// Errors nobody caught inside the worker reach the run's listener (the status line), never only the console.
self.addEventListener('unhandledrejection', (e: PromiseRejectionEvent) => {
  active?.listener({
    type: 'error',
    message: `Unexpected error in the lab worker: ${errorText(e.reason)}`,
    step: active.trainer.stepsDone,
  });
});
self.addEventListener('error', (e: ErrorEvent) => {
  active?.listener({
    type: 'error',
    message: `Unexpected error in the lab worker: ${e.message || errorText(e.error)}`,
    step: active.trainer.stepsDone,
  });
});

const api: Omit<LabApi, keyof SweepApi> = {
  async gpuStatus(): Promise<GpuStatus> {
    try {
      return { ok: true, adapter: (await gpu()).adapter };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  },

  chooseEngine(override: EngineOverride) {
    if (isBusy()) throw new Error('Stop the active run before switching the engine.');
    return decideEngine(override);
  },

  async probeStepMs(config: TrainConfig, dModel: number) {
    if (isBusy()) throw new Error('A run is active: the probe waits for it to end.');
    const choice = await (engineChoice ?? decideEngine('auto'));
    const shape = engineShape(config, dModel, resolveDSae(config, dModel));
    const x = new Rng(config.seed).normalArray(shape.batchSize * dModel);
    const init = initSaeParams(shape, config.seed, x);
    const engine =
      choice.engine === 'cpu'
        ? await WasmCpuSaeEngine.create(shape, init)
        : await GpuSaeEngine.create(await gpu(), shape, init);
    try {
      // The run's own hyper-parameters of its first steps (the trainer's function).
      await engine.step(x, stepHyper(config, 0), true);
      const t0 = performance.now();
      for (let i = 1; i <= 2; i++)
        await engine.step(x, stepHyper(config, Math.min(i, config.steps - 1)), true);
      return { msPerStep: (performance.now() - t0) / 2, engine: ENGINE_LABEL[choice.engine] };
    } finally {
      engine.destroy();
    }
  },

  async selfCheck() {
    return runSelfCheck(await gpu());
  },

  async start(config: TrainConfig, datasetId: string, onEvent: LabEventListener) {
    if (isBusy()) throw new Error('A run is already active: pause it and stop it before starting another.');
    const source = await openDataset(datasetId);
    const { tapped, attach } = behaviourTap(onEvent, source.manifest, () => trainer.params());
    const trainer: Trainer = await Trainer.start(config, source, attach(await deps(tapped, datasetId)));
    await launch(trainer, onEvent);
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

  async resumeFromCheckpoint(runId: string, onEvent: LabEventListener, overrides = {}) {
    if (isBusy()) throw new Error('A run is already active: stop it before resuming another.');
    const cp = await checkpoints.load(runId);
    if (!cp) throw new Error(`No checkpoint for run "${runId}".`);
    const source = await openDataset(cp.meta.datasetId).catch(() => {
      throw new Error(
        `its dataset "${cp.meta.datasetName}" is no longer in this browser (deleted?); import it again to resume`,
      );
    });
    const { tapped, attach } = behaviourTap(onEvent, source.manifest, () => trainer.params());
    const trainer: Trainer = await Trainer.resume(
      cp,
      source,
      attach(await deps(tapped, cp.meta.datasetId)),
      overrides,
    );
    await launch(trainer, onEvent);
    return trainer.info;
  },

  async deleteCheckpoint(runId: string) {
    if (isBusy() && active?.trainer.info.runId === runId)
      throw new Error('This run is active: stop it before deleting it.');
    // A run of the run library is deleted with its weights, never left with stale ones (src/runs/delete-run.ts).
    await deleteRunWeights(new RunLibrary(checkpoints), checkpoints, runId);
  },

  async exportSae(runId: string): Promise<ExportedSae> {
    let params: SaeParams;
    let shape: SaeShape;
    let info: Parameters<typeof exportSaeLens>[2];
    let datasetId: string;
    let datasetName: string;
    if (active && active.trainer.info.runId === runId && active.trainer.currentStatus !== 'error') {
      const t = active.trainer;
      datasetId = t.info.datasetId;
      datasetName = t.info.datasetName;
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
      datasetName = m.datasetName;
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
    const own = await importedExportNames(runId, checkpoints);
    if (own) info.datasetMetadata = { ...info.datasetMetadata, ...own };
    const out = exportSaeLens(params, shape, info);
    const base = baseName(datasetName, info.config.architecture, runId, shape.dSae, shape.k);
    const zip = zipSaeLens(base, out.cfgJson, out.safetensors);
    const result: ExportedSae = {
      baseName: base,
      cfgJson: out.cfgJson,
      safetensors: out.safetensors,
      zipName: zipFileName(base),
      zip,
    };
    return Comlink.transfer(result, [out.safetensors.buffer, zip.buffer]);
  },

  async injectFaultForTest(fault: FaultForTest) {
    pendingFault = fault;
  },

  async featureRecovery(runId: string) {
    const t = active?.trainer;
    if (!t || t.info.runId !== runId) return null;
    const truth = (await openDataset(t.info.datasetId)).manifest.synthetic;
    if (!truth) return null;
    const r = featureRecovery(truth.features, (await t.params()).wDec, t.info.shape.dModel);
    return { ...r, runId, probabilities: truth.probabilities };
  },

  importSae(files) {
    return importSaeInLab(files, checkpoints);
  },

  async evaluateImported(runId, datasetId, onEvent) {
    if (isBusy()) throw new Error('A run is active: evaluate the imported SAE once it ends.');
    const choice = await (engineChoice ?? decideEngine('auto'));
    const create =
      choice.engine === 'cpu'
        ? (shape: SaeShape, p: SaeParams) => WasmCpuSaeEngine.create(shape, p)
        : async (shape: SaeShape, p: SaeParams) => GpuSaeEngine.create(await gpu(), shape, p);
    return evaluateImportedInLab(runId, datasetId, checkpoints, create, onEvent);
  },

  async loseDeviceForTest() {
    (await gpu()).destroy();
  },
};

// Sweeps (src/sweep/worker-sweep.ts): each member is a run with this worker's deps (engine, checkpoints, recorder).
const labApi: LabApi = Object.assign(
  api,
  sweepApi({
    busy: runBusy,
    memberDeps: deps,
    checkpoints,
    limits: async () => {
      const c = await (engineChoice ?? decideEngine('auto'));
      return limitsFor(c.engine, c.engine === 'gpu' ? (await gpu()).adapter.limits : undefined);
    },
    probeStepMs: (c, dModel) => api.probeStepMs(c, dModel),
  }),
);

Comlink.expose(labApi);
