/**
 * `.safetensors` files (format of huggingface/safetensors):
 *
 *   bytes 0..7   N, the header length (uint64 little-endian)
 *   bytes 8..8+N a UTF-8 JSON object: { "__metadata__"?: {string: string},
 *                  "<tensor name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ... }
 *   then         the data buffer; each tensor's bytes are [8+N+begin, 8+N+end), little-endian, row-major.
 *
 * Importable tensors: dtype F32, F16, BF16 (and F64, rounded to float32), 2-D or 3-D. The header is validated
 * for every tensor (offsets in range, no overlap, byte size = product(shape) · item size), so a corrupt file
 * is refused before anything is read from its data.
 */
import { type ByteSource, readExact } from './bytes';
import type { ElemFormat, ElemKind } from './dtype';
import { ImportError } from './errors';
import { f64Note, flattenShape, type TensorLayout } from './layout';

/** Item size of every safetensors dtype (for validating data_offsets of tensors we do not import). */
const ITEM_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** safetensors dtypes we import, and their element kind. */
const IMPORTABLE: Record<string, ElemKind> = { F32: 'f32', F16: 'f16', BF16: 'bf16', F64: 'f64' };

/** The element kind of a float safetensors dtype we can read (F32, F16, BF16, F64), else undefined. */
export function safetensorsElemKind(dtype: string): ElemKind | undefined {
  return Object.hasOwn(IMPORTABLE, dtype) ? IMPORTABLE[dtype] : undefined;
}

/** One tensor entry of a safetensors header. */
export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** [begin, end) relative to the start of the data buffer. */
  dataOffsets: [number, number];
  /** True for a 2-D/3-D tensor of an importable float dtype with positive dims. */
  importable: boolean;
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  file: string;
  /** Byte offset of the data buffer (8 + header length). */
  dataStart: number;
  /** Tensors in header order. */
  tensors: SafetensorsTensor[];
  /** The `__metadata__` map, when present. */
  metadata?: Record<string, string>;
}

/**
 * Validate a parsed header object against the file size.
 * @throws ImportError when the header is not an object, an entry is malformed, `__metadata__` is not a map of
 *   strings, data_offsets are out of range or overlap, or a tensor's byte size disagrees with its shape.
 */
export function validateSafetensorsHeader(
  file: string,
  fileSize: number,
  dataStart: number,
  json: unknown,
): SafetensorsHeader {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new ImportError(file, 'bad header: the JSON header is not an object');
  const dataSize = fileSize - dataStart;
  const tensors: SafetensorsTensor[] = [];
  let metadata: Record<string, string> | undefined;
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
        throw new ImportError(file, 'bad header: __metadata__ is not an object');
      for (const [k, v] of Object.entries(entry))
        if (typeof v !== 'string')
          throw new ImportError(file, `bad header: __metadata__["${k}"] is not a string`);
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (e === null || typeof e !== 'object' || Array.isArray(e))
      throw new ImportError(file, `bad header: tensor "${name}" is not an object`);
    if (typeof e.dtype !== 'string') throw new ImportError(file, `bad header: tensor "${name}" has no dtype`);
    if (!Array.isArray(e.shape) || e.shape.some((d) => typeof d !== 'number' || !Number.isInteger(d)))
      throw new ImportError(file, `bad header: tensor "${name}" has no integer shape list`);
    const off = e.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      off.some((x) => typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
    )
      throw new ImportError(file, `bad header: tensor "${name}" data_offsets is not [begin, end]`);
    const [begin, end] = off as [number, number];
    if (begin > end || end > dataSize)
      throw new ImportError(
        file,
        `tensor "${name}" data_offsets [${begin}, ${end}] are out of range (the data buffer has ${dataSize} bytes)`,
      );
    const shape = e.shape as number[];
    const item = ITEM_BYTES[e.dtype];
    if (item !== undefined && shape.every((d) => d >= 0)) {
      const want = shape.reduce((a, b) => a * b, 1) * item;
      if (want !== end - begin)
        throw new ImportError(
          file,
          `tensor "${name}" (${e.dtype} [${shape.join(', ')}]) needs ${want} bytes but data_offsets ` +
            `[${begin}, ${end}] span ${end - begin}`,
        );
    }
    const importable =
      e.dtype in IMPORTABLE && (shape.length === 2 || shape.length === 3) && shape.every((d) => d > 0);
    tensors.push({ name, dtype: e.dtype, shape, dataOffsets: [begin, end], importable });
  }
  const sorted = tensors
    .filter((t) => t.dataOffsets[1] > t.dataOffsets[0])
    .sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0]);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (b.dataOffsets[0] < a.dataOffsets[1])
      throw new ImportError(
        file,
        `tensors "${a.name}" [${a.dataOffsets.join(', ')}] and "${b.name}" [${b.dataOffsets.join(', ')}] have ` +
          'overlapping data_offsets',
      );
  }
  const header: SafetensorsHeader = { file, dataStart, tensors };
  if (metadata) header.metadata = metadata;
  return header;
}

/**
 * Read and validate a safetensors header (two small reads; the data is not touched).
 * @throws ImportError for an empty file, a header length past the end of the file, a header that is not JSON,
 *   and everything {@link validateSafetensorsHeader} refuses.
 */
export async function readSafetensorsHeader(src: ByteSource): Promise<SafetensorsHeader> {
  if (src.size === 0) throw new ImportError(src.name, 'empty file (0 bytes)');
  if (src.size < 8)
    throw new ImportError(
      src.name,
      `truncated: ${src.size} bytes, a safetensors file starts with an 8-byte header length`,
    );
  const head = await readExact(src, 0, 8, 'the header length');
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const n = dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
  if (n + 8 > src.size)
    throw new ImportError(
      src.name,
      `bad header: header length ${n} runs past the end of the file (${src.size} bytes); is this a safetensors file?`,
    );
  if (n > 100 * 2 ** 20) throw new ImportError(src.name, `bad header: header length ${n} is over 100 MB`);
  const bytes = await readExact(src, 8, n, 'the JSON header');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ImportError(src.name, `bad header: not valid UTF-8 JSON (${(e as Error).message})`);
  }
  return validateSafetensorsHeader(src.name, src.size, 8 + n, json);
}

/** Name of the tensor to import by default: the single importable tensor, else undefined (ask the user). */
export function defaultTensor(h: SafetensorsHeader): string | undefined {
  const c = h.tensors.filter((t) => t.importable);
  return c.length === 1 ? c[0].name : undefined;
}

/**
 * Layout of tensor `name` of a validated header.
 * @throws ImportError when there is no such tensor, its dtype is not F32/F16/BF16/F64, or its shape is not a
 *   2-D/3-D shape of positive dims.
 */
export function safetensorsLayout(h: SafetensorsHeader, name: string): TensorLayout {
  const t = h.tensors.find((x) => x.name === name);
  if (!t)
    throw new ImportError(
      h.file,
      `has no tensor "${name}"; tensors: ${h.tensors.map((x) => x.name).join(', ') || '(none)'}`,
    );
  const kind = IMPORTABLE[t.dtype];
  if (!kind)
    throw new ImportError(
      h.file,
      `tensor "${name}" has unsupported dtype ${t.dtype}; supported: F32, F16, BF16, F64`,
    );
  const { nTokens, dModel } = flattenShape(h.file, t.shape, `tensor "${name}" shape`);
  const elem: ElemFormat = { kind, littleEndian: true };
  const layout: TensorLayout = {
    file: h.file,
    format: 'safetensors',
    dtype: t.dtype,
    elem,
    shape: t.shape,
    nTokens,
    dModel,
    dataOffset: h.dataStart + t.dataOffsets[0],
    dataBytes: t.dataOffsets[1] - t.dataOffsets[0],
    order: 'C',
    tensor: name,
  };
  if (h.metadata) layout.metadata = h.metadata;
  const note = f64Note(elem);
  if (note) layout.note = note;
  return layout;
}
