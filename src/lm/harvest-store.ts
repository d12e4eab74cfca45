/**
 * Harvest into the dataset library: run a language model over a text source, collect the activations at one hook,
 * and store them as an ordinary dataset of float32 shards (src/data/store.ts), with the same atomic writes as a file
 * import (src/data/importer.ts): shards go under a fresh generation while holding the shared write lock, the
 * manifest is written last, and on any error or cancellation every key written is deleted — the library is left
 * exactly as it was. Alongside the shards: the token id, document index and position of every row (one value under
 * key `shard/<id>/<gen>/tokens`, listed in the manifest's provenance), and the provenance record
 * (src/lm/provenance.ts: model name and sha256, hook, context length, text source and its sha256).
 *
 * The model runs on its CPU twin (src/lm/forward-cpu.ts) in the import worker.
 */

import { ImportCancelled, ImportError } from '../data/errors';
import { RowFingerprint } from '../data/fingerprint';
import { SHARD_BYTES } from '../data/importer';
import { type DatasetStore, newDatasetId, shardKey } from '../data/store';
import type { DatasetManifest } from '../data/types';
import { parseLlamaCheckpoint } from './checkpoint';
import { lmForwardCpu } from './forward-cpu';
import { parseHook } from './hooks';
import type { LmProvenance } from './provenance';
import { splitDocuments, tokenizeDocuments } from './text';
import { parseTokenizer } from './tokenizer';

/** What to harvest. Plain data (crosses comlink). */
export interface HarvestRequest {
  /** Dataset name. */
  name: string;
  /** llama2.c checkpoint bytes and its file name. */
  checkpoint: { name: string; bytes: Uint8Array };
  /** llama2.c tokenizer bytes and its file name. */
  tokenizer: { name: string; bytes: Uint8Array };
  /** Text source: .jsonl (`text` field per line) or text split on blank lines. */
  text: { name: string; bytes: Uint8Array };
  hook: string;
  /** Context length (BOS + at most ctx − 1 tokens per document). */
  ctx: number;
}

/** Progress of a harvest. */
export interface HarvestProgress {
  documents: number;
  totalDocuments: number;
  tokens: number;
  totalTokens: number;
  tokensPerSec: number;
  /** Seconds left at the current rate (null before the first document). */
  etaS: number | null;
}

/** Options of {@link harvestToStore}. */
export interface HarvestOptions {
  /** Set `aborted` to cancel (checked between documents). */
  signal?: { aborted: boolean };
  onProgress?: (p: HarvestProgress) => void;
  /** Shard size in bytes (tests use small shards). Default SHARD_BYTES. */
  shardBytes?: number;
}

/** Token ids, document indices and positions of a harvested dataset's rows (the value under its tokens key). */
export interface HarvestTokens {
  tokens: Int32Array;
  documents: Int32Array;
  positions: Int32Array;
}

/** sha256 of bytes, lowercase hex (WebCrypto, in pages, workers and Node). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', bytes.slice().buffer);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Harvest `req` into the store (see the module comment).
 * @returns the committed manifest
 * @throws ImportError naming the file for a bad checkpoint, tokenizer or text, an unknown hook or a bad context
 *   length; ImportCancelled when cancelled. In every error case nothing new remains in the store.
 */
export async function harvestToStore(
  store: DatasetStore,
  req: HarvestRequest,
  opts: HarvestOptions = {},
): Promise<DatasetManifest> {
  const as = <T>(file: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw new ImportError(file, (e as Error).message.replace(`${file}: `, ''));
    }
  };
  const model = as(req.checkpoint.name, () =>
    parseLlamaCheckpoint(req.checkpoint.bytes, req.checkpoint.name),
  );
  const tok = as(req.tokenizer.name, () =>
    parseTokenizer(req.tokenizer.bytes, req.tokenizer.name, model.config.vocabSize),
  );
  as(req.checkpoint.name, () => parseHook(req.hook, model.config));
  if (!(Number.isInteger(req.ctx) && req.ctx >= 2 && req.ctx <= model.config.seqLen)) {
    throw new ImportError(
      req.checkpoint.name,
      `context length ${req.ctx}: must be 2..${model.config.seqLen} (the model's seq_len)`,
    );
  }
  const docs = as(req.text.name, () =>
    splitDocuments(new TextDecoder().decode(req.text.bytes), req.text.name),
  );
  const seqs = tokenizeDocuments(tok, docs, req.ctx);
  const [modelSha, textSha] = await Promise.all([sha256Hex(req.checkpoint.bytes), sha256Hex(req.text.bytes)]);
  return store.withWriteLock(async () => {
    const D = model.config.dim;
    const N = seqs.reduce((s, q) => s + q.length, 0);
    const shardRows = Math.max(1, Math.floor((opts.shardBytes ?? SHARD_BYTES) / (4 * D)));
    const id = newDatasetId();
    const gen = Date.now();
    const written: string[] = [];
    const shardKeys: string[] = [];
    const side: HarvestTokens = {
      tokens: new Int32Array(N),
      documents: new Int32Array(N),
      positions: new Int32Array(N),
    };
    const sum = new Float64Array(D);
    let sq = 0;
    let shard = new Float32Array(Math.min(shardRows, N) * D);
    let inShard = 0;
    let row = 0;
    const t0 = performance.now();
    // Content fingerprint of the stored rows in order (src/data/fingerprint.ts), as a file import computes it.
    const fingerprint = await RowFingerprint.create();
    const flush = async () => {
      if (inShard === 0) return;
      const key = shardKey(id, gen, shardKeys.length);
      written.push(key);
      const rows = shard.slice(0, inShard * D);
      fingerprint.update(rows);
      await store.putShard(key, rows);
      shardKeys.push(key);
      inShard = 0;
      shard = new Float32Array(Math.min(shardRows, N - row) * D);
    };
    try {
      for (let d = 0; d < seqs.length; d++) {
        if (opts.signal?.aborted) throw new ImportCancelled('harvest');
        const s = seqs[d];
        let acts = new Float32Array();
        lmForwardCpu(model, s, {
          hooks: { [req.hook]: { read: (x) => (acts = x.slice()) } },
          stopAfter: req.hook,
        });
        for (let t = 0; t < s.length; t++) {
          const v = acts.subarray(t * D, (t + 1) * D);
          for (let i = 0; i < D; i++) {
            if (!Number.isFinite(v[i]))
              throw new ImportError(
                req.checkpoint.name,
                `non-finite activation at document ${d}, position ${t}`,
              );
            sum[i] += v[i];
            sq += v[i] * v[i];
          }
          shard.set(v, inShard * D);
          side.tokens[row] = s[t];
          side.documents[row] = d;
          side.positions[row] = t;
          inShard++;
          row++;
          if (inShard === shardRows) await flush();
        }
        const secs = (performance.now() - t0) / 1000;
        const rate = row / Math.max(secs, 1e-6);
        opts.onProgress?.({
          documents: d + 1,
          totalDocuments: seqs.length,
          tokens: row,
          totalTokens: N,
          tokensPerSec: rate,
          etaS: (N - row) / rate,
        });
        // Let cancellation messages in between documents.
        await new Promise((r) => setTimeout(r, 0));
      }
      await flush();
      const tokensKey = `shard/${id}/${gen}/tokens`;
      written.push(tokensKey);
      await store.putValue(tokensKey, side);
      const lm: LmProvenance = {
        model: model.name,
        modelSha256: modelSha,
        hook: req.hook,
        ctx: req.ctx,
        text: req.text.name,
        textSha256: textSha,
        tokens: { kind: 'key', key: tokensKey },
      };
      if (opts.signal?.aborted) throw new ImportCancelled('harvest');
      const manifest: DatasetManifest = {
        id,
        name: req.name,
        dModel: D,
        nTokens: N,
        shardRows,
        shardCount: shardKeys.length,
        sources: [
          {
            name: req.text.name,
            bytes: req.text.bytes.byteLength,
            dtype: '<f4',
            shape: [N, D],
            format: 'harvest',
          },
        ],
        createdAt: Date.now(),
        mean: Array.from(sum, (v) => v / N),
        meanSquaredNorm: sq / N,
        shardKeys,
        metadata: { model_name: model.name, hook_name: req.hook, context_size: String(req.ctx) },
        lm,
        fingerprint: fingerprint.digest(),
      };
      await store.commit(manifest);
      return manifest;
    } catch (e) {
      await store.deleteKeys(written).catch(() => {});
      throw e;
    }
  });
}
