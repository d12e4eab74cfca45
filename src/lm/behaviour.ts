/**
 * Behavioural evaluation of a training run (patched CE, src/sae/metrics.ts) in the lab worker: the SAE is spliced
 * into the language model its dataset was harvested from, on held-out documents — the documents whose rows lie
 * wholly in the run's held-out split (src/lm/text.ts heldOutDocuments), never trained on.
 *
 * - live: every held-out evaluation of the run, on the first {@link LIVE_DOCUMENTS} held-out documents (a small
 *   fixed set, so points are comparable); the point carries how many tokens it used.
 * - final: after the run, on every held-out document, with bootstrap intervals.
 * The model runs on its CPU twin (src/lm/forward-cpu.ts): stories260K takes well under a second per document.
 */

import { type PatchedCeMetrics, patchedCeMetrics } from '../sae/metrics';
import type { SaeParams, SaeShape } from '../sae/types';
import { type LlamaModel, parseLlamaCheckpoint } from './checkpoint';
import { patchedCeCpu } from './corpus-cpu';
import { parseHook } from './hooks';
import { BUILTIN_MODEL, type LmProvenance } from './provenance';
import { inferenceSaeFromParams, saeSplice } from './sae-splice';
import { heldOutDocuments } from './text';

/** Held-out documents of the live curve. */
export const LIVE_DOCUMENTS = 2;

/** One behavioural evaluation, as the worker reports it. Plain data. */
export interface BehaviourPoint {
  runId: string;
  /** Training step the SAE was taken at. */
  step: number;
  /** True for the end-of-run evaluation on every held-out document. */
  final: boolean;
  hook: string;
  model: string;
  metrics: PatchedCeMetrics;
}

/** Fetches a file under the app's base URL (the worker passes `fetch`-based loading). */
export type FetchBytes = (path: string) => Promise<Uint8Array>;

/** Reads an Int32Array stored in the dataset store under a key. */
export type ReadTokens = (key: string) => Promise<Int32Array | undefined>;

/** An int32 .npy's data. @throws Error naming the file when it is not a little-endian int32 .npy. */
export function parseNpyI32(bytes: Uint8Array, name: string): Int32Array {
  if (bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') {
    throw new Error(`${name}: not a .npy file`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const len = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + len));
  if (!/'descr':\s*'<i4'/.test(header)) throw new Error(`${name}: dtype must be '<i4'`);
  return new Int32Array(bytes.slice(start + len).buffer);
}

/** Patched-CE evaluator of one run. */
export class BehaviourEval {
  private constructor(
    readonly model: LlamaModel,
    readonly hook: string,
    /** Held-out documents, token ids each starting at BOS. */
    readonly documents: Int32Array[],
  ) {}

  /**
   * Set up for a dataset with provenance `prov` and a run whose training rows are [0, trainRows).
   * @returns null when the model is not one the lab has (only the built-in one today) or no document lies wholly
   *   in the held-out split.
   * @throws Error when the model or token files cannot be loaded, or the hook is not the model's.
   */
  static async open(
    prov: LmProvenance,
    trainRows: number,
    nTokens: number,
    fetchBytes: FetchBytes,
    readTokens: ReadTokens,
  ): Promise<BehaviourEval | null> {
    if (prov.model !== BUILTIN_MODEL.name) return null;
    const model = parseLlamaCheckpoint(await fetchBytes(BUILTIN_MODEL.checkpoint), BUILTIN_MODEL.checkpoint);
    parseHook(prov.hook, model.config);
    const tokens =
      prov.tokens.kind === 'url'
        ? parseNpyI32(await fetchBytes(prov.tokens.path), prov.tokens.path)
        : await readTokens(prov.tokens.key);
    if (!tokens) throw new Error(`the token ids of the dataset (${prov.tokens.kind}) are missing`);
    if (tokens.length !== nTokens) {
      throw new Error(`the dataset has ${nTokens} rows but ${tokens.length} token ids`);
    }
    const docs = heldOutDocuments(tokens, trainRows).map(([a, b]) => tokens.slice(a, b));
    return docs.length ? new BehaviourEval(model, prov.hook, docs) : null;
  }

  /**
   * Evaluate the SAE (training-space params, activation scale `scale`) on the first `limit` held-out documents
   * (all when undefined). Seeded bootstrap (seed 0).
   */
  evaluate(params: SaeParams, shape: SaeShape, scale: number, limit?: number): PatchedCeMetrics {
    const sae = inferenceSaeFromParams(params, shape, scale);
    const docs = limit === undefined ? this.documents : this.documents.slice(0, limit);
    return patchedCeMetrics(patchedCeCpu(this.model, docs, this.hook, saeSplice(sae)), 0);
  }
}
