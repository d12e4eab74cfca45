/**
 * Generated SAE files in the layouts other tools write (SAELens folder, sparsify folder, Gemma Scope params.npz),
 * with seeded random weights, for the unit tests (src/saes/*.test.ts) and the browser test (e2e/saeimport.spec.ts).
 * Shapes, orientations and names follow src/saes/readers.ts; knobs produce broken files on purpose.
 */
import { zipSync } from 'fflate';
import type { ElemKind } from '../data/dtype';
import { encodeElems, npyBytes, safetensorsBytes } from '../data/fixtures';
import { Rng } from '../util/rng';
import type { SaeFile } from './readers';

/** Weights of a generated SAE in OUR layout: W_enc [d, s], W_dec [s, d], b_enc [s], b_dec [d], θ [s]. */
export interface FixtureWeights {
  dModel: number;
  dSae: number;
  wEnc: Float32Array;
  wDec: Float32Array;
  bEnc: Float32Array;
  bDec: Float32Array;
  threshold: Float32Array;
}

/** Values exactly representable in bfloat16 and float16 (so every dtype round-trips bit for bit). */
function halfExact(rng: Rng, n: number, scale: number, offset = 0): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + Math.round(rng.normal() * scale * 64) / 64;
  return a;
}

/** Seeded weights of shape (d_model, d_sae); θ positive. */
export function fixtureWeights(dModel: number, dSae: number, seed = 1): FixtureWeights {
  const rng = new Rng(seed);
  const threshold = halfExact(rng, dSae, 0.05, 0.25).map((t) => Math.abs(t));
  return {
    dModel,
    dSae,
    wEnc: halfExact(rng, dModel * dSae, 0.25),
    wDec: halfExact(rng, dSae * dModel, 0.25),
    bEnc: halfExact(rng, dSae, 0.1),
    bDec: halfExact(rng, dModel, 0.1),
    threshold,
  };
}

const ST_DTYPE: Record<ElemKind, string> = { f32: 'F32', f16: 'F16', bf16: 'BF16', f64: 'F64' };

/** [rows, cols] → [cols, rows]. */
export function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** One tensor of a safetensors fixture. */
export interface TensorSpec {
  name: string;
  shape: number[];
  data: ArrayLike<number>;
  /** Default f32. */
  kind?: ElemKind;
  /** A safetensors dtype string that overrides `kind` (e.g. "I32" for a wrong dtype). */
  dtype?: string;
}

/** A safetensors file of these tensors. */
export function safetensorsOf(tensors: TensorSpec[]): Uint8Array {
  return safetensorsBytes(
    tensors.map((t) => ({
      name: t.name,
      dtype: t.dtype ?? ST_DTYPE[t.kind ?? 'f32'],
      shape: t.shape,
      data: encodeElems(t.data, t.kind ?? 'f32'),
    })),
  );
}

/** Options of {@link saeLensFolder}. */
export interface SaeLensFixture {
  architecture: 'standard' | 'topk' | 'jumprelu' | 'batchtopk' | string;
  k?: number;
  kind?: ElemKind;
  applyBDecToInput?: boolean;
  /** Edit the tensors before writing (drop, add, reshape). */
  tensors?: (t: TensorSpec[]) => TensorSpec[];
  /** Replace cfg.json's text. */
  cfgText?: string;
  folder?: string;
}

/** A SAELens folder: `<folder>/cfg.json` + `<folder>/sae_weights.safetensors`. */
export function saeLensFolder(w: FixtureWeights, o: SaeLensFixture): SaeFile[] {
  const { dModel: D, dSae: S } = w;
  const kind = o.kind ?? 'f32';
  let t: TensorSpec[] = [
    { name: 'W_enc', shape: [D, S], data: w.wEnc, kind },
    { name: 'W_dec', shape: [S, D], data: w.wDec, kind },
    { name: 'b_enc', shape: [S], data: w.bEnc, kind },
    { name: 'b_dec', shape: [D], data: w.bDec, kind },
  ];
  if (o.architecture === 'jumprelu') t.push({ name: 'threshold', shape: [S], data: w.threshold, kind });
  if (o.architecture === 'batchtopk')
    t.push({ name: 'topk_threshold', shape: [], data: [w.threshold[0]], kind: 'f64' });
  if (o.tensors) t = o.tensors(t);
  const cfg = {
    architecture: o.architecture,
    d_in: D,
    d_sae: S,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: o.applyBDecToInput ?? true,
    normalize_activations: 'none',
    ...(o.k !== undefined ? { k: o.k } : {}),
    metadata: { model_name: 'stories260K', hook_name: 'blocks.2.hook_resid_post' },
  };
  const folder = o.folder ?? `saelens-${o.architecture}`;
  return [
    { name: `${folder}/cfg.json`, bytes: new TextEncoder().encode(o.cfgText ?? JSON.stringify(cfg)) },
    { name: `${folder}/sae_weights.safetensors`, bytes: safetensorsOf(t) },
  ];
}

/** A sparsify folder (`cfg.json` + `sae.safetensors`, encoder.weight [d_sae, d_in]). */
export function sparsifyFolder(w: FixtureWeights, k: number, kind: ElemKind = 'bf16'): SaeFile[] {
  const { dModel: D, dSae: S } = w;
  const cfg = {
    activation: 'topk',
    expansion_factor: 32,
    normalize_decoder: true,
    num_latents: S,
    k,
    multi_topk: false,
    skip_connection: false,
    transcode: false,
    d_in: D,
  };
  const st = safetensorsOf([
    { name: 'encoder.weight', shape: [S, D], data: transposed(w.wEnc, D, S), kind },
    { name: 'encoder.bias', shape: [S], data: w.bEnc, kind },
    { name: 'W_dec', shape: [S, D], data: w.wDec, kind },
    { name: 'b_dec', shape: [D], data: w.bDec, kind },
  ]);
  return [
    { name: 'layers.2/cfg.json', bytes: new TextEncoder().encode(JSON.stringify(cfg)) },
    { name: 'layers.2/sae.safetensors', bytes: st },
  ];
}

/** A Gemma Scope `params.npz` (W_enc [d_model, d_sae], …, threshold), each array a `.npy` member. */
export function gemmaScopeNpz(w: FixtureWeights, kind: 'f32' | 'f16' = 'f32'): SaeFile {
  const { dModel: D, dSae: S } = w;
  const descr = kind === 'f32' ? '<f4' : '<f2';
  const npy = (shape: number[], data: Float32Array) =>
    npyBytes({ descr, shape, data: encodeElems(data, kind) });
  const zip = zipSync({
    'W_enc.npy': npy([D, S], w.wEnc),
    'W_dec.npy': npy([S, D], w.wDec),
    'b_enc.npy': npy([S], w.bEnc),
    'b_dec.npy': npy([D], w.bDec),
    'threshold.npy': npy([S], w.threshold),
  });
  return { name: 'layer_2/width_16k/average_l0_20/params.npz', bytes: zip };
}
