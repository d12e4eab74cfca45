/**
 * Naming where an imported dataset's activations came from: the model name and hook name that the SAELens export
 * writes into cfg.json (`model_name`, `hook_name`; placeholders when unknown, src/export/saelens.ts), and — when
 * the model is the lab's built-in one and the dataset comes with its token ids — the provenance record
 * (src/lm/provenance.ts) that turns on patched-CE evaluation (src/worker/behaviour-tap.ts) for runs on it.
 *
 * Names live in the manifest's `metadata` (the same keys a safetensors `__metadata__` carries); token ids are stored
 * as one value under `shard/<id>/names-<time>/tokens` and listed by the provenance, so orphan cleanup keeps them and
 * deleting the dataset removes them. The manifest is rewritten in one write, after the token ids are stored; on any
 * error the store is left as it was.
 *
 * For a model other than the built-in one, the user may attach the dataset's tokenizer (a llama2.c tokenizer.bin or
 * a Hugging Face tokenizer.json, src/lm/dataset-tokenizer.ts) and its token ids: both are stored under the dataset's
 * keys (`tokenizer`, `tokenIds` in the manifest), so the feature dashboard decodes contexts with that tokenizer.
 */
import type { DatasetStore } from '../data/store';
import type { DatasetManifest } from '../data/types';
import { parseLlamaCheckpoint } from './checkpoint';
import { parseHook } from './hooks';
import { BUILTIN_MODEL, type LmProvenance } from './provenance';
import { BOS } from './tokenizer';

/** What the user names. Empty strings clear a name. */
export interface DatasetNames {
  /** Model the activations were read from, e.g. "stories260K" or "gpt2-small". */
  modelName: string;
  /** Hook they were read at, SAELens style, e.g. "blocks.2.hook_resid_post". */
  hookName: string;
  /**
   * Optional token id of every row, int32 [n_tokens], documents starting at BOS (id 1); with the built-in model's
   * name and one of its hooks, this enables patched CE.
   */
  tokenIds?: { name: string; ids: Int32Array };
  /** Context length the activations were harvested with (documents were cut at it). Default 512. */
  ctx?: number;
  /** Optional tokenizer file (llama2.c tokenizer.bin or Hugging Face tokenizer.json) replacing the stored one. */
  tokenizer?: { name: string; bytes: Uint8Array };
}

/** Longest name accepted (characters). */
export const MAX_NAME_LENGTH = 200;

/** The names a manifest carries (metadata keys, as the SAELens export reads them), '' when unknown. */
export function datasetNames(m: Pick<DatasetManifest, 'metadata' | 'lm'>): {
  modelName: string;
  hookName: string;
} {
  const md = m.metadata ?? {};
  return {
    modelName: md.model_name ?? md.model ?? m.lm?.model ?? '',
    hookName: md.hook_name ?? md.hook ?? md.hook_point ?? m.lm?.hook ?? '',
  };
}

function checkName(what: string, value: string): string {
  const v = value.trim();
  if (v.length > MAX_NAME_LENGTH) throw new Error(`the ${what} is longer than ${MAX_NAME_LENGTH} characters`);
  if (/\p{Cc}/u.test(v)) throw new Error(`the ${what} contains control characters`);
  return v;
}

/**
 * Record the model and hook names of dataset `id` (and, optionally, its token ids), in one manifest write.
 * @param loadBuiltinModel reads the built-in checkpoint's bytes (to check the hook against its layer count)
 * @throws Error naming the problem (unknown dataset, a name too long or with control characters, a hook the built-in
 *   model does not have, token ids whose count differs from the dataset's rows, ids outside the vocabulary, a first
 *   row that is not BOS (built-in model), token ids of another model without a tokenizer, a tokenizer file that does
 *   not parse — the message names the file); nothing is changed then.
 */
export async function setDatasetNames(
  store: DatasetStore,
  id: string,
  names: DatasetNames,
  loadBuiltinModel: () => Promise<Uint8Array>,
): Promise<DatasetManifest> {
  const m = await store.get(id);
  if (!m) throw new Error(`dataset "${id}" not found`);
  const modelName = checkName('model name', names.modelName);
  const hookName = checkName('hook name', names.hookName);
  const metadata: Record<string, string> = { ...(m.metadata ?? {}) };
  for (const k of ['model_name', 'model', 'hook_name', 'hook', 'hook_point']) delete metadata[k];
  if (modelName) metadata.model_name = modelName;
  if (hookName) metadata.hook_name = hookName;
  let lm: LmProvenance | undefined = m.lm;
  /** Values to write just before the manifest: [key, value]. */
  const pending: [string, unknown][] = [];
  const stamp = Date.now();
  let tokenizer = m.tokenizer;
  if (names.tokenizer) {
    // Loaded on demand: the tokenizer library stays out of the main bundle until a tokenizer is attached.
    const { parseDatasetTokenizer } = await import('./dataset-tokenizer');
    const t = parseDatasetTokenizer(names.tokenizer.bytes, names.tokenizer.name);
    tokenizer = {
      kind: t.kind,
      name: names.tokenizer.name,
      vocabSize: t.vocabSize,
      key: `shard/${m.id}/names-${stamp}/tokenizer`,
    };
    pending.push([tokenizer.key, { bytes: names.tokenizer.bytes }]);
  }
  let tokenIds = m.tokenIds;
  const builtin = modelName === BUILTIN_MODEL.name;
  if (builtin && hookName) {
    const model = parseLlamaCheckpoint(await loadBuiltinModel(), BUILTIN_MODEL.checkpoint);
    parseHook(hookName, model.config);
    if (names.tokenIds) {
      const { ids, name } = names.tokenIds;
      if (ids.length !== m.nTokens)
        throw new Error(
          `${name}: ${ids.length} token ids, but the dataset "${m.name}" has ${m.nTokens} rows`,
        );
      if (ids[0] !== BOS)
        throw new Error(`${name}: the first token must be BOS (id ${BOS}) to start a document`);
      const vocab = model.config.vocabSize;
      const bad = ids.findIndex((t) => t < 0 || t >= vocab);
      if (bad >= 0)
        throw new Error(`${name}: token id ${ids[bad]} at row ${bad} is outside the vocabulary (${vocab})`);
      const tokensKey = `shard/${m.id}/names-${stamp}/tokens`;
      pending.push([tokensKey, { tokens: ids }]);
      lm = {
        model: BUILTIN_MODEL.name,
        modelSha256: BUILTIN_MODEL.sha256,
        hook: hookName,
        ctx: names.ctx ?? 512,
        text: name,
        textSha256: '',
        tokens: { kind: 'key', key: tokensKey },
      };
    } else if (lm) lm = { ...lm, hook: hookName };
  } else if (names.tokenIds) {
    const { ids, name } = names.tokenIds;
    if (!tokenizer)
      throw new Error(
        `${name}: token ids of a model other than the built-in ${BUILTIN_MODEL.name} need its tokenizer: attach a tokenizer.bin or tokenizer.json too`,
      );
    if (ids.length !== m.nTokens)
      throw new Error(`${name}: ${ids.length} token ids, but the dataset "${m.name}" has ${m.nTokens} rows`);
    const bad = ids.findIndex((t) => t < 0 || t >= tokenizer.vocabSize);
    if (bad >= 0)
      throw new Error(
        `${name}: token id ${ids[bad]} at row ${bad} is outside the vocabulary of ${tokenizer.name} (${tokenizer.vocabSize})`,
      );
    tokenIds = { name, key: `shard/${m.id}/names-${stamp}/token-ids` };
    pending.push([tokenIds.key, { tokens: ids }]);
    lm = undefined;
  } else lm = undefined;
  if (tokenizer && tokenIds && !names.tokenIds && names.tokenizer) {
    // A new tokenizer must still cover the stored ids: read them back and check.
    const stored = await store.getValue<{ tokens: Int32Array }>(tokenIds.key);
    const bad = stored ? stored.tokens.findIndex((t) => t < 0 || t >= tokenizer.vocabSize) : -1;
    if (stored && bad >= 0)
      throw new Error(
        `${tokenizer.name}: its vocabulary (${tokenizer.vocabSize}) does not cover token id ${stored.tokens[bad]} of ${tokenIds.name}`,
      );
  }
  const next: DatasetManifest = { ...m, metadata };
  if (lm) next.lm = lm;
  else delete next.lm;
  if (tokenizer) next.tokenizer = tokenizer;
  if (tokenIds) next.tokenIds = tokenIds;
  try {
    for (const [key, value] of pending) await store.putValue(key, value);
    await store.commit(next);
  } catch (e) {
    await store.deleteKeys(pending.map(([key]) => key)).catch(() => {});
    throw e;
  }
  // Token ids or a tokenizer that were replaced are no longer listed: free them now.
  const owned = (d: DatasetManifest) =>
    [
      d.lm?.tokens.kind === 'key' ? d.lm.tokens.key : '',
      d.tokenizer?.key ?? '',
      d.tokenIds?.key ?? '',
    ].filter(Boolean);
  const kept = new Set(owned(next));
  const freed = owned(m).filter((k) => !kept.has(k));
  if (freed.length) await store.deleteKeys(freed).catch(() => {});
  return next;
}
