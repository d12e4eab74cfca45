/**
 * The dataset library panel: drop zone and file picker, questions for files that need them (raw d_model and
 * dtype, which safetensors tensor), a progress bar with bytes, rows, rate, ETA and Cancel, the stored datasets
 * (name, shape, size, sources; rename, add files, delete with confirmation) and the one-click demo dataset.
 * All parsing and writing happens in the import worker (src/data/import-worker.ts); this file only renders.
 */
import { type DragEvent, type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { DEMO } from '../data/demo';
import { isCancelled } from '../data/errors';
import type { ImportInput, InspectResult } from '../data/import-api';
import {
  type ImportJob,
  importPausingOverQuota,
  inspectFiles,
  startDemoImport,
  startImport,
} from '../data/import-client';
import {
  defaultDatasetName,
  type ImportProgress,
  type ImportTarget,
  zeroVarianceText,
} from '../data/importer';
import { type FileChoice, type Inspection, missingChoices } from '../data/inspect';
import type { RawDtype } from '../data/raw';
import {
  cleanupOrphanShards,
  deleteDataset,
  listDatasets,
  renameDataset,
  subscribeDatasets,
} from '../data/store';
import { installStoreHook } from '../data/test-hook';
import type { DatasetManifest } from '../data/types';
import { useLab } from '../state/lab-store';
import { errorText } from '../util/error-text';
import { DatasetNames } from './DatasetNames';
import { HarvestPanel } from './HarvestPanel';
import { SyntheticGenerator } from './SyntheticGenerator';

installStoreHook();

/** Bytes as "20.0 MB". */
function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Seconds as "42 s" / "3 min 5 s". */
function formatSeconds(s: number): string {
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

/** Pair each item with a stable React key: its name, suffixed when the name repeats. */
function withKeys<T>(items: T[], name: (t: T) => string): { item: T; key: string }[] {
  const seen = new Map<string, number>();
  return items.map((item) => {
    const n = name(item);
    const c = seen.get(n) ?? 0;
    seen.set(n, c + 1);
    return { item, key: c ? `${n}#${c}` : n };
  });
}

const int = (n: number) => n.toLocaleString('en-US');
const shapeText = (m: Pick<DatasetManifest, 'nTokens' | 'dModel'>) => `[${m.nTokens}, ${m.dModel}]`;

/** One file waiting for the user's answers. */
interface PlanItem {
  file: File;
  inspection: Inspection;
  choice: FileChoice;
}

/** Files inspected and waiting for answers (or for the Import button). */
interface Plan {
  items: PlanItem[];
  /** Append to this dataset; a new dataset when absent. */
  appendTo?: DatasetManifest;
  name: string;
}

type Busy =
  | { kind: 'inspecting' }
  | { kind: 'asking'; plan: Plan }
  | { kind: 'importing'; label: string; job: ImportJob; progress: ImportProgress | null }
  /** Over the storage quota: waiting for Resume / Cancel in the storage banner (nothing of it is stored). */
  | { kind: 'paused'; label: string };

type Message = { kind: 'ok' | 'error'; text: string } | null;

/** True when a drag carries files (not text or a link). */
function hasFiles(e: DragEvent | globalThis.DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}

/** The dataset library panel. Mount once. */
export function DatasetLibrary() {
  const [datasets, setDatasets] = useState<DatasetManifest[] | null>(null);
  const [busy, setBusy] = useState<Busy | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [dragOver, setDragOver] = useState(false);
  const [renaming, setRenaming] = useState<{ id: string; value: string } | null>(null);
  const [confirmDelete, setConfirmDelete] = useState<string | null>(null);
  const [storage, setStorage] = useState<{ usage: number; quota: number } | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const appendRef = useRef<DatasetManifest | undefined>(undefined);

  const refresh = useCallback(async () => {
    setDatasets(await listDatasets());
    const est = await navigator.storage?.estimate?.().catch(() => null);
    if (est?.quota !== undefined && est.usage !== undefined)
      setStorage({ usage: est.usage, quota: est.quota });
  }, []);

  useEffect(() => {
    let live = true;
    // Orphan shards of imports interrupted in an earlier session go first; then list. Cleanup is skipped while
    // an import holds the write lock (e.g. a closing tab's worker); then it is tried again a little later.
    let retry: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (attempt: number) =>
      cleanupOrphanShards()
        .catch(() => null)
        .then((removed) => {
          if (removed === null && live && attempt < 10)
            retry = setTimeout(() => void cleanup(attempt + 1), 2000);
        });
    void cleanup(0).then(() => (live ? refresh() : undefined));
    const off = subscribeDatasets(() => void refresh());
    // A file dropped beside the zone must not make the browser navigate away from the lab.
    const stop = (e: globalThis.DragEvent) => {
      if (hasFiles(e)) e.preventDefault();
    };
    window.addEventListener('dragover', stop);
    window.addEventListener('drop', stop);
    return () => {
      live = false;
      clearTimeout(retry);
      off();
      window.removeEventListener('dragover', stop);
      window.removeEventListener('drop', stop);
    };
  }, [refresh]);

  const runJob = useCallback(
    async (label: string, start: (onProgress: (p: ImportProgress) => void) => ImportJob) => {
      setMessage(null);
      // One attempt; over the storage quota the import pauses (storage banner) and Resume starts another.
      const attempt = () => {
        const job: ImportJob = start((p) =>
          setBusy((b) => (b?.kind === 'importing' && b.job === job ? { ...b, progress: p } : b)),
        );
        setBusy({ kind: 'importing', label, job, progress: null });
        return job;
      };
      const onQuota = (text: string) => {
        setBusy({ kind: 'paused', label });
        return useLab.getState().pauseImport(text);
      };
      try {
        const m = await importPausingOverQuota(attempt, onQuota);
        const zeroVariance = zeroVarianceText(m);
        setMessage({
          kind: 'ok',
          text:
            `Imported "${m.name}": ${shapeText(m)} (${formatBytes(m.nTokens * m.dModel * 4)}).` +
            (zeroVariance ? ` ${zeroVariance}.` : ''),
        });
      } catch (e) {
        const text = errorText(e);
        setMessage(
          isCancelled(e)
            ? { kind: 'ok', text: `Import of ${label} cancelled; nothing was stored.` }
            : { kind: 'error', text },
        );
        if (!isCancelled(e) && /over quota/.test(text)) useLab.getState().reportStorage(text);
      } finally {
        setBusy(null);
        await refresh();
      }
    },
    [refresh],
  );

  const importPlan = useCallback(
    (plan: Plan) => {
      const inputs: ImportInput[] = plan.items.map((it) => ({
        kind: 'file',
        file: it.file,
        choice: it.choice,
      }));
      const target: ImportTarget = plan.appendTo
        ? { kind: 'append', datasetId: plan.appendTo.id }
        : { kind: 'new', name: plan.name.trim() || defaultDatasetName(plan.items.map((i) => i.file.name)) };
      const label = plan.items.map((i) => `"${i.file.name}"`).join(', ');
      void runJob(label, (onProgress) => startImport(inputs, target, onProgress));
    },
    [runJob],
  );

  const takeFiles = useCallback(
    async (files: File[], appendTo?: DatasetManifest) => {
      if (files.length === 0) return;
      if (busy && busy.kind !== 'asking') {
        setMessage({
          kind: 'error',
          text: 'An import is running; wait for it or cancel it, then drop the files again.',
        });
        return;
      }
      setMessage(null);
      setBusy({ kind: 'inspecting' });
      let results: InspectResult[];
      try {
        results = await inspectFiles(files);
      } catch (e) {
        setBusy(null);
        setMessage({ kind: 'error', text: `Could not read the files: ${(e as Error).message}` });
        return;
      }
      const errors = results.flatMap((r) => (r.ok ? [] : [r.error]));
      if (errors.length) {
        setBusy(null);
        setMessage({ kind: 'error', text: errors.join('\n') });
        return;
      }
      const items: PlanItem[] = results.map((r, i) => ({
        file: files[i],
        inspection: (r as { inspection: Inspection }).inspection,
        choice: {},
      }));
      const plan: Plan = { items, name: defaultDatasetName(files.map((f) => f.name)) };
      if (appendTo) plan.appendTo = appendTo;
      if (items.some((it) => missingChoices(it.inspection).length > 0)) setBusy({ kind: 'asking', plan });
      else {
        setBusy(null);
        importPlan(plan);
      }
    },
    [busy, importPlan],
  );

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragOver(false);
    void takeFiles(Array.from(e.dataTransfer?.files ?? []));
  };
  const onDragOver = (e: DragEvent) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    setDragOver(true);
  };

  const pickFiles = (appendTo?: DatasetManifest) => {
    appendRef.current = appendTo;
    inputRef.current?.click();
  };

  const demo = datasets?.find((d) => d.id === DEMO.id);
  const importing = busy?.kind === 'importing' || busy?.kind === 'inspecting';
  // An import paused over the quota (this library's, or the demo's from Train or a lesson) waits in the banner.
  const importPaused = useLab((s) => !!s.storage?.importPaused) || busy?.kind === 'paused';

  return (
    <section
      className="dataset-library"
      aria-labelledby="datasets-title"
      data-testid="dataset-library"
      data-ready={datasets !== null}
    >
      <h2 id="datasets-title">Datasets</h2>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the drop target; the button inside is the keyboard path */}
      <div
        className={`drop-zone${dragOver ? ' drag-over' : ''}`}
        data-testid="drop-zone"
        onDragEnter={onDragOver}
        onDragOver={onDragOver}
        onDragLeave={() => setDragOver(false)}
        onDrop={onDrop}
      >
        <p>
          Drop activation files here: <code>.npy</code> (float32/float16/float64), <code>.safetensors</code>{' '}
          (F32, F16, BF16) or raw <code>.f32</code> / <code>.f16</code> / <code>.bf16</code> /{' '}
          <code>.bin</code>. Several files of the same d_model become one dataset.
        </p>
        <div className="actions">
          <button type="button" onClick={() => pickFiles()} disabled={importing}>
            Choose files…
          </button>
          <button
            type="button"
            onClick={() => void runJob('the demo dataset', startDemoImport)}
            disabled={importing || importPaused || !!demo || datasets === null}
            title={
              importPaused && !demo
                ? 'An import is paused over the storage quota: Resume or Cancel it in the storage banner first'
                : undefined
            }
            data-testid="load-demo"
          >
            {demo ? 'Demo dataset loaded' : 'Load demo dataset'}
          </button>
          <span className="hint">
            Demo: stories260K layer-2 residual stream,{' '}
            {shapeText({ nTokens: DEMO.shape[0], dModel: DEMO.shape[1] })}
          </span>
        </div>
        <input
          ref={inputRef}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          accept=".npy,.safetensors,.f32,.f16,.bf16,.bin"
          onChange={(e) => {
            const files = Array.from(e.currentTarget.files ?? []);
            e.currentTarget.value = '';
            void takeFiles(files, appendRef.current);
          }}
        />
      </div>

      <HarvestPanel />
      <SyntheticGenerator />
      {busy?.kind === 'inspecting' && <p aria-busy="true">Reading file headers…</p>}
      {busy?.kind === 'asking' && (
        <PlanForm
          plan={busy.plan}
          onChange={(plan) => setBusy({ kind: 'asking', plan })}
          onSubmit={(plan) => {
            setBusy(null);
            importPlan(plan);
          }}
          onCancel={() => setBusy(null)}
        />
      )}
      {busy?.kind === 'importing' && (
        <ProgressView label={busy.label} progress={busy.progress} onCancel={busy.job.cancel} />
      )}
      {busy?.kind === 'paused' && (
        <p className="hint" data-testid="import-paused">
          Import of {busy.label} paused: the storage is full (see the banner above). Delete a dataset or a run
          below, then press Resume import.
        </p>
      )}
      {message && (
        <p
          className={message.kind === 'error' ? 'error import-message' : 'import-message'}
          role={message.kind === 'error' ? 'alert' : 'status'}
          data-testid="import-message"
        >
          {message.text}
        </p>
      )}

      {datasets === null ? (
        <p aria-busy="true">Opening the dataset library…</p>
      ) : datasets.length === 0 ? (
        <p data-testid="no-datasets">No datasets yet. Drop a file above or load the demo dataset.</p>
      ) : (
        <table className="datasets" data-testid="dataset-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Shape [n_tokens, d_model]</th>
              <th scope="col">Size</th>
              <th scope="col">Source files</th>
              <th scope="col">Model · hook</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {datasets.map((d) => (
              <tr key={d.id} data-testid="dataset-row" data-id={d.id}>
                <td>
                  {renaming?.id === d.id ? (
                    <form
                      className="rename"
                      onSubmit={(e: FormEvent) => {
                        e.preventDefault();
                        void renameDataset(d.id, renaming.value)
                          .then(() => setRenaming(null))
                          .catch((err: Error) => setMessage({ kind: 'error', text: err.message }))
                          .then(refresh);
                      }}
                    >
                      <input
                        aria-label={`New name for ${d.name}`}
                        value={renaming.value}
                        // biome-ignore lint/a11y/noAutofocus: the user just asked to rename this row
                        autoFocus
                        onChange={(e) => setRenaming({ id: d.id, value: e.currentTarget.value })}
                        onKeyDown={(e) => e.key === 'Escape' && setRenaming(null)}
                      />
                      <button type="submit">Save</button>
                      <button type="button" onClick={() => setRenaming(null)}>
                        Cancel
                      </button>
                    </form>
                  ) : (
                    <span data-testid="dataset-name">
                      {d.name}
                      {d.builtin && <span className="badge">built-in</span>}
                    </span>
                  )}
                  {zeroVarianceText(d) && (
                    <span className="hint zero-variance" data-testid="dataset-zero-variance">
                      {' '}
                      {zeroVarianceText(d)}
                    </span>
                  )}
                </td>
                <td data-testid="dataset-shape">{shapeText(d)}</td>
                <td>{formatBytes(d.nTokens * d.dModel * 4)}</td>
                <td className="sources">
                  {withKeys(d.sources, (s) => s.name).map(({ item: s, key }) => (
                    <span key={key} title={s.note}>
                      {s.name}
                      {s.tensor ? ` : ${s.tensor}` : ''} ({s.dtype}, [{s.shape.join(', ')}],{' '}
                      {formatBytes(s.bytes)}){s.note ? ' *' : ''}
                    </span>
                  ))}
                </td>
                <td>
                  <DatasetNames
                    d={d}
                    onError={(text) => setMessage({ kind: 'error', text })}
                    onSaved={(text) => {
                      setMessage({ kind: 'ok', text });
                      void refresh();
                    }}
                  />
                </td>
                <td className="row-actions">
                  {confirmDelete === d.id ? (
                    <fieldset className="confirm" aria-label={`Confirm deleting ${d.name}`}>
                      Delete “{d.name}”?{' '}
                      <button
                        type="button"
                        className="danger"
                        onClick={() => {
                          setConfirmDelete(null);
                          // Refused while a run uses the dataset (src/data/dataset-lock.ts): say so.
                          void deleteDataset(d.id)
                            .catch((err: unknown) => setMessage({ kind: 'error', text: errorText(err) }))
                            .then(refresh);
                        }}
                      >
                        Yes, delete
                      </button>{' '}
                      <button type="button" onClick={() => setConfirmDelete(null)}>
                        Keep
                      </button>
                    </fieldset>
                  ) : (
                    <>
                      <button
                        type="button"
                        onClick={() => setRenaming({ id: d.id, value: d.name })}
                        aria-label={`Rename ${d.name}`}
                      >
                        Rename
                      </button>
                      {!d.builtin && (
                        <button
                          type="button"
                          onClick={() => pickFiles(d)}
                          disabled={importing}
                          aria-label={`Add files to ${d.name}`}
                        >
                          Add files…
                        </button>
                      )}
                      <button
                        type="button"
                        onClick={() => setConfirmDelete(d.id)}
                        disabled={importing}
                        aria-label={`Delete ${d.name}`}
                      >
                        Delete
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {storage && (
        <p className="hint">
          Browser storage: {formatBytes(storage.usage)} used of {formatBytes(storage.quota)} allowed.
        </p>
      )}
    </section>
  );
}

/** Progress bar with bytes, rows, rate, ETA and a Cancel button. */
function ProgressView({
  label,
  progress: p,
  onCancel,
}: {
  label: string;
  progress: ImportProgress | null;
  onCancel: () => void;
}) {
  return (
    <div className="import-progress" data-testid="import-progress">
      <p>
        Importing {label}
        {p && p.fileCount > 1 ? ` (file ${p.fileIndex + 1} of ${p.fileCount}: ${p.file})` : ''}…
      </p>
      <progress max={p?.bytesTotal || 1} value={p?.bytesDone ?? 0} aria-label="Import progress" />
      <p className="hint" data-testid="import-stats" data-rows-done={p?.rowsDone ?? 0}>
        {p
          ? `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} · ${int(p.rowsDone)} of ${int(p.rowsTotal)} rows · ` +
            `${formatBytes(p.bytesPerSecond)}/s · ETA ${p.etaSeconds === null ? '…' : formatSeconds(p.etaSeconds)}`
          : 'Starting…'}
      </p>
      <button type="button" onClick={onCancel} data-testid="cancel-import">
        Cancel
      </button>
    </div>
  );
}

/** Questions for files that need answers: raw d_model and dtype, which safetensors tensor; name or target. */
function PlanForm({
  plan,
  onChange,
  onSubmit,
  onCancel,
}: {
  plan: Plan;
  onChange: (p: Plan) => void;
  onSubmit: (p: Plan) => void;
  onCancel: () => void;
}) {
  const setChoice = (i: number, c: FileChoice) =>
    onChange({
      ...plan,
      items: plan.items.map((it, j) => (j === i ? { ...it, choice: { ...it.choice, ...c } } : it)),
    });
  const ready = plan.items.every((it) => missingChoices(it.inspection, it.choice).length === 0);
  return (
    <form
      className="plan"
      data-testid="import-plan"
      onSubmit={(e) => {
        e.preventDefault();
        if (ready) onSubmit(plan);
      }}
    >
      <h3>{plan.appendTo ? `Add files to “${plan.appendTo.name}”` : 'Import files'}</h3>
      {!plan.appendTo && (
        <label>
          Dataset name{' '}
          <input value={plan.name} onChange={(e) => onChange({ ...plan, name: e.currentTarget.value })} />
        </label>
      )}
      {withKeys(plan.items, (it) => it.file.name).map(({ item: it, key }, i) => {
        const ins = it.inspection;
        return (
          <fieldset key={key}>
            <legend>{ins.file}</legend>
            {ins.format === 'npy' && (
              <p>
                .npy {ins.layout.dtype} [{ins.layout.shape.join(', ')}]
              </p>
            )}
            {ins.format === 'safetensors' && (
              <label>
                Tensor{' '}
                <select
                  value={it.choice.tensor ?? ins.defaultTensor ?? ''}
                  onChange={(e) => setChoice(i, { tensor: e.currentTarget.value })}
                  data-testid="tensor-select"
                >
                  <option value="" disabled>
                    choose a tensor…
                  </option>
                  {ins.header.tensors
                    .filter((t) => t.importable)
                    .map((t) => (
                      <option key={t.name} value={t.name}>
                        {t.name} ({t.dtype} [{t.shape.join(', ')}])
                      </option>
                    ))}
                </select>
              </label>
            )}
            {ins.format === 'raw' && (
              <RawQuestions
                size={ins.size}
                implied={ins.dtype}
                choice={it.choice}
                onChange={(c) => setChoice(i, c)}
              />
            )}
          </fieldset>
        );
      })}
      <div className="actions">
        <button type="submit" disabled={!ready} data-testid="start-import">
          Import
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

const ITEM: Record<RawDtype, number> = { f32: 4, f16: 2, bf16: 2 };

/** d_model and dtype of a raw file, with a live check that the size divides. */
function RawQuestions({
  size,
  implied,
  choice,
  onChange,
}: {
  size: number;
  implied?: RawDtype;
  choice: FileChoice;
  onChange: (c: FileChoice) => void;
}) {
  const dtype = choice.dtype ?? implied;
  const d = choice.dModel;
  const rows = d && dtype ? size / (d * ITEM[dtype]) : null;
  return (
    <>
      <label>
        d_model{' '}
        <input
          type="number"
          min={1}
          step={1}
          required
          value={d ?? ''}
          data-testid="raw-dmodel"
          onChange={(e) => {
            const v = Number.parseInt(e.currentTarget.value, 10);
            onChange({ dModel: Number.isFinite(v) && v > 0 ? v : undefined });
          }}
        />
      </label>{' '}
      <label>
        dtype{' '}
        <select
          value={dtype ?? ''}
          onChange={(e) => onChange({ dtype: e.currentTarget.value as RawDtype })}
          data-testid="raw-dtype"
        >
          <option value="" disabled>
            choose…
          </option>
          <option value="f32">float32</option>
          <option value="f16">float16</option>
          <option value="bf16">bfloat16</option>
        </select>
      </label>
      {rows !== null && (
        <p className={Number.isInteger(rows) ? 'hint' : 'error'}>
          {Number.isInteger(rows)
            ? `${int(rows)} rows of ${d}`
            : `${formatBytes(size)} is not a multiple of d_model × ${dtype === 'f32' ? 4 : 2} bytes`}
        </p>
      )}
    </>
  );
}
