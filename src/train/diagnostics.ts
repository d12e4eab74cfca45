/**
 * Post-training diagnostics of the run summary (seed 000_03f50111ba1a6c62.txt, "Post-hoc feature diagnostics"):
 * the per-latent firing-rate distribution (rank vs rate, log-log, with the 1/n floor) and the histogram of the
 * decoder row norms (a single spike at 1.0 when the unit-norm constraint holds).
 * These are distributions for plots, not metrics; the metrics live in src/sae/metrics.ts.
 */

/**
 * Per-latent firing rates sorted from most to least frequent: rate_i = fireCounts_i / nTokens.
 * @param fireCounts u32 [d_sae] tokens each latent fired on (EvalStats.fireCounts)
 * @param nTokens tokens evaluated (> 0)
 * @returns Float64Array [d_sae], descending; zeros (never fired) at the end.
 */
export function sortedFiringRates(fireCounts: Uint32Array, nTokens: number): Float64Array {
  if (!(nTokens > 0)) throw new RangeError(`sortedFiringRates: nTokens must be positive, got ${nTokens}`);
  const r = Float64Array.from(fireCounts, (c) => c / nTokens);
  return r.sort().reverse();
}

/**
 * Euclidean norm of every decoder row.
 * @param wDec f32 [d_sae, d_model] row-major
 * @returns Float32Array [d_sae]
 */
export function decoderRowNorms(wDec: Float32Array, dSae: number, dModel: number): Float32Array {
  if (wDec.length !== dSae * dModel) {
    throw new RangeError(`decoderRowNorms: W_dec has ${wDec.length} values, expected ${dSae}×${dModel}`);
  }
  const out = new Float32Array(dSae);
  for (let s = 0; s < dSae; s++) {
    let sq = 0;
    for (let j = 0; j < dModel; j++) sq += wDec[s * dModel + j] ** 2;
    out[s] = Math.sqrt(sq);
  }
  return out;
}

/** A histogram: bin i covers [edges[i], edges[i+1]); the last bin also holds its right edge. */
export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: Float64Array;
  /** Count per bin. */
  counts: Uint32Array;
}

/**
 * Histogram of `values` over [lo, hi] with `bins` equal bins; values outside are clamped into the end bins.
 * @throws RangeError when bins < 1 or hi ≤ lo.
 */
export function histogram(values: ArrayLike<number>, bins: number, lo: number, hi: number): Histogram {
  if (!(bins >= 1) || !(hi > lo))
    throw new RangeError(`histogram: need bins ≥ 1 and hi > lo, got ${bins}, [${lo}, ${hi}]`);
  const edges = new Float64Array(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = lo + ((hi - lo) * i) / bins;
  const counts = new Uint32Array(bins);
  for (let i = 0; i < values.length; i++) {
    const b = Math.floor(((values[i] - lo) / (hi - lo)) * bins);
    counts[Math.min(bins - 1, Math.max(0, b))]++;
  }
  return { edges, counts };
}
