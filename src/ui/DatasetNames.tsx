/**
 * The "Model & hook" cell of a dataset row: shows the model and hook names the SAELens export will write, and an
 * inline form to set them (and, for the built-in model, attach token ids so that runs get patched CE; for another
 * model, attach its tokenizer and token ids so that the feature dashboard shows readable contexts). The logic and its
 * checks live in src/lm/dataset-names.ts; this component only renders and reports errors.
 */
import { type FormEvent, useState } from 'react';
import { datasetStore } from '../data/store';
import type { DatasetManifest } from '../data/types';
import { fetchAppBytes } from '../lm/app-files';
import { parseNpyI32 } from '../lm/behaviour';
import { datasetNames, setDatasetNames } from '../lm/dataset-names';
import { BUILTIN_MODEL, datasetProvenance } from '../lm/provenance';
import { errorText } from '../util/error-text';

/** Model and hook names of dataset `d`, with an editor. `onError`/`onSaved` report to the library's message line. */
export function DatasetNames({
  d,
  onError,
  onSaved,
}: {
  d: DatasetManifest;
  onError: (text: string) => void;
  onSaved: (text: string) => void;
}) {
  const names = datasetNames(d);
  const [editing, setEditing] = useState<{
    model: string;
    hook: string;
    file: File | null;
    tokenizer: File | null;
  } | null>(null);
  const [saving, setSaving] = useState(false);
  const patched = datasetProvenance(d) !== undefined;
  if (!editing) {
    return (
      <span data-testid="dataset-hook">
        {names.modelName || names.hookName ? (
          <>
            {names.modelName || 'unknown model'} · <code>{names.hookName || 'unknown hook'}</code>
            {patched && <span className="badge">patched CE</span>}
          </>
        ) : (
          <span className="muted" title="The SAELens export writes placeholders until you name them.">
            unknown model and hook
          </span>
        )}
        {d.tokenizer && (
          <span className="badge" data-testid="dataset-tokenizer" title={`${d.tokenizer.vocabSize} tokens`}>
            tokenizer {d.tokenizer.name}
          </span>
        )}{' '}
        {!d.builtin && (
          <button
            type="button"
            data-testid="edit-hook"
            aria-label={`Model and hook of ${d.name}`}
            onClick={() =>
              setEditing({ model: names.modelName, hook: names.hookName, file: null, tokenizer: null })
            }
          >
            Model &amp; hook…
          </button>
        )}
      </span>
    );
  }
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSaving(true);
    try {
      const tokenIds = editing.file
        ? {
            name: editing.file.name,
            ids: parseNpyI32(new Uint8Array(await editing.file.arrayBuffer()), editing.file.name),
          }
        : undefined;
      const tokenizer = editing.tokenizer
        ? { name: editing.tokenizer.name, bytes: new Uint8Array(await editing.tokenizer.arrayBuffer()) }
        : undefined;
      const next = await setDatasetNames(
        datasetStore(),
        d.id,
        { modelName: editing.model, hookName: editing.hook, tokenIds, tokenizer },
        () => fetchAppBytes(BUILTIN_MODEL.checkpoint),
      );
      setEditing(null);
      onSaved(
        `“${next.name}”: model and hook saved${next.lm ? '; runs on it get patched CE through the built-in model' : ''}${next.tokenizer && !next.lm ? `; the feature dashboard decodes its contexts with ${next.tokenizer.name}` : ''}.`,
      );
    } catch (err) {
      onError(`“${d.name}”: ${errorText(err)}`);
    } finally {
      setSaving(false);
    }
  };
  return (
    <form className="dataset-names" onSubmit={(e) => void submit(e)} data-testid="hook-form">
      <label>
        Model{' '}
        <input
          value={editing.model}
          list="known-models"
          placeholder="e.g. gpt2-small"
          onChange={(e) => setEditing({ ...editing, model: e.currentTarget.value })}
          onKeyDown={(e) => e.key === 'Escape' && setEditing(null)}
        />
      </label>
      <datalist id="known-models">
        <option value={BUILTIN_MODEL.name} />
      </datalist>
      <label>
        Hook{' '}
        <input
          value={editing.hook}
          placeholder="e.g. blocks.2.hook_resid_post"
          onChange={(e) => setEditing({ ...editing, hook: e.currentTarget.value })}
          onKeyDown={(e) => e.key === 'Escape' && setEditing(null)}
        />
      </label>
      <label
        title={`int32 .npy [n_tokens], documents starting at BOS; with ${BUILTIN_MODEL.name} enables patched CE; with another model it needs its tokenizer`}
      >
        Token ids (optional){' '}
        <input
          type="file"
          accept=".npy"
          onChange={(e) => setEditing({ ...editing, file: e.currentTarget.files?.[0] ?? null })}
        />
      </label>
      <label title="llama2.c tokenizer.bin or Hugging Face tokenizer.json: the feature dashboard decodes contexts with it">
        Tokenizer (optional){' '}
        <input
          type="file"
          accept=".bin,.json"
          onChange={(e) => setEditing({ ...editing, tokenizer: e.currentTarget.files?.[0] ?? null })}
        />
      </label>
      <button type="submit" disabled={saving}>
        {saving ? 'Saving…' : 'Save'}
      </button>
      <button type="button" onClick={() => setEditing(null)}>
        Cancel
      </button>
    </form>
  );
}
