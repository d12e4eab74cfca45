/**
 * Where a file's activations are and how they are laid out: the common result of the .npy, .safetensors and
 * raw parsers, and the only thing the import pipeline needs to stream rows out of a file.
 */
import { describeElem, type ElemFormat, ITEM_SIZE } from './dtype';
import { ImportError } from './errors';

/** File formats the importer understands. */
export type FileFormat = 'npy' | 'safetensors' | 'raw';

/** A 2-D [N, d_model] or 3-D [batch, seq, d_model] float tensor inside a file, flattened to N tokens. */
export interface TensorLayout {
  /** File name (for messages). */
  file: string;
  format: FileFormat;
  /** Element type as written in the file, e.g. "<f4", "F16", "bf16". */
  dtype: string;
  elem: ElemFormat;
  /** Shape as stored in the file. */
  shape: number[];
  /** Rows after flattening all leading dimensions. */
  nTokens: number;
  /** Last dimension. */
  dModel: number;
  /** Byte offset of the first element. */
  dataOffset: number;
  /** nTokens · dModel · item size. */
  dataBytes: number;
  /** 'C': row-major (rows contiguous). 'F': column-major (numpy fortran_order, 2-D only). */
  order: 'C' | 'F';
  /** For safetensors: the tensor's name. */
  tensor?: string;
  /** For safetensors: the file's `__metadata__`. */
  metadata?: Record<string, string>;
  /** A remark shown to the user, e.g. that float64 was rounded to float32. */
  note?: string;
}

/**
 * Validate a 2-D or 3-D shape and flatten it to [nTokens, dModel].
 * @throws ImportError for another rank, a zero, negative or non-integer dimension, or a size past 2^53 bytes.
 */
export function flattenShape(
  file: string,
  shape: number[],
  what = 'shape',
): { nTokens: number; dModel: number } {
  const s = `[${shape.join(', ')}]`;
  const bad = shape.find((d) => !Number.isSafeInteger(d) || d <= 0);
  if (bad !== undefined)
    throw new ImportError(
      file,
      `${what} ${s} has a ${bad === 0 ? 'zero' : bad < 0 ? 'negative' : 'non-integer'} dimension (${bad}); ` +
        'every dimension must be a positive integer',
    );
  if (shape.length !== 2 && shape.length !== 3)
    throw new ImportError(
      file,
      `${what} ${s} has ${shape.length} dimension(s); expected [n_tokens, d_model] or [batch, seq, d_model]`,
    );
  const dModel = shape[shape.length - 1];
  const nTokens = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(nTokens * dModel * 8)) throw new ImportError(file, `${what} ${s} is too large`);
  return { nTokens, dModel };
}

/** Note attached to float64 sources. */
export function f64Note(elem: ElemFormat): string | undefined {
  return elem.kind === 'f64'
    ? `${describeElem(elem)} values were rounded to float32 (values outside the float32 range are refused)`
    : undefined;
}

/**
 * Check that the file holds exactly the bytes the layout needs.
 * @throws ImportError "truncated" when it is short, or when it has unexpected trailing bytes (`exact`).
 */
export function checkDataSize(
  file: string,
  fileSize: number,
  dataOffset: number,
  nTokens: number,
  dModel: number,
  elem: ElemFormat,
  exact: boolean,
): number {
  const dataBytes = nTokens * dModel * ITEM_SIZE[elem.kind];
  const have = Math.max(0, fileSize - dataOffset);
  if (have < dataBytes)
    throw new ImportError(
      file,
      `truncated data: the header promises ${nTokens} × ${dModel} ${describeElem(elem)} values ` +
        `(${dataBytes} bytes) but only ${have} bytes follow the header`,
    );
  if (exact && have > dataBytes)
    throw new ImportError(
      file,
      `${have - dataBytes} unexpected bytes after the data (${nTokens} × ${dModel} ${describeElem(elem)} ` +
        `need ${dataBytes}); was more than one array saved into this file?`,
    );
  return dataBytes;
}
