/**
 * Contexts of a latent's examples: the ±{@link CONTEXT_RADIUS} tokens around a row, cut at its document's
 * boundaries (documents start at BOS, id 1, as in src/lm/text.ts), with the latent's activation at every position.
 */
import type { InferenceSae } from '../lm/sae-splice';
import { BOS } from '../lm/tokenizer';
import { encodeSparse } from './pass';

/** Tokens shown on each side of an example. */
export const CONTEXT_RADIUS = 8;

/**
 * Rows [a, b) of the context of row t: at most `radius` rows either side, never before t's document's BOS nor at
 * or after the next BOS.
 * @param bos the id that starts a document (llama2.c: 1; an imported tokenizer's own, or −1 for no cut)
 * @throws RangeError when t is outside the token array.
 */
export function contextRange(
  tokens: ArrayLike<number>,
  t: number,
  radius = CONTEXT_RADIUS,
  bos = BOS,
): [number, number] {
  if (!(t >= 0 && t < tokens.length)) throw new RangeError(`row ${t} is outside 0..${tokens.length - 1}`);
  let a = t;
  while (a > 0 && t - a < radius && tokens[a] !== bos) a--;
  let b = t + 1;
  while (b < tokens.length && b - t <= radius && tokens[b] !== bos) b++;
  return [a, b];
}

/** One example: the centre row, its activation, and its context rows with their token ids and activations. */
export interface FeatureContext {
  /** Dataset row of the example and the latent's activation there. */
  row: number;
  value: number;
  /** First row of the context; ids and activations of rows [start, start + ids.length). */
  start: number;
  ids: number[];
  acts: number[];
}

/**
 * The latent's activation on each row of x [R, D] (raw activations): the SAE's latents (TopK, threshold or ReLU)
 * read at one index. float32 values as numbers.
 */
export function latentOnRows(sae: InferenceSae, x: Float32Array, latent: number): number[] {
  const z = encodeSparse(sae, x);
  const out = new Array<number>(z.rows).fill(0);
  for (let r = 0; r < z.rows; r++) {
    for (let j = z.offsets[r]; j < z.offsets[r + 1]; j++) if (z.ids[j] === latent) out[r] = z.values[j];
  }
  return out;
}
