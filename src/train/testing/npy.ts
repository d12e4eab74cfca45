/**
 * Minimal reader of numpy .npy v1/v2 files holding little-endian float32 C-order arrays, for tests that train on
 * the shared stories260K activations (the product imports datasets through src/data/).
 */

/**
 * Parse a .npy file.
 * @returns data (Float32Array, copied) and shape
 * @throws Error naming `name` when the magic, version, dtype ('<f4') or order is not supported.
 */
export function parseNpyF32(bytes: Uint8Array, name = 'array.npy'): { data: Float32Array; shape: number[] } {
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (magic !== '\x93NUMPY') throw new Error(`${name}: not a .npy file (bad magic)`);
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  if (!/'descr':\s*'<f4'/.test(header))
    throw new Error(`${name}: dtype must be '<f4', header ${header.trim()}`);
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${name}: Fortran order is not supported`);
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!m) throw new Error(`${name}: no shape in header`);
  const shape = m[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const off = start + headerLen;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  new Uint8Array(data.buffer).set(bytes.subarray(off, off + n * 4));
  return { data, shape };
}
