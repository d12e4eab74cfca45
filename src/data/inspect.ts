/**
 * Recognise a dropped file (by its magic bytes and extension) and turn the user's choices into a
 * {@link TensorLayout}. Only headers are read here; data is streamed later by the importer.
 */
import type { ByteSource } from './bytes';
import { ImportError } from './errors';
import type { FileFormat, TensorLayout } from './layout';
import { hasNpyMagic, readNpyHeader } from './npy';
import { isRawName, type RawDtype, rawDtypeFromName, rawLayout } from './raw';
import {
  defaultTensor,
  readSafetensorsHeader,
  type SafetensorsHeader,
  safetensorsLayout,
} from './safetensors';

/** What the user picked for a file that needs input. */
export interface FileChoice {
  /** safetensors: which tensor to import. */
  tensor?: string;
  /** raw: width of a row. */
  dModel?: number;
  /** raw: element type (implied by .f32/.f16/.bf16; required for .bin). */
  dtype?: RawDtype;
}

/** What is known about a file before import, and what (if anything) must still be asked. Plain data. */
export type Inspection =
  | { format: 'npy'; file: string; size: number; layout: TensorLayout }
  | {
      format: 'safetensors';
      file: string;
      size: number;
      header: SafetensorsHeader;
      /** The tensor imported when the user does not pick one (the single importable one), if any. */
      defaultTensor?: string;
    }
  | {
      format: 'raw';
      file: string;
      size: number;
      /** dtype implied by the extension; absent for .bin. */
      dtype?: RawDtype;
    };

/** Lower-case extension of a file name, with the dot ('' when none). */
function extension(name: string): string {
  const m = /\.[^.]+$/.exec(name);
  return m ? m[0].toLowerCase() : '';
}

/**
 * Recognise the format and read its header.
 * @throws ImportError for an empty file, an unrecognised type, and any header error of the format's parser.
 */
export async function inspectSource(src: ByteSource): Promise<Inspection> {
  if (src.size === 0) throw new ImportError(src.name, 'empty file (0 bytes)');
  const ext = extension(src.name);
  const head = await src.read(0, 16);
  let format: FileFormat | undefined;
  if (hasNpyMagic(head) || ext === '.npy') format = 'npy';
  else if (ext === '.safetensors') format = 'safetensors';
  else if (isRawName(src.name)) format = 'raw';
  else if (head.length > 8 && head[8] === 0x7b /* '{' */) format = 'safetensors';
  if (format === 'npy') return { format, file: src.name, size: src.size, layout: await readNpyHeader(src) };
  if (format === 'safetensors') {
    const header = await readSafetensorsHeader(src);
    if (!header.tensors.some((t) => t.importable))
      throw new ImportError(
        src.name,
        `has no importable tensor (need a 2-D or 3-D F32, F16, BF16 or F64 tensor); tensors: ${
          header.tensors.map((t) => `${t.name} ${t.dtype} [${t.shape.join(', ')}]`).join('; ') || '(none)'
        }`,
      );
    const out: Inspection = { format, file: src.name, size: src.size, header };
    const d = defaultTensor(header);
    if (d !== undefined) out.defaultTensor = d;
    return out;
  }
  if (format === 'raw') {
    const out: Inspection = { format, file: src.name, size: src.size };
    const dtype = rawDtypeFromName(src.name);
    if (dtype) out.dtype = dtype;
    return out;
  }
  throw new ImportError(
    src.name,
    `unrecognised file type "${ext || '(no extension)'}"; expected .npy, .safetensors, or raw .f32, .f16, .bf16, .bin`,
  );
}

/** What must still be asked before `ins` can be imported: [] when nothing. */
export function missingChoices(ins: Inspection, choice: FileChoice = {}): ('tensor' | 'dModel' | 'dtype')[] {
  if (ins.format === 'safetensors') return choice.tensor || ins.defaultTensor ? [] : ['tensor'];
  if (ins.format === 'raw') {
    const out: ('dModel' | 'dtype')[] = [];
    if (!choice.dModel) out.push('dModel');
    if (!(choice.dtype ?? ins.dtype)) out.push('dtype');
    return out;
  }
  return [];
}

/**
 * The layout to import from an inspected file with the user's choices.
 * @throws ImportError when a choice is missing or invalid (unknown tensor, bad d_model, size not a multiple…).
 */
export function resolveLayout(ins: Inspection, choice: FileChoice = {}): TensorLayout {
  if (ins.format === 'npy') return ins.layout;
  if (ins.format === 'safetensors') {
    const name = choice.tensor ?? ins.defaultTensor;
    if (!name)
      throw new ImportError(
        ins.file,
        `holds several tensors; pick one of: ${ins.header.tensors
          .filter((t) => t.importable)
          .map((t) => t.name)
          .join(', ')}`,
      );
    return safetensorsLayout(ins.header, name);
  }
  const dtype = choice.dtype ?? ins.dtype;
  if (!dtype) throw new ImportError(ins.file, 'is a raw .bin file: choose its dtype (f32, f16 or bf16)');
  if (choice.dModel === undefined) throw new ImportError(ins.file, 'is a raw file: enter its d_model');
  return rawLayout(ins.file, ins.size, { dModel: choice.dModel, dtype });
}
