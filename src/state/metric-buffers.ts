/**
 * Metric history on the UI side, OUTSIDE React: the worker's points land in two {@link SeriesTable}s and the
 * charts subscribe here (zustand docs, "transient updates"), so a point never re-renders a component. Charts
 * coalesce notifications into at most one uPlot.setData per animation frame (src/ui/LiveChart.tsx).
 */
import {
  EVAL_FIELDS,
  type EvalPoint,
  type SeriesSnapshot,
  SeriesTable,
  TRAIN_FIELDS,
  type TrainPoint,
} from '../train/history';

/** Points kept per table before thinning (same as the trainer's history). */
const CAPACITY = 4096;

type Listener = () => void;

/** The two tables and their subscribers. */
export class MetricBuffers {
  readonly train = new SeriesTable(TRAIN_FIELDS, CAPACITY);
  readonly eval = new SeriesTable(EVAL_FIELDS, CAPACITY);
  /** Incremented on every change; charts compare it to what they last drew. */
  version = 0;
  private readonly listeners = new Set<Listener>();

  /** Call `l` after every change. @returns unsubscribe. */
  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  /** Append a sampled training step. */
  pushTrain(p: TrainPoint): void {
    this.train.push(p);
    this.changed();
  }

  /** Append a held-out evaluation. */
  pushEval(p: EvalPoint): void {
    this.eval.push(p);
    this.changed();
  }

  /** Replace both tables (a resumed run's history). */
  restore(train: SeriesSnapshot, evalHistory: SeriesSnapshot): void {
    this.train.restore(train);
    this.eval.restore(evalHistory);
    this.changed();
  }

  /** Forget everything (a new run). */
  clear(): void {
    this.train.clear();
    this.eval.clear();
    this.changed();
  }
}

/** The page's metric buffers. */
export const metricBuffers = new MetricBuffers();
