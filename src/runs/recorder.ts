/**
 * Records a run into the {@link RunLibrary} from the trainer's events (in the lab worker, next to the trainer).
 * It keeps its own copy of the metric history (the same fixed-step points the trainer keeps, src/train/history.ts)
 * and writes: the meta when the run starts or changes status, and the history (with the summary once there is
 * one) at every checkpoint and when the run pauses, fails or ends — so a reload finds every run with its curves
 * as far as its last checkpoint.
 * Writes are queued in order; a failed write is reported once to `onError` and never stops the run.
 */
import type { CheckpointStore } from '../train/checkpoint';
import { EVAL_FIELDS, SeriesTable, TRAIN_FIELDS } from '../train/history';
import type { RunSummary, TrainEvent } from '../train/trainer';
import { HISTORY_CAPACITY } from '../train/trainer';
import type { DatasetRef } from './dataset-ref';
import { approxBytes, defaultRunName, newRunMeta, type RunLibrary, type RunMeta } from './library';

/** The part of the {@link RunLibrary} the recorder writes through. */
export type RunSink = Pick<RunLibrary, 'meta' | 'get' | 'put'>;

/** What the recorder needs. */
export interface RecorderDeps {
  library: RunSink;
  checkpoints: CheckpointStore;
  /** The dataset reference of the run (null when the dataset has no fingerprint). */
  dataset: DatasetRef | null;
  /** Called once per failed write (e.g. storage full). */
  onError?: (message: string) => void;
}

/** One run's recorder; feed it every {@link TrainEvent} of the run. */
export class RunRecorder {
  private meta: RunMeta | null = null;
  private readonly train = new SeriesTable(TRAIN_FIELDS, HISTORY_CAPACITY);
  private readonly evals = new SeriesTable(EVAL_FIELDS, HISTORY_CAPACITY);
  private queue: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(private readonly deps: RecorderDeps) {}

  /** Resolves when every write queued so far is done. */
  flushed(): Promise<void> {
    return this.queue;
  }

  private write(withData: boolean, summary: RunSummary | null = null): void {
    if (!this.meta) return;
    const data = withData
      ? { history: { train: this.train.snapshot(), eval: this.evals.snapshot() }, summary }
      : undefined;
    this.queue = this.queue.then(async () => {
      if (!this.meta) return;
      const snapshot = { ...this.meta };
      try {
        if (!data) {
          const prev = await this.deps.library.meta(snapshot.id);
          snapshot.bytes = prev?.bytes ?? 0;
          snapshot.name = prev?.name ?? snapshot.name;
        } else {
          const prev = await this.deps.library.meta(snapshot.id);
          snapshot.name = prev?.name ?? snapshot.name;
          if (!data.summary && prev) {
            const old = await this.deps.library.get(snapshot.id);
            data.summary = old?.data.summary ?? null;
          }
        }
        await this.deps.library.put(snapshot, data);
      } catch (e) {
        if (!this.failed)
          this.deps.onError?.(`The run library could not be updated: ${(e as Error).message}`);
        this.failed = true;
      }
    });
  }

  /**
   * The run's final patched-CE evaluation (src/worker/behaviour-tap.ts): its CE-loss score goes into the run's meta
   * (the Runs table's column). Live points are ignored. Never throws.
   */
  onBehaviour(point: { final: boolean; metrics: { ceLossScore: { value: number } } }): void {
    if (!point.final || !this.meta) return;
    const v = point.metrics.ceLossScore.value;
    this.meta.ceLossScore = Number.isFinite(v) ? v : null;
    this.write(false);
  }

  /** Route one trainer event. Never throws. */
  onEvent(e: TrainEvent): void {
    switch (e.type) {
      case 'started': {
        const i = e.run;
        if (i.startStep === 0 || !this.meta) {
          this.meta = newRunMeta({
            id: i.runId,
            name: defaultRunName(i.config, i.shape.dSae),
            createdAt: Date.now(),
            finishedAt: null,
            status: 'running',
            config: i.config,
            info: i,
            dataset: this.deps.dataset,
            steps: i.startStep,
            totalSteps: i.totalSteps,
          });
          if (i.startStep > 0) {
            // A resumed run keeps its creation time and name from the library.
            const id = i.runId;
            this.queue = this.queue.then(async () => {
              const prev = await this.deps.library.meta(id).catch(() => undefined);
              if (prev && this.meta) {
                this.meta.createdAt = prev.createdAt;
                this.meta.name = prev.name;
              }
            });
          }
        }
        this.write(false);
        break;
      }
      case 'history':
        this.train.restore(e.train);
        this.evals.restore(e.eval);
        break;
      case 'metrics':
        this.train.push(e.point);
        if (this.meta) this.meta.steps = e.point.step;
        break;
      case 'eval':
        this.evals.push(e.point);
        break;
      case 'status':
        if (!this.meta) break;
        this.meta.status = e.status;
        this.meta.steps = e.step;
        // 'done' / 'stopped' are written with the summary, which follows.
        if (e.status === 'paused' || e.status === 'error') this.write(true);
        else if (e.status === 'running') this.write(false);
        break;
      case 'summary': {
        if (!this.meta) break;
        const s = e.summary;
        const m = this.meta;
        m.finishedAt = Date.now();
        m.steps = s.steps;
        m.heldOutEv = s.heldOut.explainedVariance;
        m.fvu = s.heldOut.fvu;
        m.l0 = s.heldOut.l0;
        m.deadFraction = s.heldOut.deadFraction;
        const id = m.id;
        this.queue = this.queue.then(async () => {
          const cp = await this.deps.checkpoints.load(id).catch(() => null);
          if (cp && this.meta) this.meta.weightsBytes = approxBytes(cp.data.state) + approxBytes(cp.meta);
        });
        this.write(true, s);
        break;
      }
      case 'checkpoint':
        // The history so far goes with every checkpoint, so a crashed run still opens with its curves.
        this.write(true);
        break;
      case 'error':
        if (this.meta) this.meta.status = 'error';
        break;
      default:
        break;
    }
  }
}
