/**
 * The feature pass: one streaming walk over a dataset's rows through an SAE's encoder, collecting per latent what
 * the feature dashboard shows (Neuronpedia / SAEDashboard's core): the top-{@link TOP_N} activations, samples from
 * activation quantile bands, a histogram of the nonzero activations, the firing count and the max activation.
 *
 * Shape legend: T = tokens scanned, D = d_model, S = d_sae, K = TOP_N (20), NB = BANDS (10), P = PER_BAND (5),
 * NH = BINS (50).
 *
 * Latents are the SAE's inference latents on raw activations (src/lm/sae-splice.ts `InferenceSae`):
 *   pre = (x − b_dec)·W_enc + b_enc,  z = ReLU(TopK_k(pre)) | pre·H(pre − θ) | ReLU(pre)   [T, S]
 * Only z > 0 counts as "firing".
 *
 * Two passes (the issue: quantile bands need each latent's max first):
 *   pass 1 — count[s] (tokens with z > 0), max[s], top-K per latent: value descending, ties to the lower token
 *            index (exact: no approximation);
 *   pass 2 — histogram: bin = min(NH − 1, ⌊z·histScale[s]⌋) with histScale = f32(NH / max[s]); quantile band
 *            b = min(NB − 1, ⌊z·bandScale[s]⌋) with bandScale = f32(NB / max[s]); in each band the P tokens of
 *            smallest priority {@link bandPriority}(seed, s, t) (ties: lower token), a seeded, order-independent
 *            choice (the GPU kernel makes the same choice whatever order it sees tokens in).
 * Pass 2 reuses pass 1's sparse latents when they fit in {@link SPARSE_CACHE_ENTRIES}, else it encodes again.
 */
import type { InferenceSae } from '../lm/sae-splice';

/** Top activations kept per latent. */
export const TOP_N = 20;
/** Quantile bands per latent and samples per band. */
export const BANDS = 10;
export const PER_BAND = 5;
/** Histogram bins over (0, max]. */
export const BINS = 50;
/** Nonzero latents kept in memory between the two passes (8 bytes each); beyond it, pass 2 encodes again. */
export const SPARSE_CACHE_ENTRIES = 1 << 23;

/** Per-latent statistics of one feature pass. Plain data (typed arrays; structured-cloneable). */
export interface FeatureStats {
  /** d_sae. */
  dSae: number;
  /** Tokens scanned (the first nTokens rows of the dataset). */
  nTokens: number;
  /** Seed of the quantile-band choice. */
  seed: number;
  /** Tokens on which each latent fires (z > 0) [S], uint32. */
  count: Uint32Array;
  /** Max activation per latent [S] (0 for a latent that never fires). */
  maxAct: Float32Array;
  /** Top activations [S, K], value descending, ties to the lower token; −∞ padding. */
  topValues: Float32Array;
  /** Row (token) index of each top activation [S, K]; −1 padding. */
  topTokens: Int32Array;
  /** Histogram counts of the nonzero activations [S, NH] over (0, max[s]]. */
  hist: Uint32Array;
  /** Band samples [S, NB, P]: activation (NaN padding) and row index (−1 padding), smallest priority first. */
  bandValues: Float32Array;
  bandTokens: Int32Array;
}

/** An SAE's latents on a block of rows, sparse: row r's latents are ids/values [offsets[r], offsets[r+1]). */
export interface SparseLatents {
  rows: number;
  offsets: Int32Array;
  ids: Int32Array;
  values: Float32Array;
}

/**
 * Seeded priority of (latent s, token t) for the band choice: murmur3's 32-bit finaliser of a mix of the three.
 * @returns an unsigned 32-bit integer; the WGSL twin (shaders/feature-bands.wgsl) computes the same bits.
 */
export function bandPriority(seed: number, s: number, t: number): number {
  let h = (Math.imul(t, 0x9e3779b1) ^ Math.imul(s + 1, 0x85ebca77) ^ seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** f32(n / max) per latent: the bin scale of pass 2 (0 for a latent with max 0). Float32Array [S]. */
export function binScales(maxAct: Float32Array, n: number): Float32Array {
  const out = new Float32Array(maxAct.length);
  for (let s = 0; s < maxAct.length; s++) out[s] = maxAct[s] > 0 ? n / maxAct[s] : 0;
  return out;
}

/** Bin of activation z > 0 with scale `scale` = f32(n / max): min(n − 1, ⌊f32(z·scale)⌋). */
export function binOf(z: number, scale: number, n: number): number {
  return Math.min(n - 1, Math.floor(Math.fround(z * scale)));
}

/**
 * Encode rows x [R, D] (raw activations) into sparse latents (module comment). TopK ties go to the lower latent.
 * @throws RangeError when x is not a whole number of rows of width d_in.
 */
export function encodeSparse(sae: InferenceSae, x: Float32Array): SparseLatents {
  const { dIn: D, dSae: S, wEnc, bEnc, bDec, activation: act } = sae;
  if (x.length % D !== 0) throw new RangeError(`encodeSparse: ${x.length} values is not a multiple of ${D}`);
  const R = x.length / D;
  const pre = new Float32Array(S);
  const offsets = new Int32Array(R + 1);
  let ids: number[] = [];
  let values: number[] = [];
  const k = act.kind === 'topk' ? Math.min(act.k, S) : 0;
  const topI = new Int32Array(k);
  const topV = new Float32Array(k);
  for (let r = 0; r < R; r++) {
    pre.set(bEnc);
    for (let i = 0; i < D; i++) {
      const xi = Math.fround(x[r * D + i] - bDec[i]);
      if (xi === 0) continue;
      const row = i * S;
      for (let s = 0; s < S; s++) pre[s] += xi * wEnc[row + s];
    }
    if (act.kind === 'topk') {
      let n = 0;
      for (let s = 0; s < S; s++) {
        const v = pre[s];
        if (n === k && !(v > topV[k - 1])) continue;
        let j = n < k ? n++ : k - 1;
        while (j > 0 && v > topV[j - 1]) {
          topV[j] = topV[j - 1];
          topI[j] = topI[j - 1];
          j--;
        }
        topV[j] = v;
        topI[j] = s;
      }
      // Ascending latent order within the row, like the other activations.
      const kept: number[] = [];
      for (let j = 0; j < n; j++) if (topV[j] > 0) kept.push(j);
      kept.sort((a, b) => topI[a] - topI[b]);
      for (const j of kept) {
        ids.push(topI[j]);
        values.push(topV[j]);
      }
    } else if (act.kind === 'threshold') {
      for (let s = 0; s < S; s++) {
        const v = pre[s];
        if (v > act.threshold[s] && v > 0) {
          ids.push(s);
          values.push(v);
        }
      }
    } else {
      for (let s = 0; s < S; s++) {
        if (pre[s] > 0) {
          ids.push(s);
          values.push(pre[s]);
        }
      }
    }
    offsets[r + 1] = ids.length;
  }
  const out = { rows: R, offsets, ids: Int32Array.from(ids), values: Float32Array.from(values) };
  ids = [];
  values = [];
  return out;
}

/** Empty statistics for d_sae latents (count 0, top lists and bands padded). */
export function emptyStats(dSae: number, seed: number): FeatureStats {
  return {
    dSae,
    nTokens: 0,
    seed,
    count: new Uint32Array(dSae),
    maxAct: new Float32Array(dSae),
    topValues: new Float32Array(dSae * TOP_N).fill(Number.NEGATIVE_INFINITY),
    topTokens: new Int32Array(dSae * TOP_N).fill(-1),
    hist: new Uint32Array(dSae * BINS),
    bandValues: new Float32Array(dSae * BANDS * PER_BAND).fill(Number.NaN),
    bandTokens: new Int32Array(dSae * BANDS * PER_BAND).fill(-1),
  };
}

/**
 * Offer (value v, token t) to latent s's top list: kept when it beats the last entry (value descending, ties to the
 * lower token index), inserted in order.
 */
export function offerTop(st: FeatureStats, s: number, v: number, t: number): void {
  const base = s * TOP_N;
  const tv = st.topValues;
  const tt = st.topTokens;
  const last = base + TOP_N - 1;
  if (!(v > tv[last] || (v === tv[last] && tt[last] >= 0 && t < tt[last]))) return;
  let j = last;
  while (j > base && (v > tv[j - 1] || (v === tv[j - 1] && (tt[j - 1] < 0 || t < tt[j - 1])))) {
    tv[j] = tv[j - 1];
    tt[j] = tt[j - 1];
    j--;
  }
  tv[j] = v;
  tt[j] = t;
}

/** Pass 1 on a block of sparse latents whose first row is dataset row `row0`: counts, max, top lists. */
export function accumulatePass1(st: FeatureStats, z: SparseLatents, row0: number): void {
  for (let r = 0; r < z.rows; r++) {
    const t = row0 + r;
    for (let j = z.offsets[r]; j < z.offsets[r + 1]; j++) {
      const s = z.ids[j];
      const v = z.values[j];
      st.count[s]++;
      if (v > st.maxAct[s]) st.maxAct[s] = v;
      offerTop(st, s, v, t);
    }
  }
}

/** Pass 2 on a block (after pass 1 over every row): histogram and band samples. Scales from {@link binScales}. */
export function accumulatePass2(
  st: FeatureStats,
  z: SparseLatents,
  row0: number,
  histScale: Float32Array,
  bandScale: Float32Array,
): void {
  for (let r = 0; r < z.rows; r++) {
    const t = row0 + r;
    for (let j = z.offsets[r]; j < z.offsets[r + 1]; j++) {
      const s = z.ids[j];
      const v = z.values[j];
      st.hist[s * BINS + binOf(v, histScale[s], BINS)]++;
      offerBand(st, s, binOf(v, bandScale[s], BANDS), v, t);
    }
  }
}

/** Priorities of the kept band samples, recomputed from their tokens (−1 → +∞). */
function keptPriority(st: FeatureStats, s: number, slot: number): number {
  const t = st.bandTokens[slot];
  return t < 0 ? Number.POSITIVE_INFINITY : bandPriority(st.seed, s, t);
}

/** Offer (v, t) to band b of latent s: the PER_BAND smallest priorities are kept, ascending (ties: lower token). */
export function offerBand(st: FeatureStats, s: number, b: number, v: number, t: number): void {
  const base = (s * BANDS + b) * PER_BAND;
  const p = bandPriority(st.seed, s, t);
  const last = base + PER_BAND - 1;
  const pl = keptPriority(st, s, last);
  if (!(p < pl || (p === pl && t < st.bandTokens[last]))) return;
  let j = last;
  while (j > base) {
    const pj = keptPriority(st, s, j - 1);
    if (!(p < pj || (p === pj && t < st.bandTokens[j - 1]))) break;
    st.bandTokens[j] = st.bandTokens[j - 1];
    st.bandValues[j] = st.bandValues[j - 1];
    j--;
  }
  st.bandTokens[j] = t;
  st.bandValues[j] = v;
}

/** Progress of a pass: pass 1 or 2, rows done of rows in all. */
export type PassProgress = (p: { pass: 1 | 2; rows: number; total: number }) => void;

/** Where a pass reads rows: `read(start, count)` gives raw activations [count, D] of rows [start, start+count). */
export interface RowReader {
  /** Rows available. */
  nTokens: number;
  read(start: number, count: number): Promise<Float32Array>;
}

/** Options of {@link featurePassCpu}. */
export interface PassOptions {
  /** Scan only the first `maxTokens` rows (the token budget). Default: all. */
  maxTokens?: number;
  /** Rows per block. Default 2048. */
  blockRows?: number;
  /** Seed of the band choice. Default 0. */
  seed?: number;
  progress?: PassProgress;
  /** Nonzero latents kept between the passes. Default {@link SPARSE_CACHE_ENTRIES}; 0 = always encode again. */
  cacheEntries?: number;
  /** Checked between blocks; when it returns true the pass throws {@link PassCancelled}. */
  cancelled?: () => boolean;
}

/** Thrown by a pass that was cancelled. */
export class PassCancelled extends Error {
  constructor() {
    super('The feature pass was cancelled.');
    this.name = 'PassCancelled';
  }
}

/**
 * The feature pass on the CPU (module comment): the twin of the GPU path, same results.
 * @throws RangeError when the reader's rows are not d_in wide; PassCancelled when cancelled.
 */
export async function featurePassCpu(
  sae: InferenceSae,
  rows: RowReader,
  o: PassOptions = {},
): Promise<FeatureStats> {
  const T = Math.min(rows.nTokens, o.maxTokens ?? rows.nTokens);
  const B = o.blockRows ?? 2048;
  const st = emptyStats(sae.dSae, o.seed ?? 0);
  st.nTokens = T;
  const cache: SparseLatents[] = [];
  let cached = 0;
  const cacheLimit = o.cacheEntries ?? SPARSE_CACHE_ENTRIES;
  let caching = cacheLimit > 0;
  const check = () => {
    if (o.cancelled?.()) throw new PassCancelled();
  };
  for (let r0 = 0; r0 < T; r0 += B) {
    check();
    const n = Math.min(B, T - r0);
    const z = encodeSparse(sae, await rows.read(r0, n));
    accumulatePass1(st, z, r0);
    cached += z.ids.length;
    if (caching && cached <= cacheLimit) cache.push(z);
    else {
      caching = false;
      cache.length = 0;
    }
    o.progress?.({ pass: 1, rows: r0 + n, total: T });
  }
  const hs = binScales(st.maxAct, BINS);
  const bs = binScales(st.maxAct, BANDS);
  for (let r0 = 0, i = 0; r0 < T; r0 += B, i++) {
    check();
    const n = Math.min(B, T - r0);
    const z = caching ? cache[i] : encodeSparse(sae, await rows.read(r0, n));
    accumulatePass2(st, z, r0, hs, bs);
    o.progress?.({ pass: 2, rows: r0 + n, total: T });
  }
  return st;
}

/** Dense latents z [R, S] (z > 0 fires) as {@link SparseLatents}. */
export function denseToSparse(z: Float32Array, dSae: number): SparseLatents {
  const R = z.length / dSae;
  const offsets = new Int32Array(R + 1);
  const ids: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < R; r++) {
    for (let s = 0; s < dSae; s++) {
      const v = z[r * dSae + s];
      if (v > 0) {
        ids.push(s);
        values.push(v);
      }
    }
    offsets[r + 1] = ids.length;
  }
  return { rows: R, offsets, ids: Int32Array.from(ids), values: Float32Array.from(values) };
}

/**
 * Both passes over blocks of dense latents (block i [R_i, S] holds the rows after block i − 1's): the CPU twin of
 * the GPU kernels shaders/feature-top.wgsl and shaders/feature-bands.wgsl (src/gpu/kernels/feature-stats.ts).
 */
export function featureStatsDenseCpu(
  blocks: readonly Float32Array[],
  dSae: number,
  seed: number,
): FeatureStats {
  const st = emptyStats(dSae, seed);
  const sparse = blocks.map((z) => denseToSparse(z, dSae));
  let row = 0;
  for (const z of sparse) {
    accumulatePass1(st, z, row);
    row += z.rows;
  }
  st.nTokens = row;
  const hs = binScales(st.maxAct, BINS);
  const bs = binScales(st.maxAct, BANDS);
  row = 0;
  for (const z of sparse) {
    accumulatePass2(st, z, row, hs, bs);
    row += z.rows;
  }
  return st;
}

/**
 * TopK latents as dense z [R, S]: zeros, then z[r, indices[r, j]] = max(0, values[r, j]). The CPU twin of
 * shaders/feature-scatter.wgsl.
 */
export function scatterTopkCpu(
  indices: Uint32Array,
  values: Float32Array,
  rows: number,
  dSae: number,
): Float32Array {
  const k = indices.length / rows;
  const z = new Float32Array(rows * dSae);
  for (let i = 0; i < rows * k; i++) z[Math.floor(i / k) * dSae + indices[i]] = Math.max(0, values[i]);
  return z;
}
