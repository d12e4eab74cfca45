/**
 * What a latent's decoder row says without data: its nearest latents by decoder cosine, and its direct effect on
 * the model's output logits.
 *
 * Shapes: W_dec [S, D] (row i = latent i's direction, raw activation space), W_U [V, D] (the model's classifier,
 * llama2.c `wcls`), g [D] (the final RMSNorm weight).
 *   cos(i, j)   = W_dec[i]·W_dec[j] / (‖W_dec[i]‖·‖W_dec[j]‖)      (0 when a row is zero)
 *   logit_i[v]  = Σ_d W_dec[i, d] · g[d] · W_U[v, d]                  (the final RMSNorm's weight folded in; its
 *                 1/rms scaling is left out, as in the usual "W_dec · W_U" logit lens of SAE dashboards)
 */

/** Neighbours returned per latent. */
export const NEIGHBOURS = 10;
/** Top and bottom logits returned per latent, and bins of the logit histogram. */
export const LOGITS_SHOWN = 10;
export const LOGIT_BINS = 30;

/** One decoder neighbour: latent index and cosine (signed; the ranking is by |cos|). */
export interface Neighbour {
  latent: number;
  cos: number;
}

/**
 * The {@link NEIGHBOURS} latents whose decoder rows have the largest |cos| with latent i's (i itself excluded;
 * ties to the lower index). float64 sums.
 * @throws RangeError for i outside [0, S).
 */
export function decoderNeighbours(wDec: Float32Array, dSae: number, dModel: number, i: number): Neighbour[] {
  if (!(i >= 0 && i < dSae)) throw new RangeError(`latent ${i} is outside 0..${dSae - 1}`);
  const norm = (j: number) => {
    let s = 0;
    for (let d = 0; d < dModel; d++) s += wDec[j * dModel + d] ** 2;
    return Math.sqrt(s);
  };
  const ni = norm(i);
  const out: Neighbour[] = [];
  for (let j = 0; j < dSae; j++) {
    if (j === i) continue;
    let dot = 0;
    for (let d = 0; d < dModel; d++) dot += wDec[i * dModel + d] * wDec[j * dModel + d];
    const nn = ni * norm(j);
    const cos = nn > 0 ? dot / nn : 0;
    const a = Math.abs(cos);
    if (out.length === NEIGHBOURS && !(a > Math.abs(out[NEIGHBOURS - 1].cos))) continue;
    let at = out.length;
    while (at > 0 && a > Math.abs(out[at - 1].cos)) at--;
    out.splice(at, 0, { latent: j, cos });
    if (out.length > NEIGHBOURS) out.pop();
  }
  return out;
}

/** One output token's logit effect. */
export interface LogitEntry {
  token: number;
  logit: number;
}

/** A latent's logit effects: top and bottom tokens and a histogram of all V logits. */
export interface LogitEffects {
  top: LogitEntry[];
  bottom: LogitEntry[];
  /** LOGIT_BINS equal bins over [min, max] of the logits. */
  histLo: number;
  histHi: number;
  hist: number[];
}

/**
 * Logit effects of latent i (module comment).
 * @param wU classifier [V, D]; @param g final RMSNorm weight [D]
 * @throws RangeError for i outside [0, S) or mismatched widths.
 */
export function logitEffects(
  wDec: Float32Array,
  dModel: number,
  i: number,
  wU: Float32Array,
  g: Float32Array,
): LogitEffects {
  if (g.length !== dModel || wU.length % dModel !== 0)
    throw new RangeError(`logitEffects: the model's width ${g.length} is not the SAE's d_model ${dModel}`);
  if (!(i >= 0 && i * dModel < wDec.length)) throw new RangeError(`latent ${i} is outside the SAE`);
  const V = wU.length / dModel;
  const dir = new Float64Array(dModel);
  for (let d = 0; d < dModel; d++) dir[d] = wDec[i * dModel + d] * g[d];
  const logits = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let d = 0; d < dModel; d++) s += dir[d] * wU[v * dModel + d];
    logits[v] = s;
  }
  const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => logits[b] - logits[a] || a - b);
  const entry = (v: number): LogitEntry => ({ token: v, logit: logits[v] });
  const lo = logits[order[V - 1]];
  const hi = logits[order[0]];
  const hist = new Array<number>(LOGIT_BINS).fill(0);
  for (let v = 0; v < V; v++) {
    const b = hi > lo ? Math.min(LOGIT_BINS - 1, Math.floor(((logits[v] - lo) / (hi - lo)) * LOGIT_BINS)) : 0;
    hist[b]++;
  }
  return {
    top: order.slice(0, LOGITS_SHOWN).map(entry),
    bottom: order.slice(-LOGITS_SHOWN).reverse().map(entry),
    histLo: lo,
    histHi: hi,
    hist,
  };
}
