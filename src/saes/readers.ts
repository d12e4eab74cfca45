/**
 * Readers of SAEs trained elsewhere, each mapped onto an architecture of the registry (src/sae/archs/, through
 * the specs' `imports` field; no architecture name is compared here). The result is our parameters
 * W_enc [d_model, d_sae], W_dec [d_sae, d_model], b_enc [d_sae], b_dec [d_model] (and θ [d_sae]) for the model
 *   pre = (x − b_dec)·W_enc + b_enc,  z = activation(pre),  x̂ = z·W_dec + b_dec   (src/sae/types.ts)
 * on raw activations (no normalisation):
 *
 *  - SAELens (cfg.json + sae_weights.safetensors): cfg `architecture` standard / topk / jumprelu / batchtopk,
 *    `d_in`, `d_sae`, `k` (topk, batchtopk), `apply_b_dec_to_input`, `normalize_activations`; tensors W_enc
 *    [d_in, d_sae], W_dec [d_sae, d_in], b_enc [d_sae], b_dec [d_in], plus `threshold` [d_sae] (jumprelu) or the
 *    scalar `topk_threshold` (batchtopk training checkpoints; SAELens saves BatchTopK for inference as jumprelu).
 *    Our own export (src/export/saelens.ts) adds a `sae_lab` block naming the trained architecture.
 *  - sparsify (cfg.json + sae.safetensors): cfg `d_in`, `k`, `num_latents` (0 = expansion_factor·d_in);
 *    tensors encoder.weight [d_sae, d_in] (nn.Linear layout: transposed into W_enc), encoder.bias [d_sae],
 *    W_dec [d_sae, d_in], b_dec [d_in]; encoder input x − b_dec, TopK of ReLU(pre).
 *  - Gemma Scope (params.npz): W_enc [d_model, d_sae], W_dec [d_sae, d_model], b_enc, b_dec, threshold; JumpReLU
 *    with pre = x·W_enc + b_enc (b_dec is not subtracted).
 *
 * An encoder that does not subtract b_dec is rewritten exactly in our form by folding b_dec into the bias:
 *   x·W_enc + b_enc = (x − b_dec)·W_enc + (b_enc + b_dec·W_enc)
 * (the sum in float64, rounded once to float32; stated in the import's notes).
 *
 * Every error is an ImportError naming the file and the problem; nothing is stored by these functions.
 */
import { ImportError } from '../data/errors';
import { ARCH_SPECS, type ArchSpec, archSpec } from '../sae/archs';
import type { ImportSpec } from '../sae/archs/spec';
import type { Architecture, SaeParams } from '../sae/types';
import { type NamedTensor, readNpzFile, readSafetensorsFile, type TensorFile } from './tensors';

/** Formats the lab reads. */
export type SaeFormat = 'saelens' | 'sparsify' | 'gemma-scope';

/** Human names of the formats. */
export const SAE_FORMAT_LABEL: Record<SaeFormat, string> = {
  saelens: 'SAELens',
  sparsify: 'sparsify',
  'gemma-scope': 'Gemma Scope',
};

/** One dropped or picked file: its path as the user sees it (folder/file or just the file name) and its bytes. */
export interface SaeFile {
  name: string;
  bytes: Uint8Array;
}

/** An SAE read from files, in our parameter layout (see the module comment). */
export interface ImportedSae {
  format: SaeFormat;
  architecture: Architecture;
  /** d_model (SAELens d_in). */
  dModel: number;
  dSae: number;
  /** k of TopK / BatchTopK (the registry default capped at d_sae for the others). */
  k: number;
  params: SaeParams;
  /** Model and hook the SAE was trained on, when the files say. */
  modelName: string | null;
  hookName: string | null;
  /** The files read (paths as given). */
  files: string[];
  /** Suggested run name. */
  name: string;
  /** What the import changed or assumed (b_dec folded into b_enc, a scalar threshold broadcast, …). */
  notes: string[];
}

function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

function folderOf(path: string): string {
  const parts = path.split('/');
  return parts.length > 1 ? parts[parts.length - 2] : '';
}

/** Which spec imports what `pick` selects (the first in registry order). */
function specWhere(pick: (i: ImportSpec) => boolean): ArchSpec<Architecture> | undefined {
  return (ARCH_SPECS as readonly ArchSpec<Architecture>[]).find((s) => s.imports && pick(s.imports));
}

/** Every SAELens architecture string the registry reads. */
export function saeLensArchitecturesRead(): string[] {
  return (ARCH_SPECS as readonly ArchSpec<Architecture>[]).flatMap(
    (s) => s.imports?.saeLens.map((e) => e.architecture) ?? [],
  );
}

/** Parse cfg.json. @throws ImportError when it is not JSON or not an object. */
function parseCfg(file: SaeFile): Record<string, unknown> {
  let cfg: unknown;
  try {
    cfg = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.bytes));
  } catch (e) {
    throw new ImportError(file.name, `does not parse as JSON (${(e as Error).message})`);
  }
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg))
    throw new ImportError(file.name, 'is not a JSON object');
  return cfg as Record<string, unknown>;
}

/** A positive integer field of cfg.json. @throws ImportError naming the field. */
function cfgInt(file: string, cfg: Record<string, unknown>, key: string): number {
  const v = cfg[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw new ImportError(file, `field "${key}" must be a positive integer (found ${JSON.stringify(v)})`);
  return v;
}

function cfgString(cfg: Record<string, unknown>, ...keys: string[]): string | null {
  const meta = (cfg.metadata ?? {}) as Record<string, unknown>;
  for (const k of keys) {
    if (typeof cfg[k] === 'string') return cfg[k] as string;
    if (typeof meta[k] === 'string') return meta[k] as string;
  }
  return null;
}

/**
 * Check that `tf` holds exactly the tensors `want` (name → shape, with the symbolic shape for messages).
 * @throws ImportError for a missing tensor, an extra tensor, or a wrong shape.
 */
function expectTensors(tf: TensorFile, want: [name: string, shape: number[], shown: string][]): void {
  const names = want.map((w) => w[0]);
  for (const [name, shape, shown] of want) {
    const t = tf.tensors.get(name);
    if (!t)
      throw new ImportError(
        tf.file,
        `missing tensor "${name}" (expected ${names.join(', ')}; found ${[...tf.tensors.keys()].join(', ') || 'none'})`,
      );
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new ImportError(
        tf.file,
        `tensor "${name}" has shape [${t.shape.join(', ')}], expected ${shown} = [${shape.join(', ')}]`,
      );
  }
  for (const name of tf.tensors.keys())
    if (!names.includes(name))
      throw new ImportError(tf.file, `unexpected tensor "${name}" (expected only ${names.join(', ')})`);
}

function tensor(tf: TensorFile, name: string): NamedTensor {
  const t = tf.tensors.get(name);
  if (!t) throw new ImportError(tf.file, `missing tensor "${name}"`);
  return t;
}

/** b_enc + b_dec·W_enc (float64 sums, rounded once): the bias of an encoder that does not subtract b_dec. */
export function foldDecoderBias(
  wEnc: Float32Array,
  bEnc: Float32Array,
  bDec: Float32Array,
  dModel: number,
  dSae: number,
): Float32Array {
  const acc = Float64Array.from(bEnc);
  for (let i = 0; i < dModel; i++) {
    const b = bDec[i];
    if (b === 0) continue;
    const row = i * dSae;
    for (let j = 0; j < dSae; j++) acc[j] += b * wEnc[row + j];
  }
  return Float32Array.from(acc);
}

/** [rows, cols] → [cols, rows]. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** Refuse non-finite weights (a NaN would silently poison every metric). */
function checkFinite(file: string, params: SaeParams): void {
  for (const [key, a] of Object.entries(params) as [string, Float32Array][]) {
    const i = a.findIndex((x) => !Number.isFinite(x));
    if (i >= 0) throw new ImportError(file, `${key}[${i}] is ${a[i]}: the weights must be finite`);
  }
  // z = pre·H(pre − θ) equals SAELens's ReLU(pre)·H(pre − θ) only for θ ≥ 0.
  const neg = params.threshold?.findIndex((t) => t < 0) ?? -1;
  if (params.threshold && neg >= 0)
    throw new ImportError(file, `threshold[${neg}] is ${params.threshold[neg]}: thresholds must be ≥ 0`);
}

/** k for the engine shape: the given k, else the registry default, within [1, d_sae]. */
function engineK(k: number | null, dSae: number): number {
  const dflt = archSpec(null).fields.find((f) => f.field === 'k')?.default;
  const want = k ?? (typeof dflt === 'number' ? dflt : 1);
  return Math.max(1, Math.min(dSae, Math.round(want)));
}

/**
 * Read a SAELens folder (cfg.json + sae_weights.safetensors).
 * @throws ImportError for a cfg.json that does not parse, an unknown architecture, unsupported options, or
 *   weights with missing, extra or wrongly shaped tensors, a bad dtype or a truncated file.
 */
export function readSaeLens(cfgFile: SaeFile, weights: SaeFile): ImportedSae {
  const cfg = parseCfg(cfgFile);
  const arch = cfg.architecture ?? 'standard';
  const known = saeLensArchitecturesRead();
  const lab = (cfg.sae_lab ?? {}) as Record<string, unknown>;
  // Our own export names the architecture it trained (BatchTopK is saved as jumprelu, as SAELens does).
  const own = (ARCH_SPECS as readonly ArchSpec<Architecture>[]).find(
    (s) => s.id === lab.architecture && s.saeLens.architecture === arch,
  );
  const entry = (ARCH_SPECS as readonly ArchSpec<Architecture>[])
    .flatMap((s) => s.imports?.saeLens.map((e) => ({ spec: s, e })) ?? [])
    .find((x) => x.e.architecture === arch);
  if (typeof arch !== 'string' || !entry)
    throw new ImportError(
      cfgFile.name,
      `unknown architecture ${JSON.stringify(arch)}; the lab reads SAELens architectures ${known.join(', ')}`,
    );
  const spec = own ?? entry.spec;
  const threshold = own ? (own.saeLens.extraTensors.length > 0 ? 'per-latent' : 'none') : entry.e.threshold;
  const thresholdTensor = own ? 'threshold' : (entry.e.tensor ?? 'threshold');
  const D = cfgInt(cfgFile.name, cfg, 'd_in');
  const S = cfgInt(cfgFile.name, cfg, 'd_sae');
  const norm = cfg.normalize_activations ?? 'none';
  if (norm !== 'none' && norm !== null)
    throw new ImportError(
      cfgFile.name,
      `normalize_activations = ${JSON.stringify(norm)} is not supported: fold the scaling into the weights ` +
        '(SAELens fold_activation_norm_scaling_factor) and save with "none"',
    );
  if (cfg.rescale_acts_by_decoder_norm === true)
    throw new ImportError(
      cfgFile.name,
      'rescale_acts_by_decoder_norm = true is not supported: save the SAE for inference (SAELens folds it then)',
    );
  const kwargs = (cfg.activation_fn_kwargs ?? {}) as Record<string, unknown>;
  const kRaw = [lab.k, cfg.k, kwargs.k].find((x) => typeof x === 'number') as number | undefined;
  const needsK = spec.collapse.fixedK;
  if (needsK && (kRaw === undefined || !(kRaw >= 1)))
    throw new ImportError(cfgFile.name, `architecture "${arch}" needs a positive "k"`);
  const want: [string, number[], string][] = [
    ['W_enc', [D, S], '[d_in, d_sae]'],
    ['W_dec', [S, D], '[d_sae, d_in]'],
    ['b_enc', [S], '[d_sae]'],
    ['b_dec', [D], '[d_in]'],
  ];
  if (threshold === 'per-latent') want.push([thresholdTensor, [S], '[d_sae]']);
  if (threshold === 'scalar') want.push([thresholdTensor, [], '[] (a scalar)']);
  const tf = readSafetensorsFile(weights.name, weights.bytes);
  expectTensors(tf, want);
  const notes: string[] = [];
  const wEnc = tensor(tf, 'W_enc').data;
  const bDec = tensor(tf, 'b_dec').data;
  let bEnc = tensor(tf, 'b_enc').data;
  if (cfg.apply_b_dec_to_input === false) {
    bEnc = foldDecoderBias(wEnc, bEnc, bDec, D, S);
    notes.push('apply_b_dec_to_input = false: b_dec·W_enc folded into b_enc');
  }
  const params: SaeParams = { wEnc, wDec: tensor(tf, 'W_dec').data, bEnc, bDec };
  if (threshold === 'per-latent') params.threshold = tensor(tf, thresholdTensor).data;
  if (threshold === 'scalar') {
    params.threshold = new Float32Array(S).fill(tensor(tf, thresholdTensor).data[0]);
    notes.push(`scalar ${thresholdTensor} broadcast to every latent (inference as JumpReLU)`);
  }
  checkFinite(weights.name, params);
  const folder = folderOf(cfgFile.name);
  return {
    format: 'saelens',
    architecture: spec.id,
    dModel: D,
    dSae: S,
    k: engineK(kRaw ?? null, S),
    params,
    modelName: cfgString(cfg, 'model_name'),
    hookName: cfgString(cfg, 'hook_name'),
    files: [cfgFile.name, weights.name],
    name: `imported ${folder || `${arch}-${S}`} (SAELens)`,
    notes,
  };
}

/**
 * The result of a format whose files carry no model / hook names (sparsify, Gemma Scope): the folder names the
 * hook (their releases put each hook's SAE in a folder named after it) and the run.
 * @throws ImportError (naming the weights file) for non-finite weights or a negative threshold.
 */
function byFolder(
  format: SaeFormat,
  architecture: Architecture,
  k: number | null,
  params: SaeParams,
  files: string[],
  notes: string[],
): ImportedSae {
  checkFinite(files[files.length - 1], params);
  const dModel = params.bDec.length;
  const dSae = params.bEnc.length;
  const folder = folderOf(files[0]);
  return {
    format,
    architecture,
    dModel,
    dSae,
    k: engineK(k, dSae),
    params,
    modelName: null,
    hookName: folder || null,
    files,
    name: `imported ${folder || `${architecture}-${dSae}`} (${SAE_FORMAT_LABEL[format]})`,
    notes,
  };
}

/**
 * Read a sparsify SAE (cfg.json + sae.safetensors).
 * @throws ImportError as {@link readSaeLens}, and for skip connections, transcoders and non-TopK activations.
 */
export function readSparsify(cfgFile: SaeFile, weights: SaeFile): ImportedSae {
  const cfg = parseCfg(cfgFile);
  const spec = specWhere((i) => i.sparsify);
  if (!spec) throw new ImportError(cfgFile.name, 'no architecture of the lab reads sparsify SAEs');
  if (cfg.activation !== undefined && cfg.activation !== 'topk')
    throw new ImportError(
      cfgFile.name,
      `unknown architecture: activation ${JSON.stringify(cfg.activation)}; the lab reads sparsify "topk" SAEs`,
    );
  for (const key of ['skip_connection', 'transcode'])
    if (cfg[key] === true)
      throw new ImportError(cfgFile.name, `${key} = true is not supported (a plain SAE has no such part)`);
  const D = cfgInt(cfgFile.name, cfg, 'd_in');
  const k = cfgInt(cfgFile.name, cfg, 'k');
  const n = cfg.num_latents;
  const S =
    typeof n === 'number' && n > 0
      ? cfgInt(cfgFile.name, cfg, 'num_latents')
      : D * cfgInt(cfgFile.name, cfg, 'expansion_factor');
  const tf = readSafetensorsFile(weights.name, weights.bytes);
  expectTensors(tf, [
    ['encoder.weight', [S, D], '[num_latents, d_in]'],
    ['encoder.bias', [S], '[num_latents]'],
    ['W_dec', [S, D], '[num_latents, d_in]'],
    ['b_dec', [D], '[d_in]'],
  ]);
  const params: SaeParams = {
    wEnc: transpose(tensor(tf, 'encoder.weight').data, S, D),
    wDec: tensor(tf, 'W_dec').data,
    bEnc: tensor(tf, 'encoder.bias').data,
    bDec: tensor(tf, 'b_dec').data,
  };
  return byFolder(
    'sparsify',
    spec.id,
    k,
    params,
    [cfgFile.name, weights.name],
    ['encoder.weight [d_sae, d_in] transposed into W_enc [d_in, d_sae]'],
  );
}

/**
 * Read a Gemma Scope params.npz (JumpReLU).
 * @throws ImportError for a file that is not an npz, or missing, extra or inconsistently shaped arrays.
 */
export function readGemmaScope(file: SaeFile): ImportedSae {
  const spec = specWhere((i) => i.gemmaScope);
  if (!spec) throw new ImportError(file.name, 'no architecture of the lab reads Gemma Scope SAEs');
  const tf = readNpzFile(file.name, file.bytes);
  const wEncT = tf.tensors.get('W_enc');
  if (wEncT?.shape.length !== 2)
    throw new ImportError(
      file.name,
      wEncT
        ? `tensor "W_enc" has shape [${wEncT.shape.join(', ')}], expected [d_model, d_sae]`
        : `missing tensor "W_enc" (expected W_enc, W_dec, b_enc, b_dec, threshold; found ${[...tf.tensors.keys()].join(', ') || 'none'})`,
    );
  const [D, S] = wEncT.shape;
  expectTensors(tf, [
    ['W_enc', [D, S], '[d_model, d_sae]'],
    ['W_dec', [S, D], '[d_sae, d_model]'],
    ['b_enc', [S], '[d_sae]'],
    ['b_dec', [D], '[d_model]'],
    ['threshold', [S], '[d_sae]'],
  ]);
  const wEnc = tensor(tf, 'W_enc').data;
  const bDec = tensor(tf, 'b_dec').data;
  const params: SaeParams = {
    wEnc,
    wDec: tensor(tf, 'W_dec').data,
    bEnc: foldDecoderBias(wEnc, tensor(tf, 'b_enc').data, bDec, D, S),
    bDec,
    threshold: tensor(tf, 'threshold').data,
  };
  return byFolder(
    'gemma-scope',
    spec.id,
    null,
    params,
    [file.name],
    ['Gemma Scope encodes x·W_enc + b_enc: b_dec·W_enc folded into b_enc'],
  );
}

/**
 * Recognise the format of a set of files (a dropped folder or picked files) and read the SAE.
 *   cfg.json + sae_weights.safetensors → SAELens; cfg.json + sae.safetensors → sparsify; one .npz → Gemma Scope.
 * Other files in a folder (README, sparsity logs) are ignored.
 * @throws ImportError when no format matches, a folder holds several SAEs, or the reader refuses the files.
 */
export async function readSaeFiles(files: SaeFile[]): Promise<ImportedSae> {
  const by = (n: string) => files.filter((f) => baseName(f.name) === n);
  const cfgs = by('cfg.json');
  const lens = by('sae_weights.safetensors');
  const sparse = by('sae.safetensors');
  const npz = files.filter((f) => f.name.toLowerCase().endsWith('.npz'));
  const shown = files.map((f) => f.name).join(', ') || 'no files';
  if (cfgs.length > 1 || lens.length > 1 || sparse.length > 1 || npz.length > 1)
    throw new ImportError(shown, 'these files hold more than one SAE: import one SAE folder at a time');
  if (npz.length === 1 && cfgs.length === 0) return readGemmaScope(npz[0]);
  if (cfgs.length === 1 && lens.length === 1) return readSaeLens(cfgs[0], lens[0]);
  if (cfgs.length === 1 && sparse.length === 1) return readSparsify(cfgs[0], sparse[0]);
  const missing =
    cfgs.length === 1
      ? 'cfg.json has no weights beside it (sae_weights.safetensors for SAELens, sae.safetensors for sparsify)'
      : lens.length + sparse.length > 0
        ? 'the weights have no cfg.json beside them'
        : 'not an SAE';
  throw new ImportError(
    shown,
    `${missing}. The lab reads a SAELens folder (cfg.json + sae_weights.safetensors), a sparsify SAE ` +
      '(cfg.json + sae.safetensors) or a Gemma Scope params.npz',
  );
}
