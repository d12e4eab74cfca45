/**
 * "Harvest" in the dataset library: activations from text through a language model, stored as a new dataset
 * (src/lm/harvest-store.ts in the import worker). Pick the model (built-in stories260K or a dropped llama2.c .bin +
 * tokenizer), the text (built-in TinyStories .jsonl, a dropped .jsonl with a `text` field, or a .txt split on blank
 * lines), the hook and the context length; a progress bar with documents, tokens, tokens/s, ETA and Cancel.
 */
import { useId, useState } from 'react';
import { isCancelled } from '../data/errors';
import { startHarvest } from '../data/import-client';
import { peekLayers } from '../lm/checkpoint';
import type { HarvestProgress } from '../lm/harvest-store';
import { hookNames } from '../lm/hooks';
import { formatDuration, formatInt } from './format';

const BUILTIN_LAYERS = 5;

/** The harvest form and its progress. */
export function HarvestPanel() {
  const id = useId();
  const [checkpoint, setCheckpoint] = useState<File | null>(null);
  const [tokenizer, setTokenizer] = useState<File | null>(null);
  const [layers, setLayers] = useState(BUILTIN_LAYERS);
  const [text, setText] = useState<File | null>(null);
  const [hook, setHook] = useState('blocks.2.hook_resid_post');
  const [ctx, setCtx] = useState('512');
  const [job, setJob] = useState<{ cancel: () => void } | null>(null);
  const [progress, setProgress] = useState<HarvestProgress | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const hooks = hookNames({ nLayers: layers });
  const ctxValue = Number(ctx);
  const ctxOk = Number.isInteger(ctxValue) && ctxValue >= 2;
  const needTokenizer = !!checkpoint && !tokenizer;

  const pickModel = async (f: File | null) => {
    setCheckpoint(f);
    const n = f ? peekLayers(new Uint8Array(await f.slice(0, 64).arrayBuffer())) : BUILTIN_LAYERS;
    setLayers(n ?? BUILTIN_LAYERS);
    if (f && n === null) setMessage({ error: true, text: `${f.name}: not a llama2.c checkpoint header` });
  };

  const go = async () => {
    setMessage(null);
    setProgress(null);
    const model =
      checkpoint && tokenizer
        ? { kind: 'files' as const, checkpoint, tokenizer }
        : { kind: 'builtin' as const };
    const source = text ? { kind: 'file' as const, file: text } : { kind: 'builtin' as const };
    const name = `${checkpoint?.name.replace(/\.bin$/, '') ?? 'stories260K'} · ${hook} · ${text?.name ?? 'tinystories.jsonl'}`;
    const limit = (globalThis as { __saeLabHarvestLimit?: number }).__saeLabHarvestLimit;
    const j = startHarvest({ name, model, text: source, hook, ctx: ctxValue, limitDocuments: limit }, (p) =>
      setProgress(p),
    );
    setJob(j);
    try {
      const m = await j.done;
      setMessage({
        error: false,
        text: `Harvested ${formatInt(m.nTokens)} tokens × d_model ${m.dModel} into “${m.name}”.`,
      });
    } catch (e) {
      setMessage(
        isCancelled(e)
          ? { error: false, text: 'Harvest cancelled; nothing was stored.' }
          : { error: true, text: (e as Error).message },
      );
    } finally {
      setJob(null);
    }
  };

  return (
    <details className="harvest" data-testid="harvest">
      <summary>Harvest activations from text</summary>
      <div className="harvest-form">
        <label htmlFor={`${id}-model`}>Model (llama2.c .bin; empty = built-in stories260K)</label>
        <input
          id={`${id}-model`}
          type="file"
          accept=".bin"
          data-testid="harvest-model"
          onChange={(e) => void pickModel(e.currentTarget.files?.[0] ?? null)}
        />
        <label htmlFor={`${id}-tok`}>Tokenizer (llama2.c tokenizer .bin, with a dropped model)</label>
        <input
          id={`${id}-tok`}
          type="file"
          accept=".bin"
          data-testid="harvest-tokenizer"
          onChange={(e) => setTokenizer(e.currentTarget.files?.[0] ?? null)}
        />
        <label htmlFor={`${id}-text`}>
          Text (.jsonl with a "text" field, or .txt split on blank lines; empty = built-in TinyStories, 254
          stories)
        </label>
        <input
          id={`${id}-text`}
          type="file"
          accept=".jsonl,.txt"
          data-testid="harvest-text"
          onChange={(e) => setText(e.currentTarget.files?.[0] ?? null)}
        />
        <label htmlFor={`${id}-hook`}>Hook point</label>
        <select
          id={`${id}-hook`}
          value={hook}
          data-testid="harvest-hook"
          onChange={(e) => setHook(e.currentTarget.value)}
        >
          {hooks.map((h) => (
            <option key={h} value={h}>
              {h}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-ctx`}>Context length (tokens, BOS prepended, longer documents cut)</label>
        <input
          id={`${id}-ctx`}
          type="number"
          min={2}
          value={ctx}
          data-testid="harvest-ctx"
          onChange={(e) => setCtx(e.currentTarget.value)}
        />
        {!ctxOk && (
          <small className="error" role="alert">
            The context length must be an integer ≥ 2.
          </small>
        )}
        {needTokenizer && (
          <small className="error" role="alert">
            A dropped model needs its tokenizer too.
          </small>
        )}
        <div className="actions">
          <button
            type="button"
            data-testid="harvest-go"
            disabled={!!job || !ctxOk || needTokenizer}
            onClick={() => void go()}
          >
            Harvest
          </button>
          {job && (
            <button type="button" data-testid="harvest-cancel" onClick={() => job.cancel()}>
              Cancel
            </button>
          )}
        </div>
      </div>
      {job && (
        <div
          className="import-progress"
          data-testid="harvest-progress"
          data-documents={progress?.documents ?? 0}
        >
          <progress
            max={progress?.totalTokens || 1}
            value={progress?.tokens ?? 0}
            aria-label="Harvest progress"
          />
          <span>
            {progress
              ? `${formatInt(progress.documents)} / ${formatInt(progress.totalDocuments)} documents, ${formatInt(progress.tokens)} / ${formatInt(progress.totalTokens)} tokens, ${formatInt(progress.tokensPerSec)} tokens/s, ETA ${progress.etaS === null ? '…' : formatDuration(progress.etaS * 1000)}`
              : 'Loading the model and tokenizing…'}
          </span>
        </div>
      )}
      {message && (
        <p
          role={message.error ? 'alert' : 'status'}
          className={message.error ? 'error' : 'hint'}
          data-testid="harvest-message"
        >
          {message.text}
        </p>
      )}
    </details>
  );
}
