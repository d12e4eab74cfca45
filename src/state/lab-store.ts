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
import { type EngineChoice, type EngineOverride, engineOverrideFromSearch } from '../cpu/engine-choice';
import { DEMO } from '../data/demo';
import { ensureDemoDataset, type QuotaDecision } from '../data/import-client';
import { listDatasets, subscribeDatasets } from '../data/store';
import type { DatasetManifest } from '../data/types';
import type { CheckpointMeta } from '../train/checkpoint';
import type { CollapseWarning } from '../train/collapse';
import { type ConfigErrors, resolveDSae } from '../train/config';
import type { Divergence } from '../train/divergence';
import type { EvalPoint, TrainPoint } from '../train/history';
import { checkEngineLimits } from '../train/limits';
import { type StorageFull, storageMessage } from '../train/storage';
import type { RunInfo, RunStatus, RunSummary } from '../train/trainer';
import { errorText } from '../util/error-text';
import type { GpuStatus, LabEvent } from '../worker/api';
import { labWorker, onLabWorkerFailure } from '../worker/client';
import { useBehaviour } from './behaviour-store';
import { configToForm, defaultForm, type FormField, type FormValues, validateForm } from './config-form';
import { downloadFile as download } from './download';
import { metricBuffers } from './metric-buffers';
import {
  announceRun,
  findInterrupted,
  forgetProgress,
  guardUnload,
  type InterruptedRun,
  joinRunsChannel,
  type OtherTabRun,
  recordProgress,
} from './run-guard';

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
  /** The training engine the worker chose (GPU or CPU) and why; null until its start-up probe is done. */
  engine: EngineChoice | null;
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
  /** Set when the run stopped because the loss became NaN/±Inf (offers "resume at η/2"). */
  divergence: Divergence | null;
  /** Collapse warnings seen at the run's evaluations so far (the summary has the final ones). */
  liveWarnings: CollapseWarning[];
  /**
   * A write over the storage quota: the banner's text and, for checkpoints, the report; `importPaused` while an
   * import waits for {@link LabState.resumeImport} / {@link LabState.cancelImport}.
   */
  storage: { message: string; report: StorageFull | null; importPaused?: boolean } | null;
  /** A checkpointed run that no page is running (reload, crash, closed tab). */
  interrupted: InterruptedRun | null;
  /** Runs other tabs are training now. */
  otherTabRuns: OtherTabRun[];
  /** The form field edited last (cross-field errors are shown next to it). */
  lastEdited: FormField | null;
}

export interface LabActions {
  /** Ask the worker for its GPU, load datasets and checkpoints, follow library changes. Call once. */
  init(): Promise<void>;
  refreshDatasets(): Promise<void>;
  /** Re-run the engine choice with the user's override (the GPU details' control). */
  setEngine(override: EngineOverride): Promise<void>;
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
  /** Export the current run and download `<run>.saelens.zip` (cfg.json + sae_weights.safetensors in a folder). */
  exportRun(): Promise<void>;
  /** After a divergence: resume from the last good checkpoint with the learning rate halved. */
  resumeAtHalfLr(): Promise<void>;
  /** Discard an interrupted run (delete its checkpoint). */
  discardInterrupted(): Promise<void>;
  /** Show a storage-quota problem (e.g. from an import) in the storage banner. */
  reportStorage(message: string): void;
  /**
   * Pause an import that ran over the storage quota (`message` from the importer: bytes needed, used, allowed): the
   * storage banner shows it with Resume and Cancel. @returns the user's answer (a later pause cancels an earlier one).
   */
  pauseImport(message: string): Promise<QuotaDecision>;
  /** Resume the paused import (it starts again from the beginning with the same files). */
  resumeImport(): void;
  /** Cancel the paused import (the store stays as it was). */
  cancelImport(): void;
}

/** The answer an import paused over quota waits for (LabState.pauseImport), null when none waits. */
let importAnswer: ((d: QuotaDecision) => void) | null = null;
function answerImport(d: QuotaDecision): void {
  const answer = importAnswer;
  importAnswer = null;
  answer?.(d);
}

function facts(s: Pick<LabState, 'datasets' | 'datasetId'>) {
  const m = s.datasets.find((d) => d.id === s.datasetId);
  return m ? { dModel: m.dModel, nTokens: m.nTokens } : undefined;
}

function errorsOf(
  form: FormValues,
  s: Pick<LabState, 'datasets' | 'datasetId' | 'gpu'> & Partial<Pick<LabState, 'engine'>>,
): ConfigErrors {
  const v = validateForm(form, facts(s));
  const errors: ConfigErrors = v.ok ? {} : { ...v.errors };
  // The limits of the engine that will run it (GPU buffers, or the CPU engine's memory), before the run (not 11 s
  // into it). Until the engine choice is known: the GPU's, when there is one.
  const m = s.datasets.find((d) => d.id === s.datasetId);
  const engine = s.engine?.engine ?? (s.gpu?.ok ? 'gpu' : null);
  if (v.ok && m && engine) {
    const dSae = resolveDSae(v.config, m.dModel);
    const field = v.config.dSae === null ? 'expansionFactor' : 'dSae';
    for (const p of checkEngineLimits(
      engine,
      { batchSize: v.config.batchSize, dModel: m.dModel, dSae },
      s.gpu?.ok ? s.gpu.adapter.limits : null,
      field,
    ))
      errors[p.field] ??= p.message;
  }
  return errors;
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

/** The lab store. */
export const useLab = create<LabState & LabActions>()((set, get) => {
  /** Route one worker event into the buffers and the store. */
  const onEvent = (e: LabEvent): void => {
    switch (e.type) {
      case 'started':
        if (e.run.startStep === 0) metricBuffers.clear();
        useBehaviour.getState().reset();
        announceRun({ runId: e.run.runId, datasetName: e.run.datasetName });
        set((s) => ({
          // The form shows the run's own config (read-only while it runs), also after a resume.
          form: configToForm(e.run.config),
          formErrors: {},
          lastCheckpointStep: e.run.startStep > 0 ? e.run.startStep : null,
          divergence: null,
          liveWarnings: [],
          storage: null,
          interrupted: s.interrupted?.meta.runId === e.run.runId ? null : s.interrupted,
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
        }));
        break;
      case 'history':
        metricBuffers.restore(e.train, e.eval);
        set({ lastTrain: metricBuffers.train.last, lastEval: metricBuffers.eval.last });
        break;
      case 'metrics':
        metricBuffers.pushTrain(e.point);
        if (get().run) recordProgress(get().run?.runId ?? '', e.point.step);
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
        guardUnload(e.status === 'running' || e.status === 'paused');
        if (e.status !== 'running' && e.status !== 'paused') announceRun(null);
        if (e.status !== 'running') void get().refreshCheckpoints();
        break;
      case 'checkpoint':
        set({ lastCheckpointStep: e.step });
        break;
      case 'summary':
        set({ summary: e.summary });
        break;
      case 'warnings':
        set((s) => ({
          liveWarnings: [
            ...s.liveWarnings,
            ...e.warnings.filter((w) => !s.liveWarnings.some((x) => x.code === w.code)),
          ],
        }));
        break;
      case 'storage-full':
        set({ storage: { message: storageMessage(e.report), report: e.report } });
        break;
      case 'error':
        guardUnload(false);
        announceRun(null);
        set({
          error: e.message || 'the run failed without a message',
          status: 'error',
          divergence: e.divergence ?? null,
        });
        void get().refreshCheckpoints();
        break;
      case 'device-lost':
        set({ deviceLost: e.reason });
        break;
      case 'library-error':
        set({ error: e.message });
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

  onLabWorkerFailure((reason) => {
    const s = get();
    if (s.status !== 'running' && s.status !== 'paused' && s.status !== 'starting') return;
    guardUnload(false);
    announceRun(null);
    const cp = s.lastCheckpointStep;
    set({
      status: 'error',
      error:
        `Training stopped: ${reason} at step ${s.progress?.step ?? 0}. ` +
        (cp !== null
          ? `Resume continues from the checkpoint at step ${cp}.`
          : 'No checkpoint was saved yet.'),
    });
    void get().refreshCheckpoints();
  });

  const guard = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      set({ error: `${what}: ${errorText(e)}` });
    }
  };

  return {
    gpu: null,
    engine: null,
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
    divergence: null,
    liveWarnings: [],
    storage: null,
    interrupted: null,
    otherTabRuns: [],
    lastEdited: null,
    async init() {
      joinRunsChannel((otherTabRuns) => set({ otherTabRuns }));
      void labWorker()
        .gpuStatus()
        .then((gpu) => set((s) => ({ gpu, formErrors: errorsOf(s.form, { ...s, gpu }) })));
      const override = engineOverrideFromSearch(globalThis.location?.search ?? '');
      void get().setEngine(override);
      void get().refreshCheckpoints();
      subscribeDatasets(() => void get().refreshDatasets());
      await get().refreshDatasets();
    },
    async setEngine(override) {
      try {
        const engine = await labWorker().chooseEngine(override);
        set((s) => ({ engine, formErrors: errorsOf(s.form, { ...s, engine }) }));
      } catch (e) {
        set({ error: (e as Error).message });
      }
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
          return {
            datasets,
            datasetId,
            formErrors: errorsOf(s.form, { datasets, datasetId, gpu: s.gpu, engine: s.engine }),
          };
        });
      } catch (e) {
        set({ datasetsError: `Datasets could not be listed: ${errorText(e)}` });
      }
    },
    async refreshCheckpoints() {
      try {
        const checkpoints = await labWorker().listCheckpoints();
        const s = get();
        // This page's own run (live, failed or finished) is shown by the status line and banners, not as interrupted.
        set({ checkpoints, interrupted: await findInterrupted(checkpoints, s.run?.runId ?? null) });
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
        return { form, formErrors: errorsOf(form, s), lastEdited: field };
      });
    },
    async train() {
      const s = get();
      if (!s.datasetId) return set({ error: 'Choose a dataset first.' });
      const v = validateForm(s.form, facts(s));
      if (!v.ok) return set({ formErrors: v.errors });
      const limitErrors = errorsOf(s.form, s);
      if (Object.keys(limitErrors).length > 0) return set({ formErrors: limitErrors });
      set({ status: 'starting', error: null, summary: null });
      try {
        if (s.datasetId === DEMO.id && s.datasets.find((d) => d.id === DEMO.id)?.createdAt === 0) {
          set({ demoStatus: 'preparing' });
          try {
            // Over quota the import pauses (storage banner: Resume / Cancel) instead of failing.
            await ensureDemoPausing();
            set({ demoStatus: 'ready' });
          } catch (e) {
            set({ demoStatus: 'error' });
            throw new Error(`the demo dataset could not be imported: ${errorText(e)}`);
          }
          await get().refreshDatasets();
        }
        await labWorker().start(v.config, s.datasetId, listener);
      } catch (e) {
        const text = errorText(e);
        set({ status: 'idle', error: `Training could not start: ${text}` });
        if (/over quota/.test(text)) get().reportStorage(text);
      }
    },
    pause: () => guard('Pause failed', () => labWorker().pause()),
    resume: () => guard('Resume failed', () => labWorker().resume()),
    stop: () => guard('Stop failed', () => labWorker().stop()),
    async resumeCheckpoint(runId) {
      set({ status: 'starting', error: null, summary: null, deviceLost: null, divergence: null });
      metricBuffers.clear();
      try {
        await labWorker().resumeFromCheckpoint(runId, listener);
      } catch (e) {
        set({ status: 'idle', error: `The run could not be resumed: ${errorText(e)}` });
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
        // One zip named after the run, holding the folder SAELens loads (cfg.json + sae_weights.safetensors).
        download(out.zipName, out.zip as BlobPart, 'application/zip');
      }),
    async resumeAtHalfLr() {
      const { run, divergence } = get();
      if (!run || !divergence) return;
      if (divergence.checkpointStep === null) {
        // Nothing was saved yet: start the same config again at η/2.
        get().setField('lr', String(divergence.lr / 2));
        return get().train();
      }
      set({ status: 'starting', error: null, summary: null, divergence: null });
      metricBuffers.clear();
      try {
        await labWorker().resumeFromCheckpoint(run.runId, listener, { lr: divergence.lr / 2 });
      } catch (e) {
        set({ status: 'idle', error: `The run could not be resumed: ${errorText(e)}` });
      }
    },
    async discardInterrupted() {
      const i = get().interrupted;
      if (!i) return;
      forgetProgress(i.meta.runId);
      set({ interrupted: null });
      await get().deleteCheckpoint(i.meta.runId);
    },
    reportStorage(message) {
      set({ storage: { message, report: null } });
    },
    pauseImport(message) {
      answerImport('cancel');
      set({
        storage: {
          message:
            `Import paused: ${message} Free space (delete a dataset or a run you no longer need), then press ` +
            'Resume; Cancel leaves the stored data as it was.',
          report: null,
          importPaused: true,
        },
      });
      return new Promise<QuotaDecision>((resolve) => {
        importAnswer = resolve;
      });
    },
    resumeImport() {
      set({ storage: null });
      answerImport('resume');
    },
    cancelImport() {
      set({ storage: null });
      answerImport('cancel');
    },
  };
});

/**
 * The built-in demo dataset, imported on first use; over the storage quota the import pauses with the storage
 * banner (Resume / Cancel, {@link LabActions.pauseImport}) instead of failing. Every app caller goes through here
 * (Train, the lessons' prefetch, evaluating an imported SAE), so the one shared demo import pauses whichever of them
 * started it. @throws as ensureDemoDataset (ImportCancelled after Cancel)
 */
export function ensureDemoPausing(): Promise<DatasetManifest> {
  return ensureDemoDataset(undefined, (message) => useLab.getState().pauseImport(message));
}
