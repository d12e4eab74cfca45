/**
 * An SAE as a splice for the language model: x ↦ x̂, in SAELens inference semantics (src/export/saelens.ts):
 *   pre = (x − b_dec)·W_enc + b_enc,   x̂ = z·W_dec + b_dec,
 *   z = ReLU(TopK_k(pre)) ("topk"), pre·H(pre − threshold) ("jumprelu"), ReLU(pre) ("standard").
 * Shapes: x [T, d_in], W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc/threshold [d_sae], b_dec [d_in]; float32.
 * The SAE acts on raw activations: the lab's training-space SAEs go through foldNormalisation first, which is the
 * un-normalisation x̂ = x̂'(s·x)/s.
 */

import { validateSafetensorsHeader } from '../data/safetensors';
import { foldNormalisation, saeLensArchitecture } from '../export/saelens';
import { resolveArch } from '../sae/arch';
import type { SaeParams, SaeShape } from '../sae/types';
import type { Splice } from './corpus-cpu';

/** How latents are computed from pre-activations. */
export type InferenceActivation =
  | { kind: 'topk'; k: number }
  | { kind: 'threshold'; threshold: Float32Array }
  | { kind: 'relu' };

/** An SAE acting on raw activations (module comment). */
export interface InferenceSae {
  dIn: number;
  dSae: number;
  wEnc: Float32Array;
  wDec: Float32Array;
  bEnc: Float32Array;
  bDec: Float32Array;
  activation: InferenceActivation;
}

/** Reconstruction x̂ [T, d_in] of x [T, d_in] (module comment; TopK ties broken towards the lower latent index). */
export function reconstructCpu(sae: InferenceSae, x: Float32Array, T: number): Float32Array {
  const { dIn: D, dSae: S, wEnc, wDec, bEnc, bDec, activation: act } = sae;
  const out = new Float32Array(T * D);
  const pre = new Float32Array(S);
  const xc = new Float32Array(D);
  const order: number[] = [];
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < D; i++) xc[i] = x[t * D + i] - bDec[i];
    pre.set(bEnc);
    for (let i = 0; i < D; i++) {
      const xi = xc[i];
      if (xi === 0) continue;
      const row = i * S;
      for (let s = 0; s < S; s++) pre[s] += xi * wEnc[row + s];
    }
    const o = out.subarray(t * D, (t + 1) * D);
    o.set(bDec);
    const add = (s: number, z: number) => {
      if (z === 0) return;
      const row = s * D;
      for (let i = 0; i < D; i++) o[i] += z * wDec[row + i];
    };
    if (act.kind === 'topk') {
      order.length = 0;
      for (let s = 0; s < S; s++) order.push(s);
      order.sort((a, b) => pre[b] - pre[a] || a - b);
      for (let j = 0; j < act.k && j < S; j++) add(order[j], Math.max(0, pre[order[j]]));
    } else if (act.kind === 'threshold') {
      for (let s = 0; s < S; s++) if (pre[s] > act.threshold[s]) add(s, pre[s]);
    } else {
      for (let s = 0; s < S; s++) if (pre[s] > 0) add(s, pre[s]);
    }
  }
  return out;
}

/** The splice x ↦ x̂ of an SAE (for src/lm/corpus-cpu.ts patchedCeCpu). */
export function saeSplice(sae: InferenceSae): Splice {
  return (x, T, D) => {
    if (D !== sae.dIn) throw new RangeError(`SAE d_in ${sae.dIn} ≠ the hook's width ${D}`);
    return reconstructCpu(sae, x, T);
  };
}

/**
 * The inference SAE of a lab SAE trained on activations scaled by `scale` (the same conversion as the SAELens
 * export: BatchTopK infers as a JumpReLU with its running threshold).
 */
export function inferenceSaeFromParams(params: SaeParams, shape: SaeShape, scale: number): InferenceSae {
  const p = foldNormalisation(params, scale);
  const a = saeLensArchitecture(resolveArch(shape).architecture);
  const activation: InferenceActivation =
    a === 'topk'
      ? { kind: 'topk', k: shape.k }
      : a === 'jumprelu'
        ? { kind: 'threshold', threshold: p.threshold ?? new Float32Array(shape.dSae) }
        : { kind: 'relu' };
  return {
    dIn: shape.dModel,
    dSae: shape.dSae,
    wEnc: p.wEnc,
    wDec: p.wDec,
    bEnc: p.bEnc,
    bDec: p.bDec,
    activation,
  };
}

/**
 * Read an SAE in SAELens layout: cfg.json text and sae_weights.safetensors bytes (F32 tensors W_enc, W_dec, b_enc,
 * b_dec, and threshold for "jumprelu").
 * @throws Error naming the file and the problem: cfg not JSON, unknown architecture, a missing / non-F32 / misshapen
 *   tensor.
 */
export function parseSaeLens(cfgText: string, weights: Uint8Array, dir = 'SAE'): InferenceSae {
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(cfgText);
  } catch {
    throw new Error(`${dir}/cfg.json: not JSON`);
  }
  const dIn = Number(cfg.d_in);
  const dSae = Number(cfg.d_sae);
  if (!(Number.isInteger(dIn) && dIn > 0 && Number.isInteger(dSae) && dSae > 0)) {
    throw new Error(`${dir}/cfg.json: d_in and d_sae must be positive integers`);
  }
  const file = `${dir}/sae_weights.safetensors`;
  if (weights.byteLength < 8) throw new Error(`${file}: too short for a safetensors file`);
  const dv = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  if (8 + n > weights.byteLength) throw new Error(`${file}: header runs past the end of the file`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(weights.subarray(8, 8 + n)));
  } catch {
    throw new Error(`${file}: header is not JSON`);
  }
  const h = validateSafetensorsHeader(file, weights.byteLength, 8 + n, json);
  const tensor = (name: string, shape: number[]) => {
    const t = h.tensors.find((x) => x.name === name);
    if (!t) throw new Error(`${file}: no tensor ${name}`);
    if (t.dtype !== 'F32') throw new Error(`${file}: ${name} is ${t.dtype}, expected F32`);
    if (t.shape.join(',') !== shape.join(',')) {
      throw new Error(
        `${file}: ${name} has shape [${t.shape}], expected [${shape}] (cfg d_in ${dIn}, d_sae ${dSae})`,
      );
    }
    const b = weights.slice(h.dataStart + t.dataOffsets[0], h.dataStart + t.dataOffsets[1]);
    return new Float32Array(b.buffer);
  };
  const arch = String(cfg.architecture ?? 'standard');
  let activation: InferenceActivation;
  if (arch === 'topk') {
    const k = Number(cfg.k ?? (cfg.activation_fn_kwargs as { k?: number } | undefined)?.k);
    if (!(Number.isInteger(k) && k > 0))
      throw new Error(`${dir}/cfg.json: architecture topk without a positive k`);
    activation = { kind: 'topk', k };
  } else if (arch === 'jumprelu') {
    activation = { kind: 'threshold', threshold: tensor('threshold', [dSae]) };
  } else if (arch === 'standard') {
    activation = { kind: 'relu' };
  } else {
    throw new Error(`${dir}/cfg.json: architecture "${arch}" is not supported (topk, jumprelu, standard)`);
  }
  return {
    dIn,
    dSae,
    wEnc: tensor('W_enc', [dIn, dSae]),
    wDec: tensor('W_dec', [dSae, dIn]),
    bEnc: tensor('b_enc', [dSae]),
    bDec: tensor('b_dec', [dIn]),
    activation,
  };
}
