/**
 * Importing SAEs trained elsewhere (src/saes/): a drop zone with a file input (`import-sae`) and a folder input in
 * the Runs panel, and, on each imported run's row, "Evaluate on dataset" over the stored datasets of its d_model.
 * The worker reads, validates and stores; this file only collects files and shows the outcome.
 */
import * as Comlink from 'comlink';
import { type DragEvent, useState } from 'react';
import type { RunMeta } from '../runs/library';
import { ensureDemoPausing, useLab } from '../state/lab-store';
import { useRuns } from '../state/runs-store';
import type { LabEvent } from '../worker/api';
import { labWorker } from '../worker/client';
import { formatInt, formatSig } from './format';

/** Files an SAE import reads (anything else in a dropped folder is skipped unread). */
function wanted(name: string): boolean {
  return /(^|\/)cfg\.json$|\.safetensors$|\.npz$/i.test(name);
}

/** A picked or dropped file with the path the user sees (folder/…/file). */
interface Picked {
  name: string;
  file: File;
}

function pickedOf(files: File[]): Picked[] {
  return files.map((f) => ({ name: f.webkitRelativePath || f.name, file: f }));
}

/** Every file under a dropped entry (folders walked recursively), with its path. */
async function walk(entry: FileSystemEntry): Promise<Picked[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    return [{ name: entry.fullPath.replace(/^\//, ''), file }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: Picked[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (batch.length === 0) return out;
    for (const e of batch) out.push(...(await walk(e)));
  }
}

async function dropped(dt: DataTransfer): Promise<Picked[]> {
  const entries = Array.from(dt.items)
    .map((i) => i.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return pickedOf(Array.from(dt.files));
  return (await Promise.all(entries.map(walk))).flat();
}

/** The import drop zone and inputs. */
export function SaeImport() {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [dragOver, setDragOver] = useState(false);

  const take = async (picked: Picked[]) => {
    const files = picked.filter((p) => wanted(p.name));
    setBusy(true);
    setMessage({ text: `Reading ${files.map((f) => f.name).join(', ') || 'nothing'}…`, error: false });
    try {
      const parts = await Promise.all(
        files.map(async (p) => ({ name: p.name, bytes: new Uint8Array(await p.file.arrayBuffer()) })),
      );
      // With no recognised file the worker names what it was given.
      const sent = parts.length > 0 ? parts : picked.map((p) => ({ name: p.name, bytes: new Uint8Array() }));
      const r = await labWorker().importSae(sent);
      setMessage({ text: r.message, error: false });
      await useRuns.getState().refresh();
    } catch (e) {
      setMessage({ text: `Import failed: ${(e as Error).message}`, error: true });
    } finally {
      setBusy(false);
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragOver(false);
    void dropped(e.dataTransfer).then(take);
  };
  const onDragOver = (e: DragEvent) => {
    if (!Array.from(e.dataTransfer?.types ?? []).includes('Files')) return;
    e.preventDefault();
    setDragOver(true);
  };

  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: the drop target; the inputs inside are the keyboard path
    <div
      className={`drop-zone sae-import${dragOver ? ' drag-over' : ''}`}
      data-testid="import-sae-zone"
      onDragEnter={onDragOver}
      onDragOver={onDragOver}
      onDragLeave={() => setDragOver(false)}
      onDrop={onDrop}
    >
      <p>
        Import an SAE trained elsewhere: a SAELens folder (<code>cfg.json</code> +{' '}
        <code>sae_weights.safetensors</code>), a sparsify SAE (<code>cfg.json</code> +{' '}
        <code>sae.safetensors</code>) or a Gemma Scope <code>params.npz</code>. Drop the files or the folder
        here.
      </p>
      <div className="actions">
        <label>
          SAE files{' '}
          <input
            type="file"
            multiple
            data-testid="import-sae"
            accept=".json,.safetensors,.npz"
            disabled={busy}
            onChange={(e) => {
              const files = Array.from(e.currentTarget.files ?? []);
              e.currentTarget.value = '';
              void take(pickedOf(files));
            }}
          />
        </label>
        <label>
          or a folder{' '}
          <input
            type="file"
            data-testid="import-sae-folder"
            disabled={busy}
            {...{ webkitdirectory: '' }}
            onChange={(e) => {
              const files = Array.from(e.currentTarget.files ?? []);
              e.currentTarget.value = '';
              void take(pickedOf(files));
            }}
          />
        </label>
        {busy && <progress aria-label="Importing the SAE" />}
      </div>
      {message && (
        <p
          data-testid="import-sae-message"
          role={message.error ? 'alert' : 'status'}
          className={message.error ? 'error' : 'hint'}
        >
          {message.text}
        </p>
      )}
    </div>
  );
}

/** "Evaluate on dataset" for one imported run: the stored datasets of its d_model, and the outcome. */
export function EvaluateImported({ run }: { run: RunMeta }) {
  const dModel = run.info.shape.dModel;
  const datasets = useLab((s) => s.datasets).filter((d) => d.dModel === dModel);
  const [picked, setPicked] = useState<string>('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const id = datasets.some((d) => d.id === picked) ? picked : (datasets[0]?.id ?? '');

  const evaluate = async () => {
    const m = datasets.find((d) => d.id === id);
    if (!m) return;
    setBusy(true);
    setMessage(`Evaluating on ${m.name}…`);
    try {
      // The built-in demo is offered before it is stored (createdAt 0): store it first.
      if (m.createdAt === 0) await ensureDemoPausing();
      const onEvent = (e: LabEvent) => {
        if (e.type === 'behaviour' && e.point.final) {
          setMessage((t) => `${t}; CE-loss score ${formatSig(e.point.metrics.ceLossScore.value)}`);
          void useRuns.getState().refresh();
        } else if (e.type === 'behaviour-error') setMessage((t) => `${t}; patched CE failed: ${e.message}`);
      };
      const s = await labWorker().evaluateImported(run.id, m.id, Comlink.proxy(onEvent));
      setMessage(
        `${m.name}: held-out EV ${formatSig(s.heldOut.explainedVariance)}, FVU ${formatSig(s.heldOut.fvu)}, ` +
          `L0 ${formatSig(s.heldOut.l0)} on ${formatInt(s.sampleTokens)} tokens`,
      );
      await useRuns.getState().refresh();
    } catch (e) {
      setMessage(`Evaluation failed: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  if (datasets.length === 0)
    return (
      <span className="hint" data-testid="imported-eval-message">
        No stored dataset has d_model {dModel} (this SAE's d_in); import one to evaluate it.
      </span>
    );
  return (
    <span className="evaluate-imported">
      <select
        data-testid="imported-eval-dataset"
        aria-label={`Dataset to evaluate ${run.name} on`}
        value={id}
        onChange={(e) => setPicked(e.target.value)}
      >
        {datasets.map((d) => (
          <option key={d.id} value={d.id}>
            {d.name}
          </option>
        ))}
      </select>
      <button type="button" data-testid="imported-evaluate" disabled={busy} onClick={() => void evaluate()}>
        Evaluate on dataset
      </button>
      {busy && <progress aria-label={`Evaluating ${run.name}`} />}
      {message && (
        <span className="hint" role="status" data-testid="imported-eval-message">
          {message}
        </span>
      )}
    </span>
  );
}
