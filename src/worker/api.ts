/**
 * The one interface between the UI thread and the lab worker (which owns the GPUDevice and every training
 * buffer). Declared once, implemented by src/worker/lab-worker.ts, called through `Comlink.wrap<LabApi>()`.
 * Callbacks cross as `Comlink.proxy(fn)`; everything else is structured-cloneable.
 */
import type { EngineChoice, EngineOverride } from '../cpu/engine-choice';
import type { AdapterSummary } from '../gpu/device';
import type { SelfCheckResult } from '../gpu/selfcheck';
import type { BehaviourPoint } from '../lm/behaviour';
import type { RunMeta } from '../runs/library';
import type { FeatureRecovery } from '../sae/metrics';
import type { SweepApi } from '../sweep/worker-sweep';
import type { CheckpointMeta } from '../train/checkpoint';
import type { TrainConfig } from '../train/config';
import type { RunInfo, RunSummary, TrainEvent } from '../train/trainer';

/** Outcome of asking the worker for a GPU: the adapter, or why there is none. */
export type GpuStatus = { ok: true; adapter: AdapterSummary } | { ok: false; error: string };

/** Everything the worker reports about a run: the trainer's events, plus loss of the GPU device. */
export type LabEvent =
  | TrainEvent
  | { type: 'device-lost'; reason: string; runId: string | null }
  /** The run library (src/runs/) could not record the run; training goes on. */
  | { type: 'library-error'; message: string }
  /** A patched-CE evaluation of the run's SAE (src/worker/behaviour-tap.ts). */
  | { type: 'behaviour'; point: BehaviourPoint }
  | { type: 'behaviour-error'; message: string };

/** A fault the browser tests inject: NaN weights or a collapsed encoder before step `atStep` (1-based). */
export interface FaultForTest {
  kind: 'nan' | 'collapse';
  atStep: number;
}

/** Callback receiving {@link LabEvent}s (pass it wrapped in `Comlink.proxy`). */
export type LabEventListener = (e: LabEvent) => void;

/** The two files of an SAELens export, ready to download. */
export interface ExportedSae {
  /** Suggested folder / file-name prefix, e.g. "sae-run-abc-topk-512-k8". */
  baseName: string;
  /** cfg.json text. */
  cfgJson: string;
  /** sae_weights.safetensors bytes (transferred). */
  safetensors: Uint8Array;
  /** `<baseName>.saelens.zip`: the one file the UI downloads. */
  zipName: string;
  /** The zip holding `<baseName>/cfg.json` and `<baseName>/sae_weights.safetensors` (transferred). */
  zip: Uint8Array;
}

/** Feature recovery of a run on a synthetic dataset, with the truth's firing probabilities [n_features]. */
export interface RunRecovery extends FeatureRecovery {
  runId: string;
  probabilities: number[];
}

/** The lab worker's API; the sweep methods (planSweep, startSweep, …) are those of src/sweep/worker-sweep.ts. */
export interface LabApi extends SweepApi {
  /** Create the worker's GPUDevice if needed and describe the adapter; never throws. */
  gpuStatus(): Promise<GpuStatus>;
  /**
   * Probe the adapter and choose the training engine (src/cpu/engine-choice.ts); later runs use it.
   * @throws Error while a run is active.
   */
  chooseEngine(override: EngineOverride): Promise<EngineChoice>;
  /**
   * Time a config before it runs: 3 training steps of its shape on the engine a run would use, on seeded random
   * activations [batch, d_model] (no dataset read); the first step (pipeline compilation, warm-up) is not counted.
   * @returns milliseconds per step (the mean of steps 2 and 3) and the engine's label
   * @throws Error while a run is active, or for a config the engine refuses (the form shows that first).
   */
  probeStepMs(config: TrainConfig, dModel: number): Promise<{ msPerStep: number; engine: string }>;
  /** Run the matmul self-check on the worker's device. @throws if WebGPU is unavailable. */
  selfCheck(): Promise<SelfCheckResult>;
  /**
   * Start a new training run of `config` on stored dataset `datasetId`; events go to `onEvent` until the run
   * ends. Resolves once the run has started (engine created, first event sent).
   * @throws Error when a run is already active, WebGPU is unavailable, the dataset is missing or the config is
   *   invalid (the message names the fields).
   */
  start(config: TrainConfig, datasetId: string, onEvent: LabEventListener): Promise<RunInfo>;
  /** Pause the active run after its current step; resolves once the pause checkpoint is saved. */
  pause(): Promise<void>;
  /** Continue the paused run. */
  resume(): Promise<void>;
  /** End the active run after its current step (it then evaluates and sends its summary). */
  stop(): Promise<void>;
  /** Checkpointed runs, most recent first. */
  listCheckpoints(): Promise<CheckpointMeta[]>;
  /**
   * Continue checkpointed run `runId` (after a reload, a crash or a lost device) with the same curves;
   * `overrides` replace config fields (the learning rate halved after a divergence).
   * @throws Error when a run is active, the checkpoint or its dataset is missing.
   */
  resumeFromCheckpoint(
    runId: string,
    onEvent: LabEventListener,
    overrides?: Partial<Pick<TrainConfig, 'lr'>>,
  ): Promise<RunInfo>;
  /**
   * Delete a run's checkpoint: with the run (history and weights) when the run library holds it, so no library run is
   * left with stale weights (src/runs/delete-run.ts). @throws Error while that run is active.
   */
  deleteCheckpoint(runId: string): Promise<void>;
  /**
   * Export run `runId` (the active or last run in this worker, else its checkpoint) in SAELens's layout.
   * @throws Error when there is no such run.
   */
  exportSae(runId: string): Promise<ExportedSae>;
  /** Test hook: inject `fault` into the next run started or resumed (the fault-matrix tests). */
  injectFaultForTest(fault: FaultForTest): Promise<void>;
  /**
   * Feature recovery (src/sae/metrics.ts) of run `runId` (the active or last run of this worker) against its
   * dataset's ground truth; null when the dataset is not synthetic or the run is gone.
   */
  featureRecovery(runId: string): Promise<RunRecovery | null>;
  /**
   * Import an SAE trained elsewhere (SAELens folder, sparsify SAE, Gemma Scope params.npz; src/saes/) as a run of
   * the library. `files`: paths as the user named them (folder/file) and bytes.
   * @throws ImportError naming the file and the problem; nothing is stored then.
   */
  importSae(files: { name: string; bytes: Uint8Array }[]): Promise<{ meta: RunMeta; message: string }>;
  /**
   * Held-out metrics of imported run `runId` on stored dataset `datasetId`, recorded in the library; the patched-CE
   * point follows on `onEvent` ('behaviour' / 'behaviour-error') when the dataset's model is known.
   * @throws Error while a run is active; ImportError when d_in ≠ the dataset's d_model (nothing written).
   */
  evaluateImported(runId: string, datasetId: string, onEvent?: LabEventListener): Promise<RunSummary>;
  /** Test hook: destroy the GPUDevice, as a driver reset would (the device-lost path). */
  loseDeviceForTest(): Promise<void>;
}
