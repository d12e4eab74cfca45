/**
 * Hook points of a llama2.c model, named the SAELens / TransformerLens way. Every hook carries the residual-stream
 * width: activations at a hook are float32 [T, D] (T = tokens of the sequence, D = dim = d_model).
 *
 *   hook_embed                 token embedding (the input of block 0)
 *   blocks.{l}.hook_resid_pre  residual stream entering block l (block 0: the embedding after hook_embed)
 *   blocks.{l}.hook_mlp_out    output of block l's SwiGLU MLP, before it is added to the residual stream
 *   blocks.{l}.hook_resid_post residual stream leaving block l
 */
import type { LlamaConfig } from './checkpoint';

/** One parsed hook name. */
export type HookPoint = { kind: 'embed' } | { kind: 'resid_pre' | 'mlp_out' | 'resid_post'; layer: number };

/** Every hook name of a model with nLayers blocks, in forward order. */
export function hookNames(c: Pick<LlamaConfig, 'nLayers'>): string[] {
  const names = ['hook_embed'];
  for (let l = 0; l < c.nLayers; l++) {
    names.push(`blocks.${l}.hook_resid_pre`, `blocks.${l}.hook_mlp_out`, `blocks.${l}.hook_resid_post`);
  }
  return names;
}

/**
 * Parse and check a hook name against a model.
 * @throws Error "unknown hook …" naming the valid forms when the name is not one, or the layer is out of range.
 */
export function parseHook(name: string, c: Pick<LlamaConfig, 'nLayers'>): HookPoint {
  if (name === 'hook_embed') return { kind: 'embed' };
  const m = /^blocks\.(\d+)\.hook_(resid_pre|mlp_out|resid_post)$/.exec(name);
  if (!m) {
    throw new Error(
      `unknown hook "${name}": expected hook_embed or blocks.{l}.hook_resid_pre|hook_mlp_out|hook_resid_post`,
    );
  }
  const layer = Number(m[1]);
  if (layer >= c.nLayers) throw new Error(`unknown hook "${name}": the model has layers 0..${c.nLayers - 1}`);
  return { kind: m[2] as 'resid_pre' | 'mlp_out' | 'resid_post', layer };
}

/**
 * What to do at hooks during a forward pass. `read` sees the activations [T, D] (a view: copy to keep them);
 * `replace` returns the activations to continue with, [T, D] (a splice: SAE reconstruction, zeros, …).
 */
export interface HookFns {
  [hook: string]: {
    read?: (x: Float32Array, tokens: number, dModel: number) => void;
    replace?: (x: Float32Array, tokens: number, dModel: number) => Float32Array;
  };
}

/** Run the hook `name` on x [T, D]: read, then replace (checking the replacement's length). */
export function applyHook(
  hooks: HookFns | undefined,
  name: string,
  x: Float32Array,
  T: number,
  D: number,
): Float32Array {
  const h = hooks?.[name];
  if (!h) return x;
  h.read?.(x, T, D);
  if (!h.replace) return x;
  const y = h.replace(x, T, D);
  if (y.length !== T * D)
    throw new RangeError(`hook ${name}: the replacement has ${y.length} values, expected ${T}×${D}`);
  return y;
}
