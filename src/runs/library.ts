/**
 * The run library: every run the lab trains, kept in IndexedDB (database "sae-lab-runs", store "runs") so it
 * survives reloads and can be listed, opened, compared, renamed, exported and deleted.
 *
 * Two keys per run, like the checkpoint store: `meta/<id>` ({@link RunMeta}: small, what the Runs table lists)
 * and `data/<id>` ({@link RunData}: the full metric history and the end-of-run summary with its diagnostics).
 * The SAE weights are NOT duplicated here: they are the run's checkpoint (src/train/checkpoint.ts, owned by the
 * trainer), which holds the last state while the run is unfinished and the final weights once it is done.
 * Deleting a run deletes both its keys here and its checkpoint.
 *
 * Works in the page and in workers (idb-keyval); every change is announced on the BroadcastChannel
 * {@link RUNS_CHANNEL}, so the Runs panel follows what the worker records.
 */
import { createStore, delMany, getMany, keys, setMany, type UseStore } from 'idb-keyval';
import { deleteFeatures } from '../features/store';
import type { CheckpointStore } from '../train/checkpoint';
import { sparsityCoeff, type TrainConfig } from '../train/config';
import type { SeriesSnapshot } from '../train/history';
import type { RunInfo, RunStatus, RunSummary } from '../train/trainer';
import type { DatasetRef } from './dataset-ref';
import { APP_VERSION } from './version';

/** IndexedDB names and the change channel. */
export const RUNS_DB = 'sae-lab-runs';
export const RUNS_STORE = 'runs';
export const RUNS_CHANNEL = 'sae-lab-runs';

/** What the Runs table shows about one run (no history, no weights). Plain data. */
export interface RunMeta {
  id: string;
  /** Display name (editable); default from {@link defaultRunName}. */
  name: string;
  /** Start of the run and end of training (null while unfinished), ms since the epoch. */
  createdAt: number;
  finishedAt: number | null;
  status: RunStatus;
  /** The validated config (architecture and seed included). */
  config: TrainConfig;
  /** What the trainer reported at the start: shape, split, scale, adapter. */
  info: RunInfo;
  /** Portable reference of the dataset (null for a dataset without a fingerprint). */
  dataset: DatasetRef | null;
  /** App version that trained the run. */
  appVersion: string;
  /** Steps done (last recorded) and planned. */
  steps: number;
  totalSteps: number;
  /** End-of-run held-out metrics (null until the summary). */
  heldOutEv: number | null;
  fvu: number | null;
  l0: number | null;
  /** Held-out dead fraction (latents firing on none of the final sample's tokens). */
  deadFraction: number | null;
  /** Patched CE-loss score when an evaluation provided one (not computed by the trainer). */
  ceLossScore: number | null;
  /** Bytes of this run's library entry (history + summary) and of its checkpoint (weights), measured. */
  bytes: number;
  weightsBytes: number;
  /** Set for an SAE imported from files (src/saes/): never trained here, so no curves. */
  imported?: ImportedRun;
  /** Bytes of the run's stored feature pass (src/features/store.ts), when one was computed. */
  featuresBytes?: number;
}

/** Where an imported SAE came from (src/saes/store.ts). Plain data. */
export interface ImportedRun {
  /** 'saelens' | 'sparsify' | 'gemma-scope'. */
  format: string;
  /** The files read, as the user named them. */
  files: string[];
  /** Model and hook from the files, when they say. */
  modelName: string | null;
  hookName: string | null;
  /** What the import changed or assumed (folded biases, broadcast thresholds). */
  notes: string[];
}

/** The heavy part of a run. */
export interface RunData {
  history: { train: SeriesSnapshot; eval: SeriesSnapshot };
  summary: RunSummary | null;
}

/** A full run record. */
export interface RunRecord {
  meta: RunMeta;
  data: RunData;
}

/**
 * Default name of a run: `<architecture>-<k or λ>-<d_sae>-s<seed>`, e.g. `topk-k8-512-s42`; the sparsity part is
 * `l<λ>` for architectures with a sparsity coefficient (λ > 0), `k<k>` otherwise.
 */
export function defaultRunName(c: TrainConfig, dSae: number): string {
  return `${c.architecture}-${sparsityLabel(c, '')}-${dSae}-s${c.seed}`;
}

/** `k8` or `λ0.3` (sep between letter and value): the config's sparsity knob. */
export function sparsityLabel(c: TrainConfig, sep = ' = '): string {
  const lambda = sparsityCoeff({ ...c, sparsityWarmupSteps: 0 }, 0);
  return lambda > 0 ? `${sep ? 'λ' : 'l'}${sep}${lambda}` : `k${sep}${c.k}`;
}

/** Bytes of structured-clone data, counted as typed-array bytes + 8 per number + 2 per string character. */
export function approxBytes(x: unknown): number {
  if (x === null || x === undefined) return 0;
  if (ArrayBuffer.isView(x)) return x.byteLength;
  if (typeof x === 'number') return 8;
  if (typeof x === 'string') return 2 * x.length;
  if (typeof x === 'boolean') return 4;
  if (Array.isArray(x)) return x.reduce((a: number, v) => a + approxBytes(v), 0);
  if (typeof x === 'object')
    return Object.entries(x).reduce((a, [k, v]) => a + 2 * k.length + approxBytes(v), 0);
  return 0;
}

function announce(): void {
  if (typeof BroadcastChannel === 'undefined') return;
  const ch = new BroadcastChannel(RUNS_CHANNEL);
  ch.postMessage('changed');
  ch.close();
}

/** Call `cb` whenever a run is added, updated or deleted (any context). @returns a function that stops it. */
export function subscribeRuns(cb: () => void): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => {};
  const ch = new BroadcastChannel(RUNS_CHANNEL);
  ch.onmessage = () => cb();
  return () => ch.close();
}

/** The run library over IndexedDB. The database is opened on first use. */
export class RunLibrary {
  private store: UseStore | null = null;

  /** @param checkpoints where the runs' weights live (deleted with the run). */
  constructor(
    private readonly checkpoints: CheckpointStore,
    private readonly dbName = RUNS_DB,
  ) {}

  private db(): UseStore {
    if (typeof indexedDB === 'undefined') throw new Error('The run library needs IndexedDB.');
    this.store ??= createStore(this.dbName, RUNS_STORE);
    return this.store;
  }

  /** Every run's meta, newest first. */
  async list(): Promise<RunMeta[]> {
    const ks = (await keys<string>(this.db())).filter((k) => k.startsWith('meta/'));
    const metas = (await getMany<RunMeta>(ks, this.db())).filter((m): m is RunMeta => !!m);
    return metas.sort((a, b) => b.createdAt - a.createdAt);
  }

  /** One run's meta, or undefined. */
  async meta(id: string): Promise<RunMeta | undefined> {
    const [m] = await getMany<RunMeta>([`meta/${id}`], this.db());
    return m ?? undefined;
  }

  /** A full record, or null when the run is not in the library. */
  async get(id: string): Promise<RunRecord | null> {
    const [meta, data] = await getMany<unknown>([`meta/${id}`, `data/${id}`], this.db());
    if (!meta) return null;
    return {
      meta: meta as RunMeta,
      data: (data as RunData | undefined) ?? { history: emptyHistory(), summary: null },
    };
  }

  /** Write a meta, and the data when given (one transaction); `bytes` is set from what is written. */
  async put(meta: RunMeta, data?: RunData): Promise<void> {
    const m = { ...meta };
    const entries: [string, unknown][] = [];
    if (data) {
      m.bytes = approxBytes(data) + approxBytes({ ...m, bytes: 0 });
      entries.push([`data/${m.id}`, data]);
    }
    entries.push([`meta/${m.id}`, m]);
    await setMany(entries, this.db());
    announce();
  }

  /** Rename a run. @throws Error when the name is empty or longer than 200 characters, or the run is missing. */
  async rename(id: string, name: string): Promise<RunMeta> {
    const n = name.trim();
    if (n.length === 0 || n.length > 200) throw new Error('A run name must have 1 to 200 characters.');
    const m = await this.meta(id);
    if (!m) throw new Error(`Run "${id}" is not in the library.`);
    const out = { ...m, name: n };
    await setMany([[`meta/${id}`, out]], this.db());
    announce();
    return out;
  }

  /** Delete a run: its library keys, its checkpoint (weights) and its stored feature pass. */
  async delete(id: string): Promise<void> {
    await delMany([`meta/${id}`, `data/${id}`], this.db());
    await this.checkpoints.remove(id);
    await deleteFeatures(id);
    announce();
  }

  /** Every key of the library database (tests check that delete frees them). */
  async allKeys(): Promise<string[]> {
    return (await keys<string>(this.db())).map(String);
  }
}

/** An empty history snapshot pair. */
export function emptyHistory(): RunData['history'] {
  const empty = (): SeriesSnapshot => ({ fields: [], columns: [], stride: 1, offered: 0 });
  return { train: empty(), eval: empty() };
}

/** The fields of a {@link RunMeta} that {@link newRunMeta} fills. */
type ResultFields = 'appVersion' | 'heldOutEv' | 'fvu' | 'l0' | 'deadFraction' | 'ceLossScore' | 'bytes';

/**
 * The meta of a run that has no results yet: this app's version, every end-of-run metric null, 0 bytes (put() sets
 * the library bytes). The caller gives the rest; weightsBytes defaults to 0.
 */
export function newRunMeta(
  fields: Omit<RunMeta, ResultFields | 'weightsBytes'> & Partial<Pick<RunMeta, 'weightsBytes'>>,
): RunMeta {
  return {
    appVersion: APP_VERSION,
    heldOutEv: null,
    fvu: null,
    l0: null,
    deadFraction: null,
    ceLossScore: null,
    bytes: 0,
    weightsBytes: 0,
    ...fields,
  };
}
