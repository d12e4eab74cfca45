/**
 * Byte-level builders of .npy, .safetensors and raw files, for unit tests, browser tests and the import bench.
 * They write exactly what numpy / safetensors write (numpy pads the header with spaces and a final '\n' so
 * that the data starts at a multiple of 64 bytes), plus knobs to produce broken files on purpose.
 */
import { setFloat16 } from '@petamoriken/float16';
import type { ElemKind } from './dtype';
import { ITEM_SIZE } from './dtype';
import type { DatasetManifest } from './types';

/**
 * Encode `values` as elements of `kind` in the given byte order. f16 rounds with @petamoriken/float16;
 * bf16 keeps the top 16 bits of the float32 (truncation: use bf16-exact values in tests).
 */
export function encodeElems(
  values: ArrayLike<number>,
  kind: ElemKind,
  littleEndian = true,
): Uint8Array<ArrayBuffer> {
  const size = ITEM_SIZE[kind];
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  const f32 = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (kind === 'f32') dv.setFloat32(i * 4, v, littleEndian);
    else if (kind === 'f64') dv.setFloat64(i * 8, v, littleEndian);
    else if (kind === 'f16') setFloat16(dv, i * 2, v, littleEndian);
    else {
      f32.setFloat32(0, v, true);
      dv.setUint16(i * 2, f32.getUint32(0, true) >>> 16, littleEndian);
    }
  }
  return out;
}

/** Options of {@link npyBytes}. */
export interface NpyFixture {
  /** numpy descr, e.g. '<f4'. */
  descr: string;
  shape: number[];
  /** The element bytes (already encoded). */
  data: Uint8Array;
  fortranOrder?: boolean;
  /** 1, 2 or 3 (default 1). */
  version?: number;
  /** Replace the dict text entirely (for broken headers). */
  headerText?: string;
  /** Replace the magic string. */
  magic?: number[];
}

/** A complete .npy file. */
export function npyBytes(f: NpyFixture): Uint8Array<ArrayBuffer> {
  const version = f.version ?? 1;
  const shape = f.shape.length === 1 ? `(${f.shape[0]},)` : `(${f.shape.join(', ')})`;
  const dict =
    f.headerText ??
    `{'descr': '${f.descr}', 'fortran_order': ${f.fortranOrder ? 'True' : 'False'}, 'shape': ${shape}, }`;
  const pre = version === 1 ? 10 : 12;
  const enc = new TextEncoder().encode(dict);
  const total = Math.ceil((pre + enc.length + 1) / 64) * 64;
  const header = new Uint8Array(total).fill(0x20);
  header.set(f.magic ?? [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 0);
  header[6] = version;
  header[7] = 0;
  const hl = total - pre;
  if (version === 1) {
    header[8] = hl & 0xff;
    header[9] = hl >> 8;
  } else new DataView(header.buffer).setUint32(8, hl, true);
  header.set(enc, pre);
  header[total - 1] = 0x0a;
  const out = new Uint8Array(total + f.data.length);
  out.set(header);
  out.set(f.data, total);
  return out;
}

/** One tensor of a {@link safetensorsBytes} file. */
export interface SafetensorsFixtureTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
  /** Override the computed data_offsets (for broken files). */
  dataOffsets?: [number, number];
}

/** A complete .safetensors file (tensors laid out in order); `headerJson` replaces the header text. */
export function safetensorsBytes(
  tensors: SafetensorsFixtureTensor[],
  metadata?: Record<string, string>,
  headerJson?: string,
): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const t of tensors) {
    header[t.name] = {
      dtype: t.dtype,
      shape: t.shape,
      data_offsets: t.dataOffsets ?? [off, off + t.data.length],
    };
    off += t.data.length;
  }
  let text = headerJson ?? JSON.stringify(header);
  while ((8 + text.length) % 8) text += ' ';
  const enc = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + enc.length + off);
  new DataView(out.buffer).setUint32(0, enc.length, true);
  out.set(enc, 8);
  let p = 8 + enc.length;
  for (const t of tensors) {
    out.set(t.data, p);
    p += t.data.length;
  }
  return out;
}

/**
 * A manifest of an imported dataset with no shards, for tests of what is stored beside the rows (names, token ids,
 * tokenizer): `nTokens` rows of d_model `dModel`, one source "x.npy", mean 0, mean squared norm 1.
 */
export function emptyManifest(id: string, nTokens: number, dModel = 4, name = `set ${id}`): DatasetManifest {
  return {
    id,
    name,
    dModel,
    nTokens,
    shardRows: nTokens,
    shardCount: 0,
    sources: [{ name: 'x.npy', bytes: nTokens * dModel * 4, dtype: '<f4', shape: [nTokens, dModel] }],
    createdAt: 0,
    mean: new Array(dModel).fill(0),
    meanSquaredNorm: 1,
    shardKeys: [],
  };
}
