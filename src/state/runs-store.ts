/**
 * The Runs panel's state (zustand): the run library listing, sorting, selection, comparison, opening a stored
 * run, exports, and share links (copying a link, opening a `#run=…` link, reproducing it, checking a dropped
 * dataset's fingerprint). The library itself is src/runs/library.ts; the worker records runs into it.
 */
import { create } from 'zustand';
import { fingerprintSource } from '../data/fingerprint';
import { startImport } from '../data/import-client';
import { deleteDataset, openDataset } from '../data/store';
import type { DatasetManifest } from '../data/types';
import { SAELENS_CFG_FILE, SAELENS_WEIGHTS_FILE } from '../export/saelens';
import { type DatasetRef, datasetRefOf, describeRef, findDataset } from '../runs/dataset-ref';
import { historyCsv, historyJson, libraryCsv } from '../runs/exports';
import {
  RunLibrary as Library,
  type RunLibrary,
  type RunMeta,
  type RunRecord,
  subscribeRuns,
} from '../runs/library';
import { runReport } from '../runs/report';
import { saeLensScript } from '../runs/saelens-script';
import { decodeShareFragment, isShareFragment, type SharedRun, shareUrl } from '../runs/share';
import { IdbCheckpointStore } from '../train/checkpoint';
import type { TrainConfig } from '../train/config';
import { labWorker } from '../worker/client';
import { configToForm } from './config-form';
import { downloadFile } from './download';
import { useLab } from './lab-store';
import { metricBuffers } from './metric-buffers';

/** Columns the Runs table sorts by. */
export type RunSortKey =
  | 'name'
  | 'createdAt'
  | 'architecture'
  | 'dSae'
  | 'sparsity'
  | 'steps'
  | 'heldOutEv'
  | 'fvu'
  | 'l0'
  | 'deadFraction'
  | 'ceLossScore'
  | 'status'
  | 'size';

/** Most runs compared at once. */
export const MAX_COMPARE = 8;

export interface RunsState {
  runs: RunMeta[];
  sort: { key: RunSortKey; desc: boolean };
  /** Selected run ids (for comparison), in selection order. */
  selected: string[];
  /** The runs being compared (2–8), or null. */
  compare: RunRecord[] | null;
  /** Id of the stored run shown in the charts and summary, or null. */
  opened: string | null;
  error: string | null;
  /** A share link opened in this page (validated), and the stored dataset it matches (null: missing). */
  shared: SharedRun | null;
  sharedDatasetId: string | null;
  /** Why the link in the URL could not be opened (the page state was left alone). */
  shareError: string | null;
  /** Checking a dropped file against the link's dataset: progress text, or the refusal. */
  dropStatus: string | null;
  dropError: string | null;
}

export interface RunsActions {
  /** List the library and follow its changes; open the URL's share link. Call once, after the lab's init. */
  init(): Promise<void>;
  refresh(): Promise<void>;
  setSort(key: RunSortKey): void;
  toggleSelect(id: string): void;
  rename(id: string, name: string): Promise<void>;
  remove(id: string): Promise<void>;
  /** Show a stored run's curves and summary as at the end of its training. */
  open(id: string): Promise<void>;
  compareSelected(): Promise<void>;
  closeCompare(): void;
  exportReport(id: string): Promise<void>;
  exportHistory(id: string, format: 'csv' | 'json'): Promise<void>;
  exportScript(id: string): Promise<void>;
  exportLibrary(): void;
  /** Download a run's SAE in SAELens's layout (cfg.json + sae_weights.safetensors) from its checkpoint. */
  exportWeights(id: string): Promise<void>;
  /** The share link of a stored run. @throws when its dataset has no reference. */
  linkForRun(id: string): Promise<string>;
  /** Copy a link to the clipboard (best effort) and return it. */
  copyLink(link: string): Promise<string>;
  /** Open a `#run=…` fragment: validate, fill the form, find the dataset. Bad links set shareError only. */
  openFragment(hash: string): Promise<void>;
  /** Start the shared run (its dataset must be present; the demo is fetched when needed). */
  reproduce(): Promise<void>;
  /** Import a dropped file as the shared run's dataset; refuse (and delete it) when its fingerprint differs. */
  dropDataset(file: File): Promise<void>;
  dismissShare(): void;
}

let library: RunLibrary | null = null;
/** The page's run library (same database the worker records into). */
export function runLibrary(): RunLibrary {
  library ??= new Library(new IdbCheckpointStore());
  return library;
}

const fingerprints = new Map<string, Promise<string>>();
/** The reference of a stored dataset, computing (once per page) a missing fingerprint. */
export async function refOfDataset(m: DatasetManifest): Promise<DatasetRef> {
  const direct = datasetRefOf(m);
  if (direct) return direct;
  let p = fingerprints.get(m.id);
  if (!p) {
    p = openDataset(m.id).then(fingerprintSource);
    fingerprints.set(m.id, p);
  }
  return datasetRefOf(m, await p) as DatasetRef;
}

/** The page URL without its fragment. */
function pageBase(): string {
  return globalThis.location.href.split('#')[0];
}

/** The share link of a config on a stored dataset. */
export async function linkFor(config: TrainConfig, m: DatasetManifest): Promise<string> {
  return shareUrl(pageBase(), { config, dataset: await refOfDataset(m) });
}

function sortValue(m: RunMeta, key: RunSortKey): number | string {
  switch (key) {
    case 'name':
      return m.name.toLowerCase();
    case 'architecture':
      return m.config.architecture;
    case 'dSae':
      return m.info.shape.dSae;
    case 'sparsity':
      return m.config.k;
    case 'size':
      return m.bytes + m.weightsBytes;
    case 'status':
      return m.status;
    default:
      return (m[key] as number | null) ?? Number.NEGATIVE_INFINITY;
  }
}

/** Runs in table order. */
export function sortedRuns(runs: RunMeta[], sort: RunsState['sort']): RunMeta[] {
  const dir = sort.desc ? -1 : 1;
  return [...runs].sort((a, b) => {
    const x = sortValue(a, sort.key);
    const y = sortValue(b, sort.key);
    return (x < y ? -1 : x > y ? 1 : 0) * dir;
  });
}

function fileBase(m: RunMeta): string {
  return m.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || m.id;
}

function labBusy(): boolean {
  const s = useLab.getState().status;
  return s === 'running' || s === 'paused' || s === 'starting';
}

/** The Runs store. */
export const useRuns = create<RunsState & RunsActions>()((set, get) => {
  const guard = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      set({ error: `${what}: ${(e as Error).message}` });
    }
  };
  const load = async (id: string): Promise<RunRecord> => {
    const r = await runLibrary().get(id);
    if (!r) throw new Error(`run "${id}" is no longer in the library`);
    return r;
  };
  const datasetMatch = (ref: DatasetRef): string | null => {
    const ds = useLab.getState().datasets;
    return findDataset(ref, ds)?.id ?? null;
  };
  return {
    runs: [],
    sort: { key: 'createdAt', desc: true },
    selected: [],
    compare: null,
    opened: null,
    error: null,
    shared: null,
    sharedDatasetId: null,
    shareError: null,
    dropStatus: null,
    dropError: null,

    async init() {
      subscribeRuns(() => void get().refresh());
      await get().refresh();
      const hash = globalThis.location?.hash ?? '';
      if (isShareFragment(hash)) await get().openFragment(hash);
      globalThis.addEventListener?.('hashchange', () => {
        if (isShareFragment(globalThis.location.hash)) void get().openFragment(globalThis.location.hash);
      });
    },
    async refresh() {
      try {
        const runs = await runLibrary().list();
        set((s) => ({ runs, selected: s.selected.filter((id) => runs.some((r) => r.id === id)) }));
      } catch (e) {
        set({ error: `The run library could not be read: ${(e as Error).message}` });
      }
    },
    setSort(key) {
      set((s) => ({ sort: { key, desc: s.sort.key === key ? !s.sort.desc : key !== 'name' } }));
    },
    toggleSelect(id) {
      set((s) => ({
        selected: s.selected.includes(id) ? s.selected.filter((x) => x !== id) : [...s.selected, id],
      }));
    },
    rename: (id, name) =>
      guard('Rename failed', async () => {
        await runLibrary().rename(id, name);
        await get().refresh();
      }),
    remove: (id) =>
      guard('Delete failed', async () => {
        if (labBusy() && useLab.getState().run?.runId === id)
          throw new Error('the run is training; stop it first');
        await runLibrary().delete(id);
        set((s) => ({
          opened: s.opened === id ? null : s.opened,
          compare: s.compare?.some((r) => r.meta.id === id) ? null : s.compare,
        }));
        await get().refresh();
        await useLab.getState().refreshCheckpoints();
      }),
    open: (id) =>
      guard('Open failed', async () => {
        if (labBusy()) throw new Error('a run is training; stop it before opening another');
        const r = await load(id);
        metricBuffers.restore(r.data.history.train, r.data.history.eval);
        const last = metricBuffers.train.last;
        const status = r.meta.status === 'running' || r.meta.status === 'paused' ? 'stopped' : r.meta.status;
        useLab.setState({
          run: r.meta.info,
          summary: r.data.summary,
          status,
          error: null,
          lastTrain: last,
          lastEval: metricBuffers.eval.last,
          progress: {
            step: r.meta.steps,
            tokens: r.meta.steps * r.meta.config.batchSize,
            tokensPerSec: last?.tokensPerSec ?? 0,
            wallMs: last?.wallMs ?? 0,
          },
        });
        set({ opened: id, error: null });
      }),
    compareSelected: () =>
      guard('Compare failed', async () => {
        const ids = get().selected;
        if (ids.length < 2 || ids.length > MAX_COMPARE)
          throw new Error(`select 2 to ${MAX_COMPARE} runs (${ids.length} selected)`);
        set({ compare: await Promise.all(ids.map(load)), error: null });
      }),
    closeCompare() {
      set({ compare: null });
    },
    exportReport: (id) =>
      guard('Report failed', async () => {
        const r = await load(id);
        const link = await get()
          .linkForRun(id)
          .catch(() => '');
        downloadFile(`${fileBase(r.meta)}.report.html`, runReport(r.meta, r.data, link), 'text/html');
      }),
    exportHistory: (id, format) =>
      guard('Export failed', async () => {
        const r = await load(id);
        if (format === 'csv')
          downloadFile(`${fileBase(r.meta)}.history.csv`, historyCsv(r.meta, r.data), 'text/csv');
        else
          downloadFile(`${fileBase(r.meta)}.history.json`, historyJson(r.meta, r.data), 'application/json');
      }),
    exportScript: (id) =>
      guard('Export failed', async () => {
        const r = await load(id);
        const m = useLab.getState().datasets.find((d) => d.id === r.meta.info.datasetId);
        downloadFile(
          `${fileBase(r.meta)}.saelens_train.py`,
          saeLensScript(r.meta, m?.metadata),
          'text/x-python',
        );
      }),
    exportWeights: (id) =>
      guard('Export failed', async () => {
        const out = await labWorker().exportSae(id);
        downloadFile(SAELENS_CFG_FILE, out.cfgJson, 'application/json');
        downloadFile(SAELENS_WEIGHTS_FILE, out.safetensors as BlobPart, 'application/octet-stream');
      }),
    exportLibrary() {
      downloadFile('sae-lab-runs.csv', libraryCsv(get().runs), 'text/csv');
    },
    async linkForRun(id) {
      const r = await load(id);
      // A share link re-trains a run from its config: an SAE trained elsewhere has none to share.
      if (r.meta.imported) throw new Error('an imported SAE was not trained here; share its files instead');
      if (r.meta.dataset) return shareUrl(pageBase(), { config: r.meta.config, dataset: r.meta.dataset });
      const m = useLab.getState().datasets.find((d) => d.id === r.meta.info.datasetId);
      if (!m) throw new Error(`the run's dataset "${r.meta.info.datasetName}" is no longer stored`);
      return linkFor(r.meta.config, m);
    },
    async copyLink(link) {
      try {
        await navigator.clipboard.writeText(link);
      } catch {
        // No clipboard permission (e.g. an insecure context): the link is shown in the share field to copy.
      }
      return link;
    },
    async openFragment(hash) {
      let shared: SharedRun;
      try {
        shared = decodeShareFragment(hash);
      } catch (e) {
        set({ shareError: (e as Error).message });
        return;
      }
      if (labBusy()) {
        set({ shareError: 'A run is training: stop it before opening a run link.' });
        return;
      }
      const id = datasetMatch(shared.dataset);
      const form = configToForm(shared.config);
      useLab.setState({ form, formErrors: {} });
      if (id) useLab.getState().selectDataset(id);
      set({ shared, sharedDatasetId: id, shareError: null, dropError: null, dropStatus: null });
    },
    reproduce: () =>
      guard('Reproduce failed', async () => {
        const sh = get().shared;
        if (!sh) throw new Error('no run link is open');
        const id = get().sharedDatasetId ?? datasetMatch(sh.dataset);
        if (!id) throw new Error(`the dataset is missing: ${describeRef(sh.dataset)}`);
        useLab.setState({ form: configToForm(sh.config) });
        useLab.getState().selectDataset(id);
        await useLab.getState().train();
      }),
    dropDataset: (file) =>
      guard('Import failed', async () => {
        const sh = get().shared;
        const want = sh?.dataset;
        if (want?.kind !== 'file') throw new Error('no run link waiting for a dataset');
        set({ dropStatus: `Importing "${file.name}" and checking its fingerprint…`, dropError: null });
        let m: DatasetManifest;
        try {
          m = await startImport([{ kind: 'file', file }], { kind: 'new', name: want.name }).done;
        } catch (e) {
          set({
            dropStatus: null,
            dropError: `"${file.name}" could not be imported: ${(e as Error).message}`,
          });
          return;
        }
        if (m.fingerprint !== want.fingerprint || m.nTokens !== want.nTokens || m.dModel !== want.dModel) {
          await deleteDataset(m.id).catch(() => undefined);
          set({
            dropStatus: null,
            dropError:
              `"${file.name}" is not the run's dataset: it holds [${m.nTokens}, ${m.dModel}] float32 rows with ` +
              `sha256 ${m.fingerprint}, the link needs [${want.nTokens}, ${want.dModel}] with sha256 ${want.fingerprint}. ` +
              'It was not kept.',
          });
          return;
        }
        await useLab.getState().refreshDatasets();
        useLab.getState().selectDataset(m.id);
        set({
          sharedDatasetId: m.id,
          dropStatus: `"${file.name}" matches the run's fingerprint.`,
          dropError: null,
        });
      }),
    dismissShare() {
      set({ shared: null, sharedDatasetId: null, shareError: null, dropError: null, dropStatus: null });
    },
  };
});
