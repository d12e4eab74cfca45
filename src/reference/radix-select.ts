/**
 * Order keys and the k-th largest key in O(n), for the batch-level selection of src/reference/batchtopk.ts (the GPU
 * kernel, shaders/batchtopk.wgsl, finds its threshold key the same way: 4 radix passes of 8 bits from the top).
 * Pure integer work, so the result equals taking element n − k of the ascending sort of the keys.
 */
import { f32OrderKey } from '../sae/formulas';

/**
 * The order keys (src/sae/formulas.ts f32OrderKey) of x f32 [n], read from the float bits; a NaN goes through
 * f32OrderKey itself, so every key is f32OrderKey's whatever the NaN's payload. @returns u32 [n]
 */
export function f32OrderKeys(x: Float32Array, n: number): Uint32Array {
  const bits = new Uint32Array(x.buffer, x.byteOffset, n);
  const keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const u = bits[i];
    if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) keys[i] = f32OrderKey(x[i]);
    else keys[i] = (u & 0x80000000 ? ~u : u | 0x80000000) >>> 0;
  }
  return keys;
}

/**
 * The rank-th largest of keys u32 [n], equal keys counted separately (= the ascending sort's element n − rank).
 * @throws RangeError unless 1 ≤ rank ≤ n.
 */
export function kthLargestKey(keys: Uint32Array, rank: number): number {
  if (!Number.isInteger(rank) || rank < 1 || rank > keys.length)
    throw new RangeError(`kthLargestKey: rank must be 1 to ${keys.length}, got ${rank}`);
  const hist = new Uint32Array(256);
  let prefix = 0;
  let mask = 0;
  let remaining = rank;
  for (let shift = 24; shift >= 0; shift -= 8) {
    hist.fill(0);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if ((key & mask) >>> 0 === prefix) hist[(key >>> shift) & 255]++;
    }
    // The digit of the rank-th largest among the keys that share the prefix so far.
    let digit = 255;
    while (digit > 0 && hist[digit] < remaining) remaining -= hist[digit--];
    prefix = (prefix | (digit << shift)) >>> 0;
    mask = (mask | (255 << shift)) >>> 0;
  }
  return prefix;
}
