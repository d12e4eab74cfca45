/**
 * Raw binary activation files: a plain little-endian array of float32 (.f32), float16 (.f16), bfloat16 (.bf16),
 * or any of them (.bin, dtype chosen by the user), row-major [n_tokens, d_model], no header. The user enters
 * d_model (and the dtype for .bin); the file size must be a multiple of d_model × item size.
 */
import { type ElemFormat, type ElemKind, ITEM_SIZE } from './dtype';
import { ImportError } from './errors';
import type { TensorLayout } from './layout';

/** Element types a raw file may hold. */
export type RawDtype = 'f32' | 'f16' | 'bf16';

/** Extensions read as raw files. */
export const RAW_EXTENSIONS = ['.f32', '.f16', '.bf16', '.bin'];

/** dtype implied by a raw file's extension; undefined for .bin (ask the user) or another extension. */
export function rawDtypeFromName(name: string): RawDtype | undefined {
  const m = /\.(f32|f16|bf16)$/i.exec(name);
  return m ? (m[1].toLowerCase() as RawDtype) : undefined;
}

/** True when the name has a raw-file extension. */
export function isRawName(name: string): boolean {
  const lower = name.toLowerCase();
  return RAW_EXTENSIONS.some((e) => lower.endsWith(e));
}

/**
 * Layout of a raw file of `fileSize` bytes read as [fileSize / (dModel·itemSize), dModel] of `dtype`.
 * @throws ImportError for an empty file, a d_model that is not a positive integer, an unknown dtype, or a size
 *   that is not a multiple of d_model × item size.
 */
export function rawLayout(
  file: string,
  fileSize: number,
  opts: { dModel: number; dtype: string },
): TensorLayout {
  if (fileSize === 0) throw new ImportError(file, 'empty file (0 bytes)');
  const { dModel, dtype } = opts;
  if (!Number.isSafeInteger(dModel) || dModel <= 0)
    throw new ImportError(file, `d_model must be a positive integer, got ${dModel}`);
  if (!['f32', 'f16', 'bf16'].includes(dtype))
    throw new ImportError(file, `unsupported raw dtype "${dtype}"; choose f32, f16 or bf16`);
  const kind = dtype as ElemKind;
  const rowBytes = dModel * ITEM_SIZE[kind];
  if (fileSize % rowBytes !== 0)
    throw new ImportError(
      file,
      `size ${fileSize} bytes is not a multiple of d_model × item size = ${dModel} × ${ITEM_SIZE[kind]} = ` +
        `${rowBytes} bytes (${(fileSize / rowBytes).toFixed(3)} rows); check d_model and the dtype`,
    );
  const elem: ElemFormat = { kind, littleEndian: true };
  const nTokens = fileSize / rowBytes;
  return {
    file,
    format: 'raw',
    dtype,
    elem,
    shape: [nTokens, dModel],
    nTokens,
    dModel,
    dataOffset: 0,
    dataBytes: fileSize,
    order: 'C',
  };
}
