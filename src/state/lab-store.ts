/**
 * The lab's UI state (zustand): GPU status, datasets, the config form, and the run's status, progress and
 * summary. Per-step metric history is NOT here: it goes to src/state/metric-buffers.ts (outside React); this
 * store only keeps what a few small components show (status line, buttons), updated at most at the worker's
 * metric rate (~15/s).
 *
 * Actions talk to the lab worker (src/worker/client.ts) and route its events.
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import { DEMO } from '../data/demo';
import { ensureDemoDataset } from '../data/import-client';
import { listDatasets, subscribeDatasets } from '../data/store';
import type { DatasetManifest } from '../data/types';
import { SAELENS_CFG_FILE, SAELENS_WEIGHTS_FILE } from '../export/saelens';
import type { CheckpointMeta } from '../train/checkpoint';
import type { ConfigErrors } from '../train/config';
import type { EvalPoint, TrainPoint } from '../train/history';
import type { RunInfo, RunStatus, RunSummary } from '../train/trainer';
import type { GpuStatus, LabEvent } from '../worker/api';
import { labWorker } from '../worker/client';
import { useBehaviour } from './behaviour-store';
import { defaultForm, type FormField, type FormValues, validateForm } from './config-form';
import { metricBuffers } from './metric-buffers';

/** The run as the UI sees it: 'idle' before any, 'starting' while the worker sets up. */
export type UiRunStatus = 'idle' | 'starting' | RunStatus;

/** Live progress of the active run. */
export interface Progress {
  step: number;
  tokens: number;
  tokensPerSec: number;
  wallMs: number;
}

export interface LabState {
  gpu: GpuStatus | null;
  /** Set when the worker's device was lost during this session (the reason). */
  deviceLost: string | null;
  /** Stored datasets, plus a stand-in manifest for the built-in demo while it is not imported yet. */
  datasets: DatasetManifest[];
  /** The chosen dataset (the demo unless the user picks another); null when there is none. */
  datasetId: string | null;
  datasetsError: string | null;
  demoStatus: 'idle' | 'preparing' | 'ready' | 'error';
  form: FormValues;
  formErrors: ConfigErrors;
  run: RunInfo | null;
  status: UiRunStatus;
  progress: Progress | null;
  lastTrain: TrainPoint | null;
  lastEval: EvalPoint | null;
  summary: RunSummary | null;
  /** Last error message of a run or an action. */
  error: string | null;
  checkpoints: CheckpointMeta[];
  lastCheckpointStep: number | null;
}

export interface LabActions {
  /** Ask the worker for its GPU, load datasets and checkpoints, follow library changes. Call once. */
  init(): Promise<void>;
  refreshDatasets(): Promise<void>;
  refreshCheckpoints(): Promise<void>;
  selectDataset(id: string): void;
  setField(field: FormField, value: string): void;
  /** Start a run with the form's config on the selected dataset. */
  train(): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  /** Continue a checkpointed run (after a reload or a lost device). */
  resumeCheckpoint(runId: string): Promise<void>;
  deleteCheckpoint(runId: string): Promise<void>;
  /** Export the current run and download cfg.json + sae_weights.safetensors (put both in one folder). */
  exportRun(): Promise<void>;
}

function facts(s: Pick<LabState, 'datasets' | 'datasetId'>) {
  const m = s.datasets.find((d) => d.id === s.datasetId);
  return m ? { dModel: m.dModel, nTokens: m.nTokens } : undefined;
}

function errorsOf(form: FormValues, s: Pick<LabState, 'datasets' | 'datasetId'>): ConfigErrors {
  const v = validateForm(form, facts(s));
  return v.ok ? {} : v.errors;
}

/**
 * What the picker shows for the demo before it is imported: its known shape, createdAt 0 marking "not stored".
 * The real manifest (with mean and norms) replaces it after {@link ensureDemoDataset}.
 */
function demoStandIn(): DatasetManifest {
  const [nTokens, dModel] = DEMO.shape;
  return {
    id: DEMO.id,
    name: DEMO.name,
    dModel,
    nTokens,
    shardRows: nTokens,
    shardCount: 1,
    sources: [],
    createdAt: 0,
    mean: [],
    meanSquaredNorm: 0,
    builtin: true,
  };
}

/** Save a blob under `name` through a temporary link. */
function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The lab store. */
export const useLab = create<LabState & LabActions>()((set, get) => {
  /** Route one worker event into the buffers and the store. */
  const onEvent = (e: LabEvent): void => {
    switch (e.type) {
      case 'started':
        if (e.run.startStep === 0) metricBuffers.clear();
        useBehaviour.getState().reset();
        set({
          run: e.run,
          summary: null,
          error: null,
          deviceLost: null,
          progress: {
            step: e.run.startStep,
            tokens: e.run.startStep * e.run.shape.batchSize,
            tokensPerSec: 0,
            wallMs: 0,
          },
        });
        break;
      case 'history':
        metricBuffers.restore(e.train, e.eval);
        set({ lastTrain: metricBuffers.train.last, lastEval: metricBuffers.eval.last });
        break;
      case 'metrics':
        metricBuffers.pushTrain(e.point);
        set({
          lastTrain: e.point,
          progress: {
            step: e.point.step,
            tokens: e.point.tokens,
            tokensPerSec: e.point.tokensPerSec,
            wallMs: e.point.wallMs,
          },
        });
        break;
      case 'eval':
        metricBuffers.pushEval(e.point);
        set({ lastEval: e.point });
        break;
      case 'status':
        set((s) => ({
          status: e.status,
          progress: s.progress ? { ...s.progress, step: e.step } : s.progress,
        }));
        if (e.status !== 'running') void get().refreshCheckpoints();
        break;
      case 'checkpoint':
        set({ lastCheckpointStep: e.step });
        break;
      case 'summary':
        set({ summary: e.summary });
        break;
      case 'error':
        set({ error: e.message, status: 'error' });
        void get().refreshCheckpoints();
        break;
      case 'device-lost':
        set({ deviceLost: e.reason });
        break;
      case 'behaviour':
        useBehaviour.getState().push(e.point);
        break;
      case 'behaviour-error':
        useBehaviour.getState().fail(e.message);
        break;
    }
  };
  const listener = Comlink.proxy(onEvent);

  const guard = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      set({ error: `${what}: ${(e as Error).message}` });
    }
  };

  return {
    gpu: null,
    deviceLost: null,
    datasets: [],
    datasetId: null,
    datasetsError: null,
    demoStatus: 'idle',
    form: defaultForm(),
    formErrors: {},
    run: null,
    status: 'idle',
    progress: null,
    lastTrain: null,
    lastEval: null,
    summary: null,
    error: null,
    checkpoints: [],
    lastCheckpointStep: null,
    async init() {
      void labWorker()
        .gpuStatus()
        .then((gpu) => set({ gpu }));
      void get().refreshCheckpoints();
      subscribeDatasets(() => void get().refreshDatasets());
      await get().refreshDatasets();
    },
    async refreshDatasets() {
      try {
        const stored = await listDatasets();
        // The demo is always offered (and preselected); it is imported from public/demo/ on first use.
        const datasets = stored.some((d) => d.id === DEMO.id) ? stored : [demoStandIn(), ...stored];
        set((s) => {
          const keep = s.datasetId && datasets.some((d) => d.id === s.datasetId);
          const datasetId = keep
            ? s.datasetId
            : (datasets.find((d) => d.id === DEMO.id)?.id ?? datasets[0]?.id ?? null);
          return { datasets, datasetId, formErrors: errorsOf(s.form, { datasets, datasetId }) };
        });
      } catch (e) {
        set({ datasetsError: `Datasets could not be listed: ${(e as Error).message}` });
      }
    },
    async refreshCheckpoints() {
      try {
        set({ checkpoints: await labWorker().listCheckpoints() });
      } catch {
        // Without IndexedDB there is nothing to resume; the list stays empty.
      }
    },
    selectDataset(id) {
      set((s) => ({ datasetId: id, formErrors: errorsOf(s.form, { ...s, datasetId: id }) }));
    },
    setField(field, value) {
      set((s) => {
        const form = { ...s.form, [field]: value };
        return { form, formErrors: errorsOf(form, s) };
      });
    },
    async train() {
      const s = get();
      if (!s.datasetId) return set({ error: 'Choose a dataset first.' });
      const v = validateForm(s.form, facts(s));
      if (!v.ok) return set({ formErrors: v.errors });
      set({ status: 'starting', error: null, summary: null });
      try {
        if (s.datasetId === DEMO.id && s.datasets.find((d) => d.id === DEMO.id)?.createdAt === 0) {
          set({ demoStatus: 'preparing' });
          try {
            await ensureDemoDataset();
            set({ demoStatus: 'ready' });
          } catch (e) {
            set({ demoStatus: 'error' });
            throw new Error(`the demo dataset could not be imported: ${(e as Error).message}`);
          }
          await get().refreshDatasets();
        }
        await labWorker().start(v.config, s.datasetId, listener);
      } catch (e) {
        set({ status: 'idle', error: `Training could not start: ${(e as Error).message}` });
      }
    },
    pause: () => guard('Pause failed', () => labWorker().pause()),
    resume: () => guard('Resume failed', () => labWorker().resume()),
    stop: () => guard('Stop failed', () => labWorker().stop()),
    async resumeCheckpoint(runId) {
      set({ status: 'starting', error: null, summary: null, deviceLost: null });
      metricBuffers.clear();
      try {
        await labWorker().resumeFromCheckpoint(runId, listener);
      } catch (e) {
        set({ status: 'idle', error: `The run could not be resumed: ${(e as Error).message}` });
      }
    },
    deleteCheckpoint: (runId) =>
      guard('Delete failed', async () => {
        await labWorker().deleteCheckpoint(runId);
        await get().refreshCheckpoints();
      }),
    exportRun: () =>
      guard('Export failed', async () => {
        const run = get().run;
        if (!run) throw new Error('no run to export');
        const out = await labWorker().exportSae(run.runId);
        // SAELens loads a folder holding exactly these two names.
        download(SAELENS_CFG_FILE, out.cfgJson, 'application/json');
        download(SAELENS_WEIGHTS_FILE, out.safetensors as BlobPart, 'application/octet-stream');
      }),
  };
});
