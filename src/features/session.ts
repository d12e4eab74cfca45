/**
 * The feature dashboard's data for one run, wherever its SAE came from (trained here, or imported into the run
 * library): "a run id → its final parameters (the run's checkpoint) + a dataset of matching d_model". Holds the
 * inference SAE (raw activation space), the dataset rows, the token ids, and — when the dataset's model is one the
 * lab has — the tokenizer and the model, and answers the dashboard's questions: the feature pass, one latent's
 * contexts / logit effects / neighbours, and "try a text".
 */
import type { DatasetSource } from '../data/types';
import { parseNpyI32 } from '../lm/behaviour';
import { type LlamaModel, parseLlamaCheckpoint } from '../lm/checkpoint';
import { llama2cVocab, parseDatasetTokenizer, tokenizerVocab } from '../lm/dataset-tokenizer';
import { lmForwardCpu } from '../lm/forward-cpu';
import { parseHook } from '../lm/hooks';
import { BUILTIN_MODEL, datasetProvenance, type LmProvenance } from '../lm/provenance';
import { type InferenceSae, inferenceSaeFromParams } from '../lm/sae-splice';
import { BOS, decodePiece, encode, parseTokenizer, type Tokenizer } from '../lm/tokenizer';
import type { CheckpointStore } from '../train/checkpoint';
import { DEFAULT_CONFIG, engineShape } from '../train/config';
import { CONTEXT_RADIUS, contextRange, type FeatureContext, latentOnRows } from './context';
import { decoderNeighbours, type LogitEffects, logitEffects, type Neighbour } from './decoder';
import { BANDS, encodeSparse, type FeatureStats, PER_BAND, type RowReader, TOP_N } from './pass';

/** Where a session reads files and stored values. */
export interface SessionDeps {
  checkpoints: CheckpointStore;
  openDataset(id: string): Promise<DatasetSource>;
  /** Bytes of a file under the app's base URL. */
  fetchBytes(path: string): Promise<Uint8Array>;
  /** An Int32Array of token ids stored in the dataset store under a key. */
  readTokens(key: string): Promise<Int32Array | undefined>;
  /** The bytes of a tokenizer file attached to a dataset, stored under a key (src/lm/dataset-names.ts). */
  readTokenizer?(key: string): Promise<Uint8Array | undefined>;
}

/** One latent's dashboard data beyond the stored pass. Plain data. */
export interface FeatureDetail {
  latent: number;
  /** Top contexts (value descending) and quantile-band samples (band 0 = weakest), each ±CONTEXT_RADIUS tokens. */
  top: FeatureContext[];
  bands: { band: number; contexts: FeatureContext[] }[];
  neighbours: Neighbour[];
  /** Logit effects, or null when the dataset's model is not one the lab has. */
  logits: LogitEffects | null;
}

/** "Try a text": per token, its text and the latents that fire there (value descending). */
export interface TryTextResult {
  pieces: string[];
  latents: { latent: number; value: number }[][];
}

/** Shards kept in memory for context reads. */
const SHARD_CACHE = 8;

/** The dashboard session of one run (module comment). */
export class FeatureSession {
  private readonly shards = new Map<number, Float32Array>();

  private constructor(
    readonly runId: string,
    readonly datasetId: string,
    readonly sae: InferenceSae,
    readonly source: DatasetSource,
    /** Token id of every dataset row, or null when the dataset has none. */
    readonly tokens: Int32Array | null,
    readonly tokenizer: Tokenizer | null,
    readonly model: LlamaModel | null,
    readonly provenance: LmProvenance | null,
    /** Text of each token id, from the built-in tokenizer or the one attached to the dataset; [] when none. */
    private readonly vocabText: string[],
    /** Id that starts a document in the token ids (contexts are cut there); −1 for none. */
    readonly bosId: number = BOS,
  ) {}

  /**
   * Open run `runId`: its checkpoint's parameters and its dataset (or `datasetId`, any dataset of the same
   * d_model), with token ids, tokenizer and model when the dataset's provenance names the built-in model; otherwise
   * with the token ids and tokenizer attached to the dataset (src/lm/dataset-names.ts), when it has them.
   * @throws Error naming the run or dataset when the checkpoint or dataset is missing or d_model differs, or naming
   *   the tokenizer file when the stored one is missing or does not parse.
   */
  static async open(runId: string, deps: SessionDeps, datasetId?: string): Promise<FeatureSession> {
    const cp = await deps.checkpoints.load(runId);
    if (!cp) throw new Error(`run "${runId}" has no stored weights (checkpoint)`);
    const m = cp.meta;
    const id = datasetId ?? m.datasetId;
    const source = await deps.openDataset(id).catch(() => {
      throw new Error(`the dataset "${m.datasetName}" of run "${runId}" is not in this browser`);
    });
    const man = source.manifest;
    if (man.dModel !== m.dModel) {
      throw new Error(
        `dataset "${man.name}" has d_model ${man.dModel}; the SAE of run "${runId}" has ${m.dModel}`,
      );
    }
    const shape = engineShape({ ...DEFAULT_CONFIG, ...m.config }, m.dModel, m.dSae);
    const sae = inferenceSaeFromParams(cp.data.state.params, shape, m.scale);
    const prov = datasetProvenance(man) ?? null;
    let tokens: Int32Array | null = null;
    let tokenizer: Tokenizer | null = null;
    let model: LlamaModel | null = null;
    if (prov) {
      tokens =
        (prov.tokens.kind === 'url'
          ? parseNpyI32(await deps.fetchBytes(prov.tokens.path), prov.tokens.path)
          : await deps.readTokens(prov.tokens.key)) ?? null;
      if (tokens && tokens.length !== man.nTokens) {
        throw new Error(`dataset "${man.name}" has ${man.nTokens} rows but ${tokens.length} token ids`);
      }
      if (prov.model === BUILTIN_MODEL.name) {
        model = parseLlamaCheckpoint(
          await deps.fetchBytes(BUILTIN_MODEL.checkpoint),
          BUILTIN_MODEL.checkpoint,
        );
        parseHook(prov.hook, model.config);
        tokenizer = parseTokenizer(
          await deps.fetchBytes(BUILTIN_MODEL.tokenizer),
          BUILTIN_MODEL.tokenizer,
          model.config.vocabSize,
        );
      }
    }
    let vocabText = tokenizer ? llama2cVocab(tokenizer) : [];
    let bosId = BOS;
    if (!tokenizer && man.tokenizer) {
      const t = man.tokenizer;
      const bytes = await deps.readTokenizer?.(t.key);
      if (!bytes)
        throw new Error(`the tokenizer ${t.name} of dataset "${man.name}" is missing from the store`);
      const parsed = parseDatasetTokenizer(bytes, t.name);
      vocabText = tokenizerVocab(parsed);
      bosId = parsed.bosId;
      if (!tokens && man.tokenIds) {
        tokens = (await deps.readTokens(man.tokenIds.key)) ?? null;
        if (tokens && tokens.length !== man.nTokens) {
          throw new Error(`dataset "${man.name}" has ${man.nTokens} rows but ${tokens.length} token ids`);
        }
      }
    }
    return new FeatureSession(runId, id, sae, source, tokens, tokenizer, model, prov, vocabText, bosId);
  }

  /** Rows [start, start + count) of the dataset, raw activations [count, D]. */
  async readRows(start: number, count: number): Promise<Float32Array> {
    const man = this.source.manifest;
    const D = man.dModel;
    const out = new Float32Array(count * D);
    let r = start;
    while (r < start + count) {
      const si = Math.floor(r / man.shardRows);
      let shard = this.shards.get(si);
      if (!shard) {
        shard = await this.source.readShard(si);
        if (this.shards.size >= SHARD_CACHE) this.shards.delete(this.shards.keys().next().value as number);
        this.shards.set(si, shard);
      }
      const from = r - si * man.shardRows;
      const n = Math.min(start + count - r, man.shardRows - from);
      out.set(shard.subarray(from * D, (from + n) * D), (r - start) * D);
      r += n;
    }
    return out;
  }

  /** The dataset as a {@link RowReader} for a pass. */
  rowReader(): RowReader {
    return { nTokens: this.source.manifest.nTokens, read: (s, n) => this.readRows(s, n) };
  }

  /** Text of each token id (empty when there is no tokenizer). */
  vocab(): string[] {
    return this.vocabText;
  }

  /** Token id at the centre of each top context [S, TOP_N] (−1 padding or without token ids). */
  topTokenIds(st: FeatureStats): Int32Array {
    const out = new Int32Array(st.topTokens.length).fill(-1);
    const tk = this.tokens;
    if (!tk) return out;
    st.topTokens.forEach((t, j) => {
      if (t >= 0) out[j] = tk[t];
    });
    return out;
  }

  /** Contexts of rows `rows` (with activations `values`) for latent `latent`, rows with −1 skipped. */
  private async contexts(latent: number, rows: ArrayLike<number>, values: ArrayLike<number>) {
    const out: FeatureContext[] = [];
    for (let j = 0; j < rows.length; j++) {
      const t = rows[j];
      if (t < 0) continue;
      const [a, b] = this.tokens ? contextRange(this.tokens, t, CONTEXT_RADIUS, this.bosId) : [t, t + 1];
      const acts = latentOnRows(this.sae, await this.readRows(a, b - a), latent);
      const ids = this.tokens ? Array.from(this.tokens.subarray(a, b)) : [];
      out.push({ row: t, value: values[j], start: a, ids, acts });
    }
    return out;
  }

  /** One latent's contexts, neighbours and logit effects (see {@link FeatureDetail}). @throws RangeError. */
  async detail(st: FeatureStats, latent: number): Promise<FeatureDetail> {
    if (!(Number.isInteger(latent) && latent >= 0 && latent < st.dSae))
      throw new RangeError(`latent ${latent} is outside 0..${st.dSae - 1}`);
    const k0 = latent * TOP_N;
    const top = await this.contexts(
      latent,
      st.topTokens.subarray(k0, k0 + TOP_N),
      st.topValues.subarray(k0, k0 + TOP_N),
    );
    const bands: FeatureDetail['bands'] = [];
    for (let b = 0; b < BANDS; b++) {
      const o = (latent * BANDS + b) * PER_BAND;
      const contexts = await this.contexts(
        latent,
        st.bandTokens.subarray(o, o + PER_BAND),
        st.bandValues.subarray(o, o + PER_BAND),
      );
      if (contexts.length) bands.push({ band: b, contexts });
    }
    const { wDec, dSae, dIn } = this.sae;
    const m = this.model;
    return {
      latent,
      top,
      bands,
      neighbours: decoderNeighbours(wDec, dSae, dIn, latent),
      logits: m && m.config.dim === dIn ? logitEffects(wDec, dIn, latent, m.wcls, m.rmsFinal) : null,
    };
  }

  /**
   * Run `text` (BOS + its tokens, at most the model's context) through the model to the dataset's hook and the SAE.
   * @throws Error when the dataset's model is not one the lab has, or the text is empty.
   */
  tryText(text: string, perToken = 8): TryTextResult {
    const m = this.model;
    const tok = this.tokenizer;
    const prov = this.provenance;
    if (!m || !tok || !prov)
      throw new Error('"Try a text" needs the dataset\'s model, which the lab does not have');
    const ids = encode(tok, text, true).slice(0, Math.min(prov.ctx, m.config.seqLen));
    if (ids.length < 2) throw new Error('Type some text first.');
    let acts: Float32Array | null = null;
    lmForwardCpu(m, ids, {
      hooks: { [prov.hook]: { read: (x) => (acts = x.slice()) } },
      stopAfter: prov.hook,
    });
    if (!acts) throw new Error(`the hook ${prov.hook} was not reached`);
    const D = this.sae.dIn;
    const x = acts as Float32Array;
    const pieces: string[] = [];
    const latents: TryTextResult['latents'] = [];
    for (let t = 0; t < ids.length; t++) {
      pieces.push(new TextDecoder().decode(decodePiece(tok, t > 0 ? ids[t - 1] : -1, ids[t])));
      const z = latentRow(this.sae, x.subarray(t * D, (t + 1) * D));
      latents.push(z.slice(0, perToken));
    }
    return { pieces, latents };
  }
}

/** Firing latents of one row x [D], value descending (ties to the lower index). */
function latentRow(sae: InferenceSae, x: Float32Array): { latent: number; value: number }[] {
  const z = encodeSparse(sae, x);
  const out: { latent: number; value: number }[] = [];
  for (let j = z.offsets[0]; j < z.offsets[1]; j++) out.push({ latent: z.ids[j], value: z.values[j] });
  return out.sort((a, b) => b.value - a.value || a.latent - b.latent);
}
