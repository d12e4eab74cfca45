/**
 * Writer of the safetensors format (huggingface/safetensors, "Format" section of its README):
 *   [8 bytes: N, u64 little-endian] [N bytes: JSON header, UTF-8, space-padded] [data]
 * The header maps each tensor name to {dtype, shape, data_offsets: [begin, end)} with offsets relative to the
 * start of the data; an optional "__metadata__" maps strings to strings. We pad the header so the data starts on
 * an 8-byte boundary and lay the tensors out back to back in the order given.
 */

/** One float32 tensor to write. */
export interface F32Tensor {
  name: string;
  /** Row-major shape; the product must equal data.length. */
  shape: number[];
  data: Float32Array;
}

/**
 * Serialise float32 tensors (dtype "F32", little-endian) and optional string metadata into one safetensors file.
 * @throws RangeError when a shape does not match its data, or a name is repeated or "__metadata__".
 */
export function writeSafetensors(tensors: F32Tensor[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new RangeError(
        `safetensors: tensor "${t.name}" has ${t.data.length} values but shape [${t.shape}]`,
      );
    }
    if (t.name === '__metadata__' || t.name in header) {
      throw new RangeError(`safetensors: tensor name "${t.name}" is reserved or repeated`);
    }
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++) dv.setFloat32(at + 4 * i, t.data[i], true);
    at += 4 * t.data.length;
  }
  return out;
}
