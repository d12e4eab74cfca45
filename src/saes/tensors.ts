/**
 * Named float tensors out of the two container formats SAEs are shipped in, decoded to float32:
 *  - a `.safetensors` file (header read and validated by src/data/safetensors.ts; F32, F16, BF16, F64);
 *  - a numpy `.npz` archive (a zip of `.npy` files, unzipped with fflate; each `.npy` preamble, header dict and
 *    dtype read with the parsers of src/data/npy.ts; '<f4', '<f2', '<f8' and their big-endian forms).
 * Unlike the activation importer, tensors of any rank (0-D scalars, 1-D biases) are read. Every error is an
 * {@link ImportError} naming the file and the problem.
 */
import { unzipSync } from 'fflate';
import { decodeToF32, type ElemFormat, ITEM_SIZE } from '../data/dtype';
import { ImportError } from '../data/errors';
import { npyElemFormat, parseNpyHeaderDict, parseNpyPreamble } from '../data/npy';
import { type SafetensorsHeader, safetensorsElemKind, validateSafetensorsHeader } from '../data/safetensors';

/** One tensor decoded to float32: its name, the dtype as written in the file and its row-major shape. */
export interface NamedTensor {
  name: string;
  /** dtype as the file names it ("F32", "BF16", "<f4", …). */
  dtype: string;
  shape: number[];
  data: Float32Array;
}

/** Tensors of one file by name, in file order, with the file's name for messages. */
export interface TensorFile {
  file: string;
  tensors: Map<string, NamedTensor>;
  /** safetensors `__metadata__`, when present. */
  metadata?: Record<string, string>;
}

/**
 * The validated header of a safetensors file held in memory (src/data/safetensors.ts validates it). A file cut off
 * inside its header or its data is reported as truncated (rather than as "offsets out of range").
 * @throws ImportError for an empty, truncated or non-safetensors file or a bad header.
 */
function safetensorsHeaderOf(file: string, bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length === 0) throw new ImportError(file, 'empty file (0 bytes)');
  if (bytes.length < 8)
    throw new ImportError(file, `truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const n = dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
  if (8 + n > bytes.length)
    throw new ImportError(
      file,
      `truncated: the JSON header needs ${n} bytes but the file ends at byte ${bytes.length} (or this is not a safetensors file)`,
    );
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new ImportError(file, `bad header: not valid UTF-8 JSON (${(e as Error).message})`);
  }
  let end = 0;
  for (const [k, e] of Object.entries((header ?? {}) as Record<string, { data_offsets?: unknown }>)) {
    const off = k === '__metadata__' ? null : e?.data_offsets;
    if (Array.isArray(off) && typeof off[1] === 'number') end = Math.max(end, off[1]);
  }
  const have = bytes.length - 8 - n;
  if (end > have)
    throw new ImportError(
      file,
      `truncated: the header describes ${end} bytes of tensor data but the file holds only ${have}`,
    );
  return validateSafetensorsHeader(file, bytes.length, 8 + n, header);
}

/**
 * Read every float tensor of a safetensors file.
 * @throws ImportError for a truncated file, a bad header, or a tensor whose dtype is not F32/F16/BF16/F64
 *   (the message names the tensor and its dtype).
 */
export function readSafetensorsFile(file: string, bytes: Uint8Array): TensorFile {
  const h = safetensorsHeaderOf(file, bytes);
  const tensors = new Map<string, NamedTensor>();
  for (const t of h.tensors) {
    const kind = safetensorsElemKind(t.dtype);
    if (!kind)
      throw new ImportError(
        file,
        `tensor "${t.name}" has dtype ${t.dtype}; SAE weights must be F32, F16, BF16 or F64`,
      );
    const n = t.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const begin = h.dataStart + t.dataOffsets[0];
    decodeToF32(bytes.subarray(begin, begin + n * ITEM_SIZE[kind]), { kind, littleEndian: true }, data);
    tensors.set(t.name, { name: t.name, dtype: t.dtype, shape: t.shape, data });
  }
  const out: TensorFile = { file, tensors };
  if (h.metadata) out.metadata = h.metadata;
  return out;
}

/**
 * Read one `.npy` file of any rank (C order only).
 * @throws ImportError (naming `file`) for a bad preamble or header, an unsupported dtype, Fortran order or a
 *   data size that disagrees with the shape.
 */
export function readNpyTensor(file: string, name: string, bytes: Uint8Array): NamedTensor {
  const pre = parseNpyPreamble(file, bytes.length, bytes.subarray(0, 12));
  const dataStart = pre.headerStart + pre.headerLength;
  if (dataStart > bytes.length)
    throw new ImportError(file, `truncated: the .npy header runs past the end (${bytes.length} bytes)`);
  const text = new TextDecoder(pre.major >= 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(pre.headerStart, dataStart),
  );
  const dict = parseNpyHeaderDict(file, text);
  const elem: ElemFormat = npyElemFormat(file, dict.descr ?? null);
  if (dict.fortran_order === true)
    throw new ImportError(file, 'Fortran-order arrays are not read here; save it with np.ascontiguousarray');
  const shape = dict.shape;
  if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0))
    throw new ImportError(file, "bad header: 'shape' is not a tuple of non-negative integers");
  const dims = shape as number[];
  const n = dims.reduce((a, b) => a * b, 1);
  const need = n * ITEM_SIZE[elem.kind];
  if (bytes.length - dataStart < need)
    throw new ImportError(
      file,
      `truncated: shape [${dims.join(', ')}] needs ${need} bytes of data, the file holds ${bytes.length - dataStart}`,
    );
  const data = new Float32Array(n);
  decodeToF32(bytes.subarray(dataStart, dataStart + need), elem, data);
  return { name, dtype: String(dict.descr), shape: dims, data };
}

/**
 * Read every array of a numpy `.npz` archive (stored or deflated members `<name>.npy`).
 * @throws ImportError when the file is not a zip, or for any member {@link readNpyTensor} refuses.
 */
export function readNpzFile(file: string, bytes: Uint8Array): TensorFile {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (e) {
    throw new ImportError(file, `not a readable .npz (zip) archive: ${(e as Error).message}`);
  }
  const tensors = new Map<string, NamedTensor>();
  for (const [path, b] of Object.entries(members)) {
    if (!path.endsWith('.npy')) continue;
    const name = path.slice(0, -4);
    tensors.set(name, readNpyTensor(`${file}/${path}`, name, b));
  }
  return { file, tensors };
}
