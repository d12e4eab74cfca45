/**
 * Run checkpoints: the full SAE state (params, Adam moments, t, dead-latent counters), the config, the step,
 * and the metric history, so that a run resumed after a reload or a crash continues the same curves.
 *
 * Stored in IndexedDB through idb-keyval in its own database ("sae-lab-checkpoints", store "runs"), one run per
 * id, two keys per run: `meta/<id>` (small, listed without loading the weights) and `data/<id>` (state and
 * history; typed arrays are stored as-is by the structured clone). `setMany` writes both in one transaction.
 */
import { createStore, delMany, getMany, keys, setMany, type UseStore } from 'idb-keyval';
import type { SaeState } from '../sae/types';
import type { TrainConfig } from './config';
import type { EvalPoint, SeriesSnapshot } from './history';

/** Where a checkpointed run stands. 'running' = saved periodically by a run that may since have crashed. */
export type CheckpointStatus = 'running' | 'paused' | 'stopped' | 'done';

/** What the run list shows about a checkpoint (no weights). Plain data. */
export interface CheckpointMeta {
  /** Run id. */
  runId: string;
  /** Dataset the run trains on, and its display name at start. */
  datasetId: string;
  datasetName: string;
  /** The validated config (dSae may be null: resolved size is in dSae below). */
  config: TrainConfig;
  /** d_model and resolved d_sae. */
  dModel: number;
  dSae: number;
  /** Steps completed when saved. */
  step: number;
  /** Steps of the full run (config.steps). */
  totalSteps: number;
  /** Tokens trained on when saved. */
  tokens: number;
  /** Training wall time in ms when saved (pauses excluded). */
  wallMs: number;
  status: CheckpointStatus;
  /** Save time, ms since the epoch. */
  savedAt: number;
  /** Adapter the run was last trained on (one line). */
  adapter: string;
  /** Activation normalisation factor applied to the rows (1 = none). */
  scale: number;
  /** The last held-out evaluation, if any. */
  lastEval: EvalPoint | null;
}

/** The heavy part of a checkpoint. */
export interface CheckpointData {
  state: SaeState;
  /** Training-step history and held-out evaluation history. */
  history: { train: SeriesSnapshot; eval: SeriesSnapshot };
}

/** A full checkpoint. */
export interface Checkpoint {
  meta: CheckpointMeta;
  data: CheckpointData;
}

/** Persistence of checkpoints. */
export interface CheckpointStore {
  /** Write (replace) the checkpoint of `cp.meta.runId`. */
  save(cp: Checkpoint): Promise<void>;
  /** The checkpoint of a run, or null. */
  load(runId: string): Promise<Checkpoint | null>;
  /** Every run's meta, most recently saved first. */
  list(): Promise<CheckpointMeta[]>;
  /** Delete a run's checkpoint (no-op when absent). */
  remove(runId: string): Promise<void>;
}

/** {@link CheckpointStore} on IndexedDB (idb-keyval, own database). The database is opened on first use. */
export class IdbCheckpointStore implements CheckpointStore {
  private store: UseStore | null = null;

  constructor(
    private readonly dbName = 'sae-lab-checkpoints',
    private readonly storeName = 'runs',
  ) {}

  private db(): UseStore {
    if (typeof indexedDB === 'undefined') {
      throw new Error('Checkpoints need IndexedDB, which this context does not provide.');
    }
    this.store ??= createStore(this.dbName, this.storeName);
    return this.store;
  }

  async save(cp: Checkpoint): Promise<void> {
    await setMany(
      [
        [`data/${cp.meta.runId}`, cp.data],
        [`meta/${cp.meta.runId}`, cp.meta],
      ],
      this.db(),
    );
  }

  async load(runId: string): Promise<Checkpoint | null> {
    const [meta, data] = await getMany<unknown>([`meta/${runId}`, `data/${runId}`], this.db());
    if (!meta || !data) return null;
    return { meta: meta as CheckpointMeta, data: data as CheckpointData };
  }

  async list(): Promise<CheckpointMeta[]> {
    const ks = (await keys<string>(this.db())).filter((k) => k.startsWith('meta/'));
    const metas = (await getMany<CheckpointMeta>(ks, this.db())).filter((m): m is CheckpointMeta => !!m);
    return metas.sort((a, b) => b.savedAt - a.savedAt);
  }

  async remove(runId: string): Promise<void> {
    await delMany([`meta/${runId}`, `data/${runId}`], this.db());
  }
}

/**
 * {@link CheckpointStore} in memory (structured-cloned on save and load, like IndexedDB would). For unit tests
 * and for contexts without IndexedDB; lost with the page.
 */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly runs = new Map<string, Checkpoint>();

  async save(cp: Checkpoint): Promise<void> {
    this.runs.set(cp.meta.runId, structuredClone(cp));
  }

  async load(runId: string): Promise<Checkpoint | null> {
    const cp = this.runs.get(runId);
    return cp ? structuredClone(cp) : null;
  }

  async list(): Promise<CheckpointMeta[]> {
    return [...this.runs.values()].map((c) => structuredClone(c.meta)).sort((a, b) => b.savedAt - a.savedAt);
  }

  async remove(runId: string): Promise<void> {
    this.runs.delete(runId);
  }
}
