/**
 * CPU twin of shaders/topk.wgsl: per-row TopK selection of pre-activations.
 *
 * Shape legend: R = rows, S = d_sae, k = latents kept per row.
 *
 * Order and ties (the GPU does exactly the same):
 *  - values are compared through {@link f32OrderKey}, a u32 whose unsigned order is the float order
 *    (−Inf < … < −0 < +0 < … < +Inf; NaNs sort by bit pattern, positive NaNs above +Inf);
 *  - among equal keys, the LOWER latent index wins;
 *  - each output row lists its k picks by key descending, then index ascending.
 * The values written are the raw pre-activations (ReLU is applied by the decoder: latent = max(value, 0)),
 * following Gao et al. 2024 §2.3 (z = ReLU(TopK(pre))); seed 000_03f50111ba1a6c62.txt.
 */

import { f32OrderKey } from '../sae/formulas';
import type { TopKResult } from '../sae/kernel-types';

export { f32OrderKey } from '../sae/formulas';
export type { TopKResult } from '../sae/kernel-types';

/**
 * Keep the k largest pre-activations of every row.
 * @param pre f32 [R, S] pre-activations
 * @returns indices u32 [R, k] and values f32 [R, k], each row ordered by value descending, ties by index ascending
 * @throws RangeError when k is not in [1, S] or `pre` is shorter than R·S.
 */
export function topkCpu(pre: Float32Array, rows: number, dSae: number, k: number): TopKResult {
  if (!Number.isInteger(k) || k < 1 || k > dSae)
    throw new RangeError(`topkCpu: k must be an integer in [1, d_sae=${dSae}], got ${k}`);
  if (pre.length < rows * dSae)
    throw new RangeError(`topkCpu: pre has ${pre.length} elements, needs ${rows * dSae}`);
  const S = dSae;
  const indices = new Uint32Array(rows * k);
  const values = new Float32Array(rows * k);
  const keys = new Uint32Array(S);
  const sorted = new Uint32Array(S);
  const pick = new Uint32Array(k);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < S; s++) keys[s] = f32OrderKey(pre[r * S + s]);
    sorted.set(keys);
    sorted.sort(); // typed-array sort is numeric ascending
    const threshold = sorted[S - k];
    let n = 0;
    for (let s = 0; s < S; s++) if (keys[s] > threshold) pick[n++] = s;
    for (let s = 0; s < S && n < k; s++) if (keys[s] === threshold) pick[n++] = s;
    const order = Array.from(pick).sort((a, b) => keys[b] - keys[a] || a - b);
    for (let j = 0; j < k; j++) {
      indices[r * k + j] = order[j];
      values[r * k + j] = pre[r * S + order[j]];
    }
  }
  return { indices, values };
}
