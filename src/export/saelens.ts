/**
 * Export of a trained SAE in SAELens's on-disk layout: `cfg.json` + `sae_weights.safetensors` with
 *   W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc [d_sae], b_dec [d_in], float32,
 * plus threshold [d_sae] for the JumpReLU-style SAEs, where d_in = d_model. SAELens computes
 * pre = (x − b_dec)·W_enc + b_enc (apply_b_dec_to_input = true) and x̂ = z·W_dec + b_dec with
 *   architecture 'topk'      z = ReLU(TopK_k(pre))                      (our TopK)
 *   architecture 'jumprelu'  z = pre·H(pre − threshold)                 (our JumpReLU; and our BatchTopK, which
 *                            SAELens too saves for inference as a JumpReLU with its running threshold broadcast
 *                            to [d_sae])
 *   architecture 'standard'  z = ReLU(pre)                              (our ReLU + L1)
 * which are exactly our models, so the weights go over unchanged except for the activation normalisation. The
 * training architecture is kept in cfg.sae_lab.architecture (and the whole run config in cfg.sae_lab.config).
 *
 * Folding the normalisation (SAELens `fold_activation_norm_scaling_factor`): the SAE was trained on x' = s·x.
 * With W_enc ← s·W_enc, W_dec ← W_dec / s, b_dec ← b_dec / s (b_enc unchanged) the exported SAE takes raw x,
 * produces the same latents z, and reconstructs x̂ = x̂'/s. The cfg then says normalize_activations = "none".
 * (After folding, W_dec rows have norm 1/s rather than 1.) The pre-activations are unchanged by the folding, so
 * the threshold is exported as trained.
 */
import { hasThreshold, resolveArch } from '../sae/arch';
import { archSpec } from '../sae/archs';
import type { Architecture, SaeParams, SaeShape } from '../sae/types';
import type { TrainConfig } from '../train/config';
import { writeSafetensors } from './safetensors';

/**
 * What cfg.json says when the dataset does not name its model / hook (SAELens v6 needs strings there: a null
 * hook_name fails its loader). Set the real names on the dataset in the library before exporting.
 */
export const UNKNOWN_MODEL_NAME = 'unknown-model';
export const UNKNOWN_HOOK_NAME = 'unknown.hook_name';

/** File names SAELens looks for in an SAE folder. */
export const SAELENS_CFG_FILE = 'cfg.json';
export const SAELENS_WEIGHTS_FILE = 'sae_weights.safetensors';

/** What is known about the run, for cfg.json. */
export interface ExportInfo {
  /** Activation normalisation factor s the SAE was trained with (1 = none). */
  scale: number;
  runId: string;
  datasetName: string;
  /** Steps trained and tokens seen. */
  steps: number;
  tokens: number;
  config: TrainConfig;
  /** Dataset safetensors metadata (model / hook names when the activations came with them). */
  datasetMetadata?: Record<string, string>;
}

/** The two files of an export. */
export interface SaeLensExport {
  /** cfg.json as an object and as text. */
  cfg: Record<string, unknown>;
  cfgJson: string;
  /** sae_weights.safetensors bytes. */
  safetensors: Uint8Array;
}

/**
 * Parameters of the same SAE acting on raw (unscaled) activations: see the module comment.
 * @throws RangeError when scale is not a positive finite number.
 */
export function foldNormalisation(p: SaeParams, scale: number): SaeParams {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`foldNormalisation: bad scale ${scale}`);
  const out: SaeParams = {
    wEnc: p.wEnc.map((w) => w * scale),
    wDec: p.wDec.map((w) => w / scale),
    bEnc: p.bEnc.slice(),
    bDec: p.bDec.map((b) => b / scale),
  };
  if (p.threshold) out.threshold = p.threshold.slice();
  return out;
}

/** SAELens's architecture name of an inference SAE equivalent to ours (see the module comment). */
export function saeLensArchitecture(architecture: Architecture): 'topk' | 'jumprelu' | 'standard' {
  return archSpec(architecture).saeLens.architecture;
}

function meta(m: Record<string, string> | undefined, ...keys: string[]): string | null {
  for (const k of keys) if (m?.[k] !== undefined) return m[k];
  return null;
}

/**
 * Build cfg.json and sae_weights.safetensors for a trained SAE (params in training space; the scale is folded in
 * here). The architecture comes from shape.arch (TopK when absent).
 * @throws RangeError when the parameter lengths do not match the shape, or θ is missing for JumpReLU/BatchTopK.
 */
export function exportSaeLens(params: SaeParams, shape: SaeShape, info: ExportInfo): SaeLensExport {
  const { dModel: D, dSae: S, k } = shape;
  const arch = resolveArch(shape);
  const withThreshold = hasThreshold(arch.architecture);
  const want: Partial<Record<keyof SaeParams, number>> = { wEnc: D * S, wDec: S * D, bEnc: S, bDec: D };
  if (withThreshold) want.threshold = S;
  for (const key of Object.keys(want) as (keyof SaeParams)[]) {
    const got = params[key]?.length;
    if (got !== want[key]) {
      throw new RangeError(`exportSaeLens: ${key} has ${got ?? 'no'} values, expected ${want[key]}`);
    }
  }
  const lens = archSpec(arch.architecture).saeLens;
  const saeLensArch = lens.architecture;
  const p = foldNormalisation(params, info.scale);
  const md = info.datasetMetadata;
  const modelName = meta(md, 'model_name', 'model') ?? UNKNOWN_MODEL_NAME;
  const hookName = meta(md, 'hook_name', 'hook', 'hook_point') ?? UNKNOWN_HOOK_NAME;
  const cfg: Record<string, unknown> = {
    architecture: saeLensArch,
    d_in: D,
    d_sae: S,
    ...(lens.cfgK ? { k, rescale_acts_by_decoder_norm: false } : {}),
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: true,
    normalize_activations: 'none',
    reshape_activations: 'none',
    // Pre-v6 SAELens configs name the activation this way.
    activation_fn_str: lens.activationFn,
    activation_fn_kwargs: lens.cfgK ? { k } : {},
    model_name: modelName,
    hook_name: hookName,
    dataset_path: info.datasetName,
    finetuning_scaling_factor: false,
    metadata: {
      model_name: modelName,
      hook_name: hookName,
      dataset_path: info.datasetName,
    },
    sae_lab: {
      architecture: arch.architecture,
      ...(lens.labK ? { k } : {}),
      auxk: arch.auxk,
      ...(lens.labExtra?.(arch, S) ?? {}),
      run_id: info.runId,
      steps: info.steps,
      training_tokens: info.tokens,
      activation_norm_scaling_factor: info.scale,
      activation_norm_scaling_folded: true,
      config: info.config,
    },
  };
  const safetensors = writeSafetensors(
    [
      { name: 'W_enc', shape: [D, S], data: p.wEnc },
      { name: 'W_dec', shape: [S, D], data: p.wDec },
      { name: 'b_enc', shape: [S], data: p.bEnc },
      { name: 'b_dec', shape: [D], data: p.bDec },
      ...(withThreshold && p.threshold ? [{ name: 'threshold', shape: [S], data: p.threshold }] : []),
    ],
    { format: 'pt' },
  );
  return { cfg, cfgJson: `${JSON.stringify(cfg, null, 2)}\n`, safetensors };
}
