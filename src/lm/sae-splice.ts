/**
 * An SAE as a splice for the language model: x ↦ x̂, in SAELens inference semantics (src/export/saelens.ts):
 *   pre = (x − b_dec)·W_enc + b_enc,   x̂ = z·W_dec + b_dec,
 *   z = ReLU(TopK_k(pre)) ("topk"), pre·H(pre − threshold) ("jumprelu"), ReLU(pre) ("standard").
 * Shapes: x [T, d_in], W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc/threshold [d_sae], b_dec [d_in]; float32.
 * The SAE acts on raw activations: the lab's training-space SAEs go through foldNormalisation first, which is the
 * un-normalisation x̂ = x̂'(s·x)/s.
 */

import { foldNormalisation, saeLensArchitecture } from '../export/saelens';
import { resolveArch } from '../sae/arch';
import type { SaeParams, SaeShape } from '../sae/types';
import { readSaeLens } from '../saes/readers';
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
 * Read an SAE in SAELens layout: cfg.json text and sae_weights.safetensors bytes, through the lab's SAE importer
 * (src/saes/readers.ts: architectures standard / topk / jumprelu / batchtopk, F32/F16/BF16/F64 tensors).
 * @throws ImportError naming the file and the problem: cfg not JSON, unknown architecture, a missing, extra,
 *   misshapen or non-float tensor, a truncated file.
 */
export function parseSaeLens(cfgText: string, weights: Uint8Array, dir = 'SAE'): InferenceSae {
  const sae = readSaeLens(
    { name: `${dir}/cfg.json`, bytes: new TextEncoder().encode(cfgText) },
    { name: `${dir}/sae_weights.safetensors`, bytes: weights },
  );
  const shape: SaeShape = {
    dModel: sae.dModel,
    dSae: sae.dSae,
    k: sae.k,
    batchSize: 1,
    arch: { architecture: sae.architecture },
  };
  return inferenceSaeFromParams(sae.params, shape, 1);
}
