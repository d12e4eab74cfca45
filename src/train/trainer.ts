/**
 * The training loop of an SAE run of any architecture (no React, no DOM; runs in the lab worker and in Node tests).
 *
 * Per step t (0-based) of T: take batch t from the {@link Batcher} (seeded, held-out rows excluded), call
 * `engine.step(x, {lr: learningRate(config, t), β1, β2, ε, deadWindowSteps, λ_t, AuxK window})` while the next batch is being cut
 * (double buffering). The metric history is taken at steps fixed by the config: every {@link historyEvery}(steps)-th
 * step and the last one (src/train/history.ts), so two runs of one config have histories of the same steps. An
 * engine with a stats ring (SaeEngine.recordStats) copies those steps' sums into it on the GPU and the trainer reads
 * them back in batches — when the ring is full, every `readbackIntervalMs` (default 1/15 s) of wall time, and
 * before an evaluation, checkpoint, pause or the end; the batching changes when points arrive, never which or their
 * values. Every `evalInterval` steps, and once at the end on a larger sample,
 * the held-out split is evaluated. Every `checkpointIntervalSec` of training, on pause and at the end the full
 * state goes into the {@link CheckpointStore}; {@link Trainer.resume} continues from it at the same batch, the
 * same learning rate and the same metric history.
 *
 * Determinism: the parameters after step t and the metric history (every field but wallMs and tokensPerSec) depend
 * only on (config, seed, dataset, engine); timing decides only when points reach the UI.
 *
 * Every metric comes from src/sae/metrics.ts (stepMetrics, evalMetrics).
 */
import type { DatasetSource } from '../data/types';
import { initSaeParams } from '../sae/init';
import { type EvalMetrics, evalMetrics, stepMetrics } from '../sae/metrics';
import type { Architecture, SaeEngine, SaeParams, SaeShape, StepStats } from '../sae/types';
import { errorText } from '../util/error-text';
import { Batcher, type BatcherOptions, type BatchStream } from './batcher';
import type { Checkpoint, CheckpointMeta, CheckpointStatus, CheckpointStore } from './checkpoint';
import { type CollapseWarning, collapseCapabilities, collapseChecks, mergeWarnings } from './collapse';
import {
  DEFAULT_CONFIG,
  deadWindowSteps,
  engineShape,
  evalIntervalSteps,
  resolveDSae,
  type TrainConfig,
  validateConfig,
} from './config';
import { decoderRowNorms, sortedFiringRates } from './diagnostics';
import { type Divergence, DivergenceError, stateDiverged, statsDiverged } from './divergence';
import {
  EVAL_FIELDS,
  type EvalPoint,
  historyEvery,
  type SeriesSnapshot,
  SeriesTable,
  TRAIN_FIELDS,
  type TrainPoint,
} from './history';
import { stepHyper } from './schedule';
import {
  checkpointBytes,
  isQuotaError,
  type StorageFull,
  StorageFullError,
  storageEstimate,
} from './storage';

/** Held-out tokens of the final evaluation (capped by the split): the "fresh sample" of the summary. */
export const FINAL_SAMPLE_TOKENS = 65_536;

/** The first checkpoint of a run is saved after this much training wall time (ms)… */
export const FIRST_CHECKPOINT_MS = 5_000;
/** …or after this many steps, whichever comes first; later ones every config.checkpointIntervalSec. */
export const FIRST_CHECKPOINT_STEPS = 20;

/** Points kept per history table before thinning (see history.ts). */
export const HISTORY_CAPACITY = 4096;

/** What a run is, fixed at its start. Plain data. */
export interface RunInfo {
  runId: string;
  datasetId: string;
  datasetName: string;
  /** The validated config. */
  config: TrainConfig;
  /** Engine shape: d_model, resolved d_sae, k, batch size. */
  shape: SaeShape;
  /** Dead-latent window in steps (from config.deadWindowTokens, capped at the run). */
  deadWindowSteps: number;
  /** Activation normalisation factor (1 = none). */
  scale: number;
  /** Step the run (re)started at: 0, or the checkpoint's step on resume. */
  startStep: number;
  /** config.steps. */
  totalSteps: number;
  /** Rows trained on / held out. */
  trainRows: number;
  heldOutRows: number;
  /** One-line adapter description. */
  adapter: string;
}

/** Life cycle of a run as the UI shows it. */
export type RunStatus = 'running' | 'paused' | 'done' | 'stopped' | 'error';

/** End-of-run summary (seed 000_03f50111ba1a6c62.txt, "Summary" table and post-hoc diagnostics). */
export interface RunSummary {
  runId: string;
  /** Steps done and planned. */
  steps: number;
  totalSteps: number;
  /** True when stopped before totalSteps. */
  stoppedEarly: boolean;
  /** Training wall time, ms (pauses excluded). */
  wallMs: number;
  /** Tokens trained on. */
  tokens: number;
  /** tokens / wall time. */
  tokensPerSec: number;
  dModel: number;
  dSae: number;
  k: number;
  /** The SAE architecture trained. */
  architecture: Architecture;
  /** Mean of the threshold θ over latents (JumpReLU, BatchTopK's running θ), else null. Training space. */
  meanThreshold: number | null;
  /** The last sampled training step (metrics on its batch), null if none was sampled. */
  lastTrain: TrainPoint | null;
  /** Held-out evaluation on the final sample. */
  heldOut: EvalMetrics;
  /** Held-out tokens in that sample. */
  sampleTokens: number;
  /** Latents not fired within the dead window at the last step (StepStats.deadCount). */
  deadInWindow: number;
  deadWindowSteps: number;
  deadWindowTokens: number;
  /** Latents that fired on none of the sample's tokens. */
  deadInSample: number;
  /** Per-latent firing rates on the sample, sorted descending [d_sae]. */
  firingRates: Float64Array;
  /** ‖W_dec row‖ per latent [d_sae] (training space: 1 when the constraint holds). */
  decoderRowNorms: Float32Array;
  /** Activation normalisation factor. */
  scale: number;
  /**
   * Collapse warnings (src/train/collapse.ts) from the final evaluation; non-empty = "done with warnings".
   * Absent in summaries of older builds.
   */
  warnings?: CollapseWarning[];
}

/** Everything a run reports, in order. Structured-cloneable. */
export type TrainEvent =
  | { type: 'started'; run: RunInfo }
  /** The metric history so far (sent on resume so the curves continue). */
  | { type: 'history'; train: SeriesSnapshot; eval: SeriesSnapshot }
  | { type: 'metrics'; point: TrainPoint }
  | { type: 'eval'; point: EvalPoint }
  | { type: 'status'; status: RunStatus; step: number }
  | { type: 'checkpoint'; step: number; savedAt: number }
  | { type: 'summary'; summary: RunSummary }
  /** Collapse warnings seen at a periodic evaluation (live; the summary carries the final ones). */
  | { type: 'warnings'; step: number; warnings: CollapseWarning[] }
  /** A checkpoint write hit the storage quota: the run pauses (nothing lost but the unsaved steps). */
  | { type: 'storage-full'; report: StorageFull }
  /** `divergence` is set when the run stopped because the loss or a parameter became NaN/±Inf. */
  | { type: 'error'; message: string; step: number; divergence?: Divergence };

/** What the trainer needs from its host (the worker, or a test). */
export interface TrainerDeps {
  /** Build the engine for `shape`, starting from `init` (the worker: GpuSaeEngine; tests: any SaeEngine). */
  createEngine(shape: SaeShape, init: SaeParams): Promise<SaeEngine>;
  checkpoints: CheckpointStore;
  /** Receives every {@link TrainEvent}; must not throw. */
  onEvent(e: TrainEvent): void;
  /** One-line adapter description, stored with checkpoints. Default "". */
  adapter?: string;
  /** Clock in ms. Default performance.now. */
  now?: () => number;
  /**
   * Wall time between two readbacks of the recorded history steps, ms. Default 1000/15. Decides only when points
   * are emitted, never which steps are recorded.
   */
  readbackIntervalMs?: number;
  /** Batcher window size in bytes (tests use small windows). */
  windowBytes?: number;
  /**
   * Where the batches come from. Default: a new {@link Batcher} with these options. A sweep (src/sweep/) passes a
   * view of one stream shared by its runs, which must give the same batches the Batcher would.
   */
  batches?: (options: BatcherOptions) => BatchStream;
  /** Storage usage and quota for quota reports. Default navigator.storage.estimate(). */
  estimate?: () => Promise<{ usageBytes: number | null; quotaBytes: number | null }>;
}

/** Let queued messages (pause, stop, …) run: resolves on the next macrotask. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((res) => setTimeout(res, 0));
}

/** Wall time between two yields to the event loop, ms (matters when the engine never waits on the GPU). */
const YIELD_INTERVAL_MS = 50;

/** A random run id (time + random suffix); ids only need to be unique per browser profile. */
export function newRunId(): string {
  return `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 2 ** 32).toString(36)}`;
}

/** One training run. Create with {@link Trainer.start} or {@link Trainer.resume}, then `await run()`. */
export class Trainer {
  readonly info: RunInfo;
  private readonly engine: SaeEngine;
  private readonly batcher: BatchStream;
  private readonly deps: TrainerDeps;
  private readonly now: () => number;
  private readonly readbackIntervalMs: number;
  /** Recorded history steps not read back yet (stats is set when the engine has no stats ring). */
  private pending: { step: number; wallMs: number; lr: number; stats: StepStats | null }[] = [];
  private lastRate = { wallMs: 0, tokens: 0, tokensPerSec: 0 };
  private readonly trainHistory = new SeriesTable(TRAIN_FIELDS, HISTORY_CAPACITY);
  private readonly evalHistory = new SeriesTable(EVAL_FIELDS, HISTORY_CAPACITY);
  private step: number;
  private wallMsBefore: number;
  private segmentStart = 0;
  private lastStats: StepStats | null = null;
  private lastEval: EvalPoint | null = null;
  private pauseRequested = false;
  private stopRequested = false;
  private pauseWaiters: (() => void)[] = [];
  private wake: (() => void) | null = null;
  private status: RunStatus = 'running';
  private running = false;
  private heldOutCache: { x: Float32Array; rows: number } | null = null;
  /** Last step known finite (clean readback or checkpoint); 0 at start. */
  private lastFiniteStep = 0;
  /** Step of this run's last saved checkpoint, null before the first. */
  private lastCheckpointStep: number | null = null;

  private constructor(
    info: RunInfo,
    engine: SaeEngine,
    batcher: BatchStream,
    deps: TrainerDeps,
    step: number,
    wallMs: number,
  ) {
    this.info = info;
    this.engine = engine;
    this.batcher = batcher;
    this.deps = deps;
    this.now = deps.now ?? (() => performance.now());
    this.readbackIntervalMs = deps.readbackIntervalMs ?? 1000 / 15;
    this.step = step;
    this.wallMsBefore = wallMs;
  }

  /**
   * Set up a new run: validate the config against the dataset, initialise the parameters (seeded; b_dec = mean of
   * the first training batch) and create the engine.
   * @throws Error listing the invalid fields, or from the batcher / engine factory.
   */
  static async start(
    config: TrainConfig,
    source: DatasetSource,
    deps: TrainerDeps,
    runId = newRunId(),
  ): Promise<Trainer> {
    const m = source.manifest;
    const v = validateConfig(config, { dModel: m.dModel, nTokens: m.nTokens });
    if (!v.ok) {
      throw new Error(
        `Invalid training config: ${Object.entries(v.errors)
          .map(([k, msg]) => `${k}: ${msg}`)
          .join('; ')}`,
      );
    }
    const c = v.config;
    const batcher = Trainer.makeBatcher(c, source, deps);
    const shape: SaeShape = engineShape(c, m.dModel, resolveDSae(c, m.dModel));
    const first = await batcher.next();
    batcher.seek(0);
    const engine = await deps.createEngine(shape, initSaeParams(shape, c.seed, first));
    return new Trainer(
      Trainer.makeInfo(runId, c, source, shape, batcher, 0, deps),
      engine,
      batcher,
      deps,
      0,
      0,
    );
  }

  /**
   * Continue a checkpointed run on `source` (which must be the checkpoint's dataset): same config, state, batch
   * position and metric history.
   * @throws Error when the dataset does not match the checkpoint, or from the engine factory / setState.
   */
  static async resume(
    cp: Checkpoint,
    source: DatasetSource,
    deps: TrainerDeps,
    overrides: Partial<Pick<TrainConfig, 'lr'>> = {},
  ): Promise<Trainer> {
    const m = source.manifest;
    const meta = cp.meta;
    if (m.id !== meta.datasetId || m.dModel !== meta.dModel) {
      throw new Error(
        `Checkpoint ${meta.runId} was trained on dataset "${meta.datasetName}" (d_model ${meta.dModel}); ` +
          `"${m.name}" (d_model ${m.dModel}) does not match.`,
      );
    }
    // Checkpoints written before a config field existed get its default.
    // `overrides` (e.g. η/2 after a divergence) replace fields of the checkpoint's config.
    const c: TrainConfig = { ...DEFAULT_CONFIG, ...meta.config, ...overrides };
    const batcher = Trainer.makeBatcher(c, source, deps);
    batcher.seek(meta.step);
    const shape: SaeShape = engineShape(c, m.dModel, meta.dSae);
    const engine = await deps.createEngine(shape, cp.data.state.params);
    await engine.setState(cp.data.state);
    const info = Trainer.makeInfo(meta.runId, c, source, shape, batcher, meta.step, deps);
    const t = new Trainer(info, engine, batcher, deps, meta.step, meta.wallMs);
    t.trainHistory.restore(cp.data.history.train);
    t.evalHistory.restore(cp.data.history.eval);
    t.lastEval = meta.lastEval;
    t.lastFiniteStep = meta.step;
    t.lastCheckpointStep = meta.step;
    return t;
  }

  private static makeBatcher(c: TrainConfig, source: DatasetSource, deps: TrainerDeps): BatchStream {
    const options: BatcherOptions = {
      source,
      batchSize: c.batchSize,
      heldOutFraction: c.heldOutFraction,
      seed: c.seed,
      normalize: c.normalize,
      windowBytes: deps.windowBytes,
    };
    return deps.batches ? deps.batches(options) : new Batcher(options);
  }

  private static makeInfo(
    runId: string,
    c: TrainConfig,
    source: DatasetSource,
    shape: SaeShape,
    batcher: BatchStream,
    startStep: number,
    deps: TrainerDeps,
  ): RunInfo {
    return {
      runId,
      datasetId: source.manifest.id,
      datasetName: source.manifest.name,
      config: c,
      shape,
      deadWindowSteps: deadWindowSteps(c),
      scale: batcher.scale,
      startStep,
      totalSteps: c.steps,
      trainRows: batcher.trainRows,
      heldOutRows: batcher.heldOutRows,
      adapter: deps.adapter ?? '',
    };
  }

  /** Steps completed. */
  get stepsDone(): number {
    return this.step;
  }

  /** Current status. */
  get currentStatus(): RunStatus {
    return this.status;
  }

  private wallMs(): number {
    return this.wallMsBefore + (this.running ? this.now() - this.segmentStart : 0);
  }

  private emit(e: TrainEvent): void {
    this.deps.onEvent(e);
  }

  private setStatus(s: RunStatus): void {
    this.status = s;
    this.emit({ type: 'status', status: s, step: this.step });
  }

  /**
   * Ask the run to pause after the current step. Resolves once the pause checkpoint is saved (or immediately
   * when the run is not running).
   */
  pause(): Promise<void> {
    if (this.status !== 'running') return Promise.resolve();
    this.pauseRequested = true;
    return new Promise((res) => this.pauseWaiters.push(res));
  }

  /** Continue a paused run. */
  resume(): void {
    this.pauseRequested = false;
    this.wake?.();
  }

  /** End the run after the current step; `run()` then finishes with a summary of what was trained. */
  stop(): void {
    this.stopRequested = true;
    this.wake?.();
  }

  private releasePauseWaiters(): void {
    for (const w of this.pauseWaiters.splice(0)) w();
  }

  /** Held-out rows of the periodic evaluations (cached). */
  private async periodicSample(): Promise<{ x: Float32Array; rows: number }> {
    this.heldOutCache ??= await this.batcher.heldOut(this.info.config.evalTokens);
    return this.heldOutCache;
  }

  private async evaluate(sample: {
    x: Float32Array;
    rows: number;
  }): Promise<{ point: EvalPoint; m: EvalMetrics; fireCounts: Uint32Array }> {
    const e = await this.engine.evaluate(sample.x, sample.rows);
    const m = evalMetrics(e, this.info.shape.dModel);
    const point: EvalPoint = { step: this.step, ...m };
    this.evalHistory.push(point);
    this.lastEval = point;
    this.emit({ type: 'eval', point });
    return { point, m, fireCounts: e.fireCounts };
  }

  /** Collapse checks (src/train/collapse.ts) on held-out metrics `m`. */
  private collapseWarnings(m: EvalMetrics, meanThreshold: number | null): CollapseWarning[] {
    const caps = collapseCapabilities(this.info.config.architecture);
    return collapseChecks(
      {
        l0: m.l0,
        deadFraction: m.deadFraction,
        explainedVariance: m.explainedVariance,
        k: this.info.shape.k,
        meanThreshold,
      },
      caps,
    );
  }

  private divergence(step: number): DivergenceError {
    return new DivergenceError({
      step,
      lastFiniteStep: this.lastFiniteStep,
      checkpointStep: this.lastCheckpointStep,
      lr: this.info.config.lr,
    });
  }

  /** Save the full state with `status`. */
  private async checkpoint(status: CheckpointStatus): Promise<void> {
    const state = await this.engine.getState();
    // Never store non-finite weights: the last good checkpoint stays the one to resume from.
    if (stateDiverged(state.params)) throw this.divergence(this.step);
    const i = this.info;
    const meta: CheckpointMeta = {
      runId: i.runId,
      datasetId: i.datasetId,
      datasetName: i.datasetName,
      config: i.config,
      dModel: i.shape.dModel,
      dSae: i.shape.dSae,
      step: this.step,
      totalSteps: i.totalSteps,
      tokens: this.step * i.shape.batchSize,
      wallMs: this.wallMs(),
      status,
      savedAt: Date.now(),
      adapter: i.adapter,
      scale: i.scale,
      lastEval: this.lastEval,
    };
    const cp: Checkpoint = {
      meta,
      data: { state, history: { train: this.trainHistory.snapshot(), eval: this.evalHistory.snapshot() } },
    };
    try {
      await this.deps.checkpoints.save(cp);
    } catch (e) {
      if (!isQuotaError(e)) throw e;
      const est = await (this.deps.estimate ?? storageEstimate)();
      throw new StorageFullError({
        what: 'checkpoint',
        neededBytes: checkpointBytes(cp),
        step: this.step,
        ...est,
      });
    }
    this.lastCheckpointStep = this.step;
    this.lastFiniteStep = Math.max(this.lastFiniteStep, this.step);
    this.emit({ type: 'checkpoint', step: this.step, savedAt: meta.savedAt });
  }

  /**
   * Train to the end (or until stopped), then evaluate on the final sample and emit the summary.
   * Errors (a lost device, a missing shard) are emitted as an 'error' event and status 'error'; the last
   * checkpoint stays resumable. @returns the summary, or null after an error.
   */
  async run(): Promise<RunSummary | null> {
    const i = this.info;
    const c = i.config;
    const B = i.shape.batchSize;
    this.emit({ type: 'started', run: i });
    if (this.trainHistory.length > 0 || this.evalHistory.length > 0) {
      this.emit({ type: 'history', train: this.trainHistory.snapshot(), eval: this.evalHistory.snapshot() });
    }
    this.running = true;
    this.segmentStart = this.now();
    this.setStatus('running');
    let lastCheckpointWall = this.wallMs();
    const segmentStartWall = lastCheckpointWall;
    const segmentStartStep = this.step;
    this.lastRate = { wallMs: this.wallMs(), tokens: this.step * B, tokensPerSec: 0 };
    let lastReadback = this.now();
    let lastYield = this.now();
    const every = historyEvery(c.steps);
    const ring = this.engine.recordStats && this.engine.statsRingSlots ? this.engine.statsRingSlots : 0;
    try {
      let nextBatch: Promise<Float32Array> | null = this.step < c.steps ? this.batcher.next() : null;
      while (this.step < c.steps && !this.stopRequested) {
        if (this.now() - lastYield >= YIELD_INTERVAL_MS) {
          await yieldToEventLoop();
          lastYield = this.now();
        }
        if (this.pauseRequested) {
          await this.readback();
          await this.pauseHere();
          if (this.stopRequested) break;
          this.lastRate = { ...this.lastRate, wallMs: this.wallMs(), tokens: this.step * B };
        }
        const x = await (nextBatch as Promise<Float32Array>);
        const t = this.step;
        // Fixed by the config: every `every`-th step and the last; a stopped run also keeps its final step.
        const record = (t + 1) % every === 0 || t === c.steps - 1 || this.stopRequested;
        const hyper = stepHyper(c, t);
        const stepDone = this.engine.step(x, hyper, record && ring === 0);
        nextBatch = t + 1 < c.steps ? this.batcher.next() : null;
        const stats = await stepDone;
        this.step = t + 1;
        if (record) {
          if (ring > 0) this.engine.recordStats?.(this.pending.length);
          this.pending.push({
            step: this.step,
            wallMs: this.wallMs(),
            lr: hyper.lr,
            stats: ring > 0 ? null : stats,
          });
          if (
            (ring > 0 && this.pending.length >= ring) ||
            this.now() - lastReadback >= this.readbackIntervalMs
          ) {
            await this.readback();
            lastReadback = this.now();
          }
        }
        // No periodic evaluation at the last step or when stopping: finish() evaluates there on a bigger sample.
        if (this.step % evalIntervalSteps(c) === 0 && this.step < c.steps && !this.stopRequested) {
          await this.readback();
          const { m } = await this.evaluate(await this.periodicSample());
          const warnings = this.collapseWarnings(m, null);
          if (warnings.length > 0) this.emit({ type: 'warnings', step: this.step, warnings });
        }
        // The first checkpoint comes early (a reload in the first seconds loses little), then every interval.
        const firstDue =
          this.lastCheckpointStep === null &&
          (this.wallMs() - segmentStartWall >= FIRST_CHECKPOINT_MS ||
            this.step - segmentStartStep >= FIRST_CHECKPOINT_STEPS);
        if (firstDue || this.wallMs() - lastCheckpointWall >= c.checkpointIntervalSec * 1000) {
          // A divergence in the unread steps surfaces here, before anything is saved.
          await this.readback();
          // Out of quota: report it and pause (the pause retries the save) instead of failing the run.
          if (!(await this.checkpointOrReport('running'))) this.pauseRequested = true;
          lastCheckpointWall = this.wallMs();
        }
      }
      // A batch prefetched for a step that will not run must not surface as an unhandled rejection.
      nextBatch?.catch(() => undefined);
      await this.readback();
      return await this.finish();
    } catch (e) {
      this.pending = [];
      this.wallMsBefore = this.wallMs();
      this.running = false;
      this.releasePauseWaiters();
      this.setStatus('error');
      const divergence = e instanceof DivergenceError ? e.divergence : undefined;
      this.emit({ type: 'error', message: errorText(e), step: this.step, divergence });
      return null;
    }
  }

  /**
   * {@link checkpoint}, but a full storage is reported as a 'storage-full' event instead of thrown.
   * @returns false when the checkpoint could not be stored for lack of space.
   */
  private async checkpointOrReport(status: CheckpointStatus): Promise<boolean> {
    try {
      await this.checkpoint(status);
      return true;
    } catch (e) {
      if (!(e instanceof StorageFullError)) throw e;
      this.emit({ type: 'storage-full', report: e.report });
      return false;
    }
  }

  /**
   * Turn the recorded steps into {@link TrainPoint}s (one batched readback of the engine's stats ring, or the stats
   * the steps returned), append them to the history and emit them. tokensPerSec is smoothed over recorded steps.
   * @throws DivergenceError at the first recorded step whose statistics carry the non-finite flag.
   */
  private async readback(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const read = batch[0].stats === null ? await this.engine.readRecordedStats?.(batch.length) : null;
    const { dModel, dSae, batchSize: B } = this.info.shape;
    batch.forEach((r, j) => {
      const stats = r.stats ?? read?.[j];
      if (!stats) throw new Error(`Trainer: the engine returned no statistics for step ${r.step}`);
      // The engine's non-finite flag is sticky: the first recorded step that carries it is where the run diverged.
      if (statsDiverged(stats)) throw this.divergence(r.step);
      this.lastFiniteStep = Math.max(this.lastFiniteStep, r.step);
      this.lastStats = stats;
      const tokens = r.step * B;
      const dt = r.wallMs - this.lastRate.wallMs;
      let tokensPerSec = this.lastRate.tokensPerSec;
      if (dt > 0) {
        const rate = ((tokens - this.lastRate.tokens) * 1000) / dt;
        tokensPerSec = tokensPerSec === 0 ? rate : 0.7 * tokensPerSec + 0.3 * rate;
        this.lastRate = { wallMs: r.wallMs, tokens, tokensPerSec };
      }
      const point: TrainPoint = {
        step: r.step,
        tokens,
        wallMs: r.wallMs,
        lr: r.lr,
        ...stepMetrics(stats, dModel, dSae),
        tokensPerSec,
      };
      this.trainHistory.push(point);
      this.emit({ type: 'metrics', point });
    });
  }

  /** Checkpoint, report 'paused', wait for resume() or stop(). */
  private async pauseHere(): Promise<void> {
    this.wallMsBefore = this.wallMs();
    this.running = false;
    await this.checkpointOrReport('paused');
    await this.waitWhilePaused();
    if (!this.stopRequested) this.setStatus('running');
  }

  /** Report 'paused' and wait for resume() or stop(); the paused time does not count as training time. */
  private async waitWhilePaused(): Promise<void> {
    this.wallMsBefore = this.wallMs();
    this.running = false;
    this.setStatus('paused');
    this.releasePauseWaiters();
    while (this.pauseRequested && !this.stopRequested) {
      await new Promise<void>((res) => {
        this.wake = res;
      });
      this.wake = null;
    }
    this.running = true;
    this.segmentStart = this.now();
  }

  /** Final evaluation, diagnostics, 'done'/'stopped' checkpoint and summary. */
  private async finish(): Promise<RunSummary> {
    const i = this.info;
    const final = await this.batcher.heldOut(Math.max(i.config.evalTokens, FINAL_SAMPLE_TOKENS));
    const { m, fireCounts } = await this.evaluate(final);
    const state = await this.engine.getState();
    if (stateDiverged(state.params)) throw this.divergence(this.step);
    const meanThreshold = state.params.threshold
      ? state.params.threshold.reduce((a, b) => a + b, 0) / state.params.threshold.length
      : null;
    this.wallMsBefore = this.wallMs();
    this.running = false;
    const stoppedEarly = this.step < i.totalSteps;
    const wallMs = this.wallMsBefore;
    const tokens = this.step * i.shape.batchSize;
    const summary: RunSummary = {
      runId: i.runId,
      steps: this.step,
      totalSteps: i.totalSteps,
      stoppedEarly,
      wallMs,
      tokens,
      tokensPerSec: wallMs > 0 ? (tokens * 1000) / wallMs : 0,
      dModel: i.shape.dModel,
      dSae: i.shape.dSae,
      k: i.shape.k,
      architecture: i.config.architecture,
      meanThreshold,
      lastTrain: this.trainHistory.last,
      heldOut: m,
      sampleTokens: final.rows,
      deadInWindow: this.lastStats ? this.lastStats.deadCount : 0,
      deadWindowSteps: i.deadWindowSteps,
      deadWindowTokens: i.deadWindowSteps * i.shape.batchSize,
      deadInSample: Math.round(m.deadFraction * i.shape.dSae),
      firingRates: sortedFiringRates(fireCounts, final.rows),
      decoderRowNorms: decoderRowNorms(state.params.wDec, i.shape.dSae, i.shape.dModel),
      scale: i.scale,
      warnings: mergeWarnings([], this.collapseWarnings(m, meanThreshold)),
    };
    // A full storage must not lose the finished weights: pause (the storage banner says what to free) and save again
    // on Resume. Stop gives up the save.
    while (!(await this.checkpointOrReport(stoppedEarly ? 'stopped' : 'done')) && !this.stopRequested) {
      this.pauseRequested = true;
      await this.waitWhilePaused();
    }
    this.releasePauseWaiters();
    this.setStatus(stoppedEarly ? 'stopped' : 'done');
    this.emit({ type: 'summary', summary });
    return summary;
  }

  /** The trained parameters (training space; see src/export/saelens.ts for folding the scale). */
  async params(): Promise<SaeParams> {
    return (await this.engine.getState()).params;
  }

  /** Free the engine's buffers. */
  dispose(): void {
    this.engine.destroy();
  }
}

export { errorText };
