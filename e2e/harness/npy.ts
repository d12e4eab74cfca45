/**
 * Minimal, test-only reader of a numpy .npy file holding a little-endian float32 C-order 2-D array (format
 * versions 1.0–3.0). The app's real importer lives in src/data/; this one only feeds browser tests.
 */

/** A parsed 2-D float32 array. */
export interface NpyF32 {
  rows: number;
  cols: number;
  /** f32 [rows, cols], a view into the source buffer when it is 4-byte aligned. */
  data: Float32Array;
}

/**
 * Parse `bytes` as a 2-D '<f4' .npy array.
 * @param source a name for error messages (file name or URL)
 * @throws Error naming `source` and the problem: bad magic, unsupported version, dtype other than '<f4',
 *   Fortran order, a shape that is not 2-D, or a truncated payload.
 */
export function parseNpyF32(bytes: ArrayBuffer, source: string): NpyF32 {
  const u8 = new Uint8Array(bytes);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (u8.length < 10 || magic.some((b, i) => u8[i] !== b))
    throw new Error(`${source}: not a .npy file (bad magic)`);
  const major = u8[6];
  const view = new DataView(bytes);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new Error(`${source}: unsupported .npy version ${major}.${u8[7]}`);
  }
  const header = new TextDecoder('latin1').decode(u8.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  if (descr !== '<f4')
    throw new Error(`${source}: dtype ${descr ?? '?'} is not little-endian float32 ('<f4')`);
  if (!/'fortran_order'\s*:\s*False/.test(header))
    throw new Error(`${source}: Fortran-order arrays are not supported`);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  const dims = (shapeText ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (dims.length !== 2 || dims.some((d) => !Number.isInteger(d) || d < 0))
    throw new Error(`${source}: expected a 2-D shape, got (${shapeText ?? '?'})`);
  const [rows, cols] = dims;
  const offset = headerStart + headerLen;
  const need = rows * cols * 4;
  if (bytes.byteLength - offset < need)
    throw new Error(
      `${source}: payload has ${bytes.byteLength - offset} bytes, shape (${rows}, ${cols}) needs ${need}`,
    );
  const data =
    offset % 4 === 0
      ? new Float32Array(bytes, offset, rows * cols)
      : new Float32Array(bytes.slice(offset, offset + need));
  return { rows, cols, data };
}
