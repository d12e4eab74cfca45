/**
 * numpy `.npy` files, versions 1.0, 2.0 and 3.0 (format described in numpy's `numpy.lib.format` docs):
 *
 *   bytes 0..5   magic "\x93NUMPY"
 *   byte  6, 7   major, minor version
 *   v1:   bytes 8..9  header length (uint16 LE), header at 10
 *   v2/3: bytes 8..11 header length (uint32 LE), header at 12
 *   header       a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, D), } padded
 *                with spaces and ended by '\n'; latin-1 in v1/v2, UTF-8 in v3
 *   data         the elements, C order (row-major) or Fortran order (column-major)
 *
 * Supported dtypes: '<f4', '>f4', '<f2', '>f2', and '<f8', '>f8' (rounded to float32, see dtype.ts).
 * Shapes: 2-D [N, d_model] or 3-D [batch, seq, d_model] (flattened to batch·seq tokens).
 * `fortran_order: True` is read correctly for 2-D arrays (each column is read with strided Blob slices, slower
 * than C order); 3-D Fortran-order arrays are refused with a message saying how to re-save them.
 */
import type { ByteSource } from './bytes';
import { readExact } from './bytes';
import type { ElemFormat, ElemKind } from './dtype';
import { ImportError } from './errors';
import { checkDataSize, f64Note, flattenShape, type TensorLayout } from './layout';

/** First bytes of every .npy file. */
export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** True when `bytes` starts with the .npy magic string. */
export function hasNpyMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 6 && NPY_MAGIC.every((b, i) => bytes[i] === b);
}

/** A parsed Python literal. */
type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

/**
 * Parse the Python literal subset numpy writes in .npy headers: dicts, tuples, lists, quoted strings,
 * integers (with an optional Python 2 `L` suffix), True, False, None. Trailing commas are allowed.
 * @throws Error with the position of the first unexpected character.
 */
export function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at position ${i}${i < text.length ? ` (${JSON.stringify(text[i])})` : ''}`);
  };
  const seq = (close: string): PyValue[] => {
    const out: PyValue[] = [];
    ws();
    while (text[i] !== close) {
      out.push(value());
      ws();
      if (text[i] === ',') {
        i++;
        ws();
      } else if (text[i] !== close) fail(`expected ',' or '${close}'`);
    }
    i++;
    return out;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === undefined) return fail('unexpected end of header');
    if (c === '{') {
      i++;
      const obj: { [k: string]: PyValue } = {};
      ws();
      while (text[i] !== '}') {
        const k = value();
        if (typeof k !== 'string') fail('dict key is not a string');
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj[k as string] = value();
        ws();
        if (text[i] === ',') {
          i++;
          ws();
        } else if (text[i] !== '}') fail("expected ',' or '}'");
      }
      i++;
      return obj;
    }
    if (c === '(') {
      i++;
      return seq(')');
    }
    if (c === '[') {
      i++;
      return seq(']');
    }
    if (c === "'" || c === '"') {
      i++;
      let s = '';
      while (text[i] !== c) {
        if (i >= text.length) fail('unterminated string');
        if (text[i] === '\\') {
          i++;
          s += text[i] ?? '';
        } else s += text[i];
        i++;
      }
      i++;
      return s;
    }
    const m = /^(-?\d+)L?|^(True|False|None)/.exec(text.slice(i, i + 40));
    if (!m) return fail('unexpected character');
    i += m[0].length;
    if (m[2] === 'True') return true;
    if (m[2] === 'False') return false;
    if (m[2] === 'None') return null;
    return Number(m[1]);
  };
  const v = value();
  ws();
  if (i !== text.length) fail('unexpected text after the literal');
  return v;
}

const NPY_DTYPES: Record<string, ElemKind> = { f4: 'f32', f2: 'f16', f8: 'f64' };

/**
 * Map a numpy `descr` to an element format.
 * @throws ImportError for anything but '<f4', '>f4', '<f2', '>f2', '<f8', '>f8' ('=' and '|' count as little-endian).
 */
export function npyElemFormat(file: string, descr: PyValue): ElemFormat {
  const shown = typeof descr === 'string' ? `'${descr}'` : JSON.stringify(descr);
  const m = typeof descr === 'string' ? /^([<>=|])(f[248])$/.exec(descr) : null;
  if (!m)
    throw new ImportError(
      file,
      `unsupported dtype ${shown}; supported: '<f4', '>f4', '<f2', '>f2' and '<f8', '>f8' (float64 is ` +
        'rounded to float32). Convert with x.astype(np.float32)',
    );
  return { kind: NPY_DTYPES[m[2]], littleEndian: m[1] !== '>' };
}

/** Fixed part of the header: version, header length and where the dict and the data start. */
export interface NpyPreamble {
  major: number;
  minor: number;
  /** Byte offset of the header dict. */
  headerStart: number;
  /** Length of the header dict in bytes. */
  headerLength: number;
}

/**
 * Parse the first 12 bytes (or all of them when the file is shorter).
 * @throws ImportError for an empty file, a bad magic string or an unsupported version.
 */
export function parseNpyPreamble(file: string, fileSize: number, head: Uint8Array): NpyPreamble {
  if (fileSize === 0) throw new ImportError(file, 'empty file (0 bytes)');
  if (!hasNpyMagic(head))
    throw new ImportError(file, 'bad magic: not a .npy file (it does not start with "\\x93NUMPY")');
  if (head.length < 10)
    throw new ImportError(file, `truncated: the .npy preamble needs 10 bytes, file has ${fileSize}`);
  const major = head[6];
  const minor = head[7];
  if (major < 1 || major > 3)
    throw new ImportError(file, `unsupported .npy version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  if (major === 1) return { major, minor, headerStart: 10, headerLength: head[8] | (head[9] << 8) };
  if (head.length < 12) throw new ImportError(file, `truncated: the .npy v${major} preamble needs 12 bytes`);
  const headerLength = new DataView(head.buffer, head.byteOffset, 12).getUint32(8, true);
  return { major, minor, headerStart: 12, headerLength };
}

/**
 * The header dict of a .npy file (any keys; callers check the ones they need).
 * @throws ImportError when the text is not a Python literal or not a dict.
 */
export function parseNpyHeaderDict(file: string, text: string): { [k: string]: PyValue } {
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (e) {
    throw new ImportError(file, `bad header: not a valid Python dict literal (${(e as Error).message})`);
  }
  if (dict === null || typeof dict !== 'object' || Array.isArray(dict))
    throw new ImportError(file, 'bad header: the header is not a dict');
  return dict;
}

/**
 * Parse the header dict text into a tensor layout.
 * @throws ImportError when the header is not a dict with 'descr', 'fortran_order' and 'shape', for an
 *   unsupported dtype, a bad shape, a 3-D Fortran-order array, or a data size that disagrees with the file.
 */
export function parseNpyHeaderText(
  file: string,
  fileSize: number,
  text: string,
  dataOffset: number,
): TensorLayout {
  const dict = parseNpyHeaderDict(file, text);
  for (const key of ['descr', 'fortran_order', 'shape'])
    if (!(key in dict)) throw new ImportError(file, `bad header: the header dict has no '${key}' key`);
  const elem = npyElemFormat(file, dict.descr);
  if (typeof dict.fortran_order !== 'boolean')
    throw new ImportError(file, "bad header: 'fortran_order' is not True or False");
  const shapeV = dict.shape;
  if (!Array.isArray(shapeV) || shapeV.some((d) => typeof d !== 'number'))
    throw new ImportError(file, "bad header: 'shape' is not a tuple of integers");
  const shape = shapeV as number[];
  const { nTokens, dModel } = flattenShape(file, shape);
  const fortran = dict.fortran_order;
  if (fortran && shape.length !== 2)
    throw new ImportError(
      file,
      `fortran_order arrays are supported only in 2-D; this one is [${shape.join(', ')}]. ` +
        'Re-save it in C order: np.save(path, np.ascontiguousarray(x))',
    );
  const dataBytes = checkDataSize(file, fileSize, dataOffset, nTokens, dModel, elem, true);
  const layout: TensorLayout = {
    file,
    format: 'npy',
    dtype: dict.descr as string,
    elem,
    shape,
    nTokens,
    dModel,
    dataOffset,
    dataBytes,
    order: fortran ? 'F' : 'C',
  };
  const note = [f64Note(elem), fortran ? 'Fortran (column-major) order, read column by column' : undefined]
    .filter(Boolean)
    .join('; ');
  if (note) layout.note = note;
  return layout;
}

/**
 * Read and validate a .npy header from a byte source (two small reads; the data is not touched).
 * @throws ImportError for every problem listed in {@link parseNpyPreamble} and {@link parseNpyHeaderText},
 *   and when the header length runs past the end of the file.
 */
export async function readNpyHeader(src: ByteSource): Promise<TensorLayout> {
  const head = await src.read(0, 12);
  const pre = parseNpyPreamble(src.name, src.size, head);
  const end = pre.headerStart + pre.headerLength;
  if (end > src.size)
    throw new ImportError(
      src.name,
      `bad header: header length ${pre.headerLength} runs past the end of the file (${src.size} bytes)`,
    );
  const bytes = await readExact(src, pre.headerStart, pre.headerLength, 'the header');
  const text = new TextDecoder(pre.major >= 3 ? 'utf-8' : 'latin1').decode(bytes);
  return parseNpyHeaderText(src.name, src.size, text, end);
}
