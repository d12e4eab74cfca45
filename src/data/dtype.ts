/**
 * Element types the importer reads, and their conversion to float32.
 *
 * Everything is stored as float32 rows. Conversions:
 * - f32: copied (byte-swapped when big-endian).
 * - f16 (IEEE 754 binary16): exact in float32. Decoded through a 65 536-entry table built once with
 *   `getFloat16` from @petamoriken/float16, so the library owns the bit layout and the hot loop is one lookup.
 * - bf16 (bfloat16): the top 16 bits of a float32, so widening is `bits << 16` (exact).
 * - f64: rounded to the nearest float32 (numpy's default dtype, so refusing it would turn many users away).
 *   Values beyond the float32 range become ±Inf and are then refused by the import's finite-value check.
 */
import { getFloat16 } from '@petamoriken/float16';

/** Kind of floating-point element. */
export type ElemKind = 'f32' | 'f16' | 'bf16' | 'f64';

/** An element type as stored in a file: kind and byte order. */
export interface ElemFormat {
  kind: ElemKind;
  /** Byte order in the file. */
  littleEndian: boolean;
}

/** Bytes per element of each kind. */
export const ITEM_SIZE: Record<ElemKind, number> = { f32: 4, f16: 2, bf16: 2, f64: 8 };

/** Human label of a format, e.g. "float16 (big-endian)". */
export function describeElem(f: ElemFormat): string {
  const name = { f32: 'float32', f16: 'float16', bf16: 'bfloat16', f64: 'float64' }[f.kind];
  return f.littleEndian ? name : `${name} (big-endian)`;
}

const PLATFORM_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Float32Array | null = null;
/** float32 value of every binary16 bit pattern (index = the 16 bits read little-endian). */
function halfTable(): Float32Array {
  if (!f16Table) {
    const t = new Float32Array(65536);
    const dv = new DataView(new ArrayBuffer(2));
    for (let bits = 0; bits < 65536; bits++) {
      dv.setUint16(0, bits, true);
      t[bits] = getFloat16(dv, 0, true);
    }
    f16Table = t;
  }
  return f16Table;
}

/** `bytes` as a view of `T` when its offset is aligned, else an aligned copy first. */
function aligned(bytes: Uint8Array, align: number): { buffer: ArrayBufferLike; byteOffset: number } {
  if (bytes.byteOffset % align === 0) return bytes;
  const copy = bytes.slice();
  return copy;
}

/**
 * Decode `n = bytes.length / itemSize` elements of format `f` into `out[outOffset + i·stride]` as float32.
 * @param bytes raw element bytes, length a multiple of the item size.
 * @param out destination; must have room for `outOffset + (n-1)·stride + 1` values.
 * @param stride distance between consecutive outputs (1 for contiguous; d_model when scattering a column).
 * @throws RangeError when `bytes.length` is not a multiple of the item size or `out` is too short.
 */
export function decodeToF32(
  bytes: Uint8Array,
  f: ElemFormat,
  out: Float32Array,
  outOffset = 0,
  stride = 1,
): void {
  const size = ITEM_SIZE[f.kind];
  if (bytes.length % size !== 0)
    throw new RangeError(
      `decodeToF32: ${bytes.length} bytes is not a multiple of the ${size}-byte item size`,
    );
  const n = bytes.length / size;
  if (n === 0) return;
  if (outOffset + (n - 1) * stride + 1 > out.length)
    throw new RangeError(
      `decodeToF32: output too short for ${n} values at offset ${outOffset}, stride ${stride}`,
    );
  const swap = f.littleEndian !== PLATFORM_LE;
  switch (f.kind) {
    case 'f32': {
      if (!swap && stride === 1) {
        const a = aligned(bytes, 4);
        out.set(new Float32Array(a.buffer, a.byteOffset, n), outOffset);
        return;
      }
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < n; i++) out[outOffset + i * stride] = dv.getFloat32(i * 4, f.littleEndian);
      return;
    }
    case 'f64': {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0; i < n; i++) out[outOffset + i * stride] = dv.getFloat64(i * 8, f.littleEndian);
      return;
    }
    case 'f16': {
      const t = halfTable();
      const a = aligned(bytes, 2);
      const u = new Uint16Array(a.buffer, a.byteOffset, n);
      if (swap) {
        for (let i = 0; i < n; i++) {
          const b = u[i];
          out[outOffset + i * stride] = t[((b >>> 8) | (b << 8)) & 0xffff];
        }
      } else if (stride === 1) {
        const o = out.subarray(outOffset, outOffset + n);
        for (let i = 0; i < n; i++) o[i] = t[u[i]];
      } else {
        for (let i = 0; i < n; i++) out[outOffset + i * stride] = t[u[i]];
      }
      return;
    }
    case 'bf16': {
      const a = aligned(bytes, 2);
      const u = new Uint16Array(a.buffer, a.byteOffset, n);
      const o = new Uint32Array(out.buffer, out.byteOffset, out.length);
      if (swap) {
        for (let i = 0; i < n; i++) {
          const b = u[i];
          o[outOffset + i * stride] = (((b >>> 8) | (b << 8)) & 0xffff) << 16;
        }
      } else {
        for (let i = 0; i < n; i++) o[outOffset + i * stride] = u[i] << 16;
      }
      return;
    }
  }
}
