/**
 * Export of a trained TopK SAE in SAELens's on-disk layout: `cfg.json` + `sae_weights.safetensors` with
 *   W_enc [d_in, d_sae], W_dec [d_sae, d_in], b_enc [d_sae], b_dec [d_in], float32,
 * where d_in = d_model. SAELens's TopK SAE computes z = ReLU(TopK_k((x − b_dec)·W_enc + b_enc)), x̂ = z·W_dec + b_dec
 * (apply_b_dec_to_input = true), which is exactly our model, so the weights go over unchanged except for the
 * activation normalisation.
 *
 * Folding the normalisation (SAELens `fold_activation_norm_scaling_factor`): the SAE was trained on x' = s·x.
 * With W_enc ← s·W_enc, W_dec ← W_dec / s, b_dec ← b_dec / s (b_enc unchanged) the exported SAE takes raw x,
 * produces the same latents z, and reconstructs x̂ = x̂'/s. The cfg then says normalize_activations = "none".
 * (After folding, W_dec rows have norm 1/s rather than 1.)
 */
import type { SaeParams, SaeShape } from '../sae/types';
import type { TrainConfig } from '../train/config';
import { writeSafetensors } from './safetensors';

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
  return {
    wEnc: p.wEnc.map((w) => w * scale),
    wDec: p.wDec.map((w) => w / scale),
    bEnc: p.bEnc.slice(),
    bDec: p.bDec.map((b) => b / scale),
  };
}

function meta(m: Record<string, string> | undefined, ...keys: string[]): string | null {
  for (const k of keys) if (m?.[k] !== undefined) return m[k];
  return null;
}

/**
 * Build cfg.json and sae_weights.safetensors for a trained TopK SAE (params in training space; the scale is
 * folded in here).
 * @throws RangeError when the parameter lengths do not match the shape.
 */
export function exportSaeLens(params: SaeParams, shape: SaeShape, info: ExportInfo): SaeLensExport {
  const { dModel: D, dSae: S, k } = shape;
  const want = { wEnc: D * S, wDec: S * D, bEnc: S, bDec: D };
  for (const key of Object.keys(want) as (keyof typeof want)[]) {
    if (params[key].length !== want[key]) {
      throw new RangeError(`exportSaeLens: ${key} has ${params[key].length} values, expected ${want[key]}`);
    }
  }
  const p = foldNormalisation(params, info.scale);
  const md = info.datasetMetadata;
  const modelName = meta(md, 'model_name', 'model');
  const hookName = meta(md, 'hook_name', 'hook', 'hook_point');
  const cfg: Record<string, unknown> = {
    architecture: 'topk',
    d_in: D,
    d_sae: S,
    k,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: true,
    normalize_activations: 'none',
    reshape_activations: 'none',
    rescale_acts_by_decoder_norm: false,
    // Pre-v6 SAELens configs name the activation this way.
    activation_fn_str: 'topk',
    activation_fn_kwargs: { k },
    model_name: modelName,
    hook_name: hookName,
    hook_layer: null,
    hook_head_index: null,
    prepend_bos: null,
    context_size: null,
    dataset_path: info.datasetName,
    finetuning_scaling_factor: false,
    metadata: {
      model_name: modelName,
      hook_name: hookName,
      dataset_path: info.datasetName,
    },
    sae_lab: {
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
    ],
    { format: 'pt' },
  );
  return { cfg, cfgJson: `${JSON.stringify(cfg, null, 2)}\n`, safetensors };
}
