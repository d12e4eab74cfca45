/**
 * Whole-corpus work on the CPU twin: mean next-token cross-entropy, harvesting activations at a hook, and the
 * patched-CE evaluation (clean / spliced / zero-ablated forward passes). The GPU model does the same in the worker;
 * these are the oracle and the engine of `npm run lm` (scripts/lm.mjs).
 *
 * Sequences are token-id arrays that start with BOS (src/lm/text.ts); targets are positions 1..T−1, so BOS is never
 * a target.
 */
import type { PatchedDocSums } from '../sae/metrics';
import type { LlamaModel } from './checkpoint';
import { lmForwardCpu, logSoftmaxCpu, tokenCeCpu, tokenKlCpu } from './forward-cpu';
import { parseHook } from './hooks';

/** Progress of a long corpus pass: documents and tokens done so far. */
export type CorpusProgress = (done: { documents: number; tokens: number }) => void;

/** Mean next-token CE of a corpus. */
export interface CorpusCe {
  /** Number of targets (Σ over documents of T − 1). */
  tokens: number;
  /** Σ of per-target CE, nats. */
  ceSum: number;
  /** ceSum / tokens, nats per token. */
  ceNatsPerToken: number;
}

/** Mean next-token CE over sequences (each predicting its tokens 1..T−1), token-weighted. */
export function corpusCeCpu(
  m: LlamaModel,
  seqs: readonly ArrayLike<number>[],
  progress?: CorpusProgress,
): CorpusCe {
  let tokens = 0;
  let ceSum = 0;
  let seen = 0;
  const V = m.config.vocabSize;
  seqs.forEach((s, i) => {
    const logits = lmForwardCpu(m, s) as Float32Array;
    const ce = tokenCeCpu(logSoftmaxCpu(logits, s.length, V), s, V);
    for (const c of ce) ceSum += c;
    tokens += ce.length;
    seen += s.length;
    progress?.({ documents: i + 1, tokens: seen });
  });
  return { tokens, ceSum, ceNatsPerToken: ceSum / tokens };
}

/** Activations harvested at one hook, with the token id, document and position of every row. */
export interface Harvest {
  /** float32 [N, d_model], rows in document order. */
  activations: Float32Array;
  dModel: number;
  /** Token id per row [N]. */
  tokens: Int32Array;
  /** Document index per row [N]. */
  documents: Int32Array;
  /** Position within its document per row [N] (0 = BOS). */
  positions: Int32Array;
}

/**
 * Run the model on every sequence, stopping after `hook`, and collect the activations there (every position,
 * BOS included).
 * @throws Error "unknown hook …" when the hook is not one of the model's.
 */
export function harvestCpu(
  m: LlamaModel,
  seqs: readonly ArrayLike<number>[],
  hook: string,
  progress?: CorpusProgress,
): Harvest {
  parseHook(hook, m.config);
  const D = m.config.dim;
  const N = seqs.reduce((s, q) => s + q.length, 0);
  const out: Harvest = {
    activations: new Float32Array(N * D),
    dModel: D,
    tokens: new Int32Array(N),
    documents: new Int32Array(N),
    positions: new Int32Array(N),
  };
  let row = 0;
  seqs.forEach((s, doc) => {
    const at = row;
    lmForwardCpu(m, s, {
      hooks: { [hook]: { read: (x) => out.activations.set(x, at * D) } },
      stopAfter: hook,
    });
    for (let t = 0; t < s.length; t++) {
      out.tokens[row + t] = s[t];
      out.documents[row + t] = doc;
      out.positions[row + t] = t;
    }
    row += s.length;
    progress?.({ documents: doc + 1, tokens: row });
  });
  return out;
}

/**
 * Per-document sums of one patched-CE evaluation. All in nats, summed over the document's targets (positions
 * 1..T−1): CE of the clean model, with the hook spliced, with the hook zero-ablated; KL(clean ‖ spliced) and
 * KL(clean ‖ zero-ablated) per predicting position. The type is src/sae/metrics.ts PatchedDocSums (patchedCeMetrics
 * summarises a list of them).
 */
export type PatchedDoc = PatchedDocSums;

/** A splice: the activations [T, D] at the hook → their replacement [T, D] (e.g. an SAE's reconstruction). */
export type Splice = (x: Float32Array, tokens: number, dModel: number) => Float32Array;

const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);

/**
 * Three forward passes per document — clean, with `splice` at `hook`, with zeros at `hook` — and their CE and KL
 * sums (see {@link PatchedDoc}). Summarise with src/sae/metrics.ts `patchedCeMetrics`.
 * @throws Error "unknown hook …" when the hook is not one of the model's.
 */
export function patchedCeCpu(
  m: LlamaModel,
  seqs: readonly ArrayLike<number>[],
  hook: string,
  splice: Splice,
  progress?: CorpusProgress,
): PatchedDoc[] {
  parseHook(hook, m.config);
  const V = m.config.vocabSize;
  let seen = 0;
  return seqs.map((s, i) => {
    const T = s.length;
    const clean = logSoftmaxCpu(lmForwardCpu(m, s) as Float32Array, T, V);
    const sae = logSoftmaxCpu(
      lmForwardCpu(m, s, { hooks: { [hook]: { replace: splice } } }) as Float32Array,
      T,
      V,
    );
    const zero = logSoftmaxCpu(
      lmForwardCpu(m, s, {
        hooks: { [hook]: { replace: (x) => new Float32Array(x.length) } },
      }) as Float32Array,
      T,
      V,
    );
    seen += T;
    progress?.({ documents: i + 1, tokens: seen });
    return {
      tokens: T - 1,
      ceClean: sum(tokenCeCpu(clean, s, V)),
      ceSae: sum(tokenCeCpu(sae, s, V)),
      ceZero: sum(tokenCeCpu(zero, s, V)),
      klSae: sum(tokenKlCpu(clean, sae, T, V)),
      klZero: sum(tokenKlCpu(clean, zero, T, V)),
    };
  });
}
