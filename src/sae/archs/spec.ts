/**
 * The contract of an SAE architecture plug-in: everything the rest of the lab needs to know about one
 * architecture, in one object per architecture (src/sae/archs/<name>.ts), collected by src/sae/archs/index.ts.
 * Config, form, charts, summary, export, import and the engines read these specs; no other file compares
 * architecture names. The math of each architecture is at the top of src/sae/types.ts.
 */
import type * as v from 'valibot';
import type { TrainConfig } from '../../train/config';
import type { SaeArch } from '../types';

/**
 * Fields of TrainConfig (src/train/config.ts) that belong to one or more architectures. Their defaults, ranges,
 * docs and validation live in the registry (src/sae/archs/fields.ts and the architecture files), nowhere else.
 */
export type ArchConfigField =
  | 'k'
  | 'l0Coefficient'
  | 'l1Coefficient'
  | 'sparsityWarmupSteps'
  | 'bandwidth'
  | 'thresholdInit'
  | 'thresholdLrScale'
  | 'thresholdEmaRate'
  | 'auxk'
  | 'kAux'
  | 'auxkAlpha'
  | 'auxkDeadWindowTokens'
  | 'matryoshkaWidths';

/** The value of an architecture config field: a number, a switch, or a list of numbers (kind 'list'). */
export type ArchFieldValue = number | boolean | readonly number[];

/** One architecture config field: its default, its validation and how the form shows it. */
export interface ArchFieldSpec {
  field: ArchConfigField;
  /** The default value (the only place it is written). */
  default: ArchFieldValue;
  /** valibot schema of the field (range and the message naming the field). */
  schema: v.GenericSchema<unknown, ArchFieldValue>;
  /** Form label. */
  label: string;
  /** One sentence under the input. */
  help: string;
  /**
   * Input kind: 'number', 'checkbox', or 'list' (numbers separated by commas in one text input, stored as a
   * number array; the form parses it, the schema validates it).
   */
  kind: 'number' | 'checkbox' | 'list';
  /** In the collapsed "Advanced" section. */
  advanced: boolean;
  /** Step attribute of number inputs. */
  step?: string;
}

/**
 * How an architecture trains: the engines (src/gpu/sae-engine.ts, src/reference/sae-engine.ts) pick their step
 * path and its modes from this, never from the name.
 *  - path 'sparse-topk': per-row TopK, sparse decode and backward over k (index, value) pairs per token;
 *  - path 'sparse-batchtopk': batch-level top-(k·B) selection compacted into TopK-style rows (dense fallback when
 *    a token keeps more than 256 latents);
 *  - path 'dense': dense latents [B, d_sae], matmul decoder and gradients;
 *  - path 'matryoshka': batch-level top-(k·B) selection, the loss summed over the reconstructions of nested
 *    prefixes of the dictionary (their widths: the config field `matryoshkaWidths`, SaeArch.matryoshkaWidths).
 */
export interface StepPathSpec {
  path: 'sparse-topk' | 'sparse-batchtopk' | 'dense' | 'matryoshka';
  /** Activation of the dense forward (training and evaluation): ReLU, or pre·H(pre − θ). */
  forward: 'relu' | 'threshold';
  /** Dense backward: 'masked' (∂pre = ∂z where kept), 'relu' (L1 term), 'jumprelu' (rectangle-kernel STE). */
  backward: 'masked' | 'relu' | 'jumprelu';
  /** Sparsity term in the loss: none, 'relu' (λ·Σ z·‖W_dec‖) or 'jumprelu' (λ·L0). */
  sparsity: 'none' | 'relu' | 'jumprelu';
  /** Threshold θ [d_sae]: none, 'learned' (log θ by Adam, starts at thresholdInit) or 'running' (BatchTopK's EMA). */
  threshold: 'none' | 'learned' | 'running';
}

/**
 * What the collapse checks (src/train/collapse.ts) need to know of an architecture: capabilities, never its name.
 * The checks themselves (L0 < k/2, held-out dead fraction > 50%, EV < 0, non-finite mean θ) are written once there.
 */
export interface CollapseCapabilities {
  /** The architecture keeps k latents per token (on average for BatchTopK): held-out L0 is compared with k/2. */
  fixedK: boolean;
  /** The architecture has a per-latent threshold θ whose mean must stay finite. */
  hasThreshold: boolean;
}

/** The SAELens side of an architecture (src/export/saelens.ts). */
export interface SaeLensSpec {
  /** cfg.json `architecture` of the equivalent inference SAE. */
  architecture: 'topk' | 'jumprelu' | 'standard';
  /** Pre-v6 `activation_fn_str`. */
  activationFn: 'topk' | 'relu';
  /** cfg.json carries `k` (and activation_fn_kwargs {k}). */
  cfgK: boolean;
  /** Our own `sae_lab` block records k (it is not part of the SAELens architecture). */
  labK: boolean;
  /** Tensors beyond W_enc, W_dec, b_enc, b_dec in sae_weights.safetensors, each [d_sae] f32. */
  extraTensors: readonly 'threshold'[];
  /**
   * Architecture-specific keys of cfg.json's `sae_lab` block (e.g. Matryoshka's `matryoshka_widths`), from the
   * resolved architecture and d_sae; absent = none.
   */
  labExtra?(arch: SaeArch, dSae: number): Record<string, unknown>;
  /**
   * The SAELens v6 training config class of the architecture (src/runs/saelens-script.ts) and its
   * architecture-specific keyword arguments: [name, Python expression, optional comment] (helpers in
   * src/sae/archs/saelens-kw.ts).
   */
  training: {
    cls: string;
    kwargs(c: TrainConfig, dSae: number): SaeLensKw[];
  };
}

/** One keyword argument of a SAELens Python call: name, Python expression, optional trailing comment. */
export type SaeLensKw = [string, string, string?];

/**
 * How SAEs trained elsewhere map onto an architecture (src/saes/readers.ts): which formats and architecture strings
 * it reads. The importer picks the spec that accepts a file; it never compares architecture names itself.
 */
export interface ImportSpec {
  /**
   * SAELens cfg.json `architecture` strings read as this architecture, each with where its threshold θ is stored:
   * none, `threshold` [d_sae], or a scalar (`topk_threshold`, SAELens's BatchTopK training checkpoint) broadcast to
   * every latent.
   */
  saeLens: readonly { architecture: string; threshold: 'none' | 'per-latent' | 'scalar'; tensor?: string }[];
  /** A sparsify (EleutherAI) TopK SAE (cfg.json + sae.safetensors) is read as this architecture. */
  sparsify: boolean;
  /** A Gemma Scope params.npz (JumpReLU with `threshold`) is read as this architecture. */
  gemmaScope: boolean;
}

/** One architecture: identity, config fields, training path, charts, summary, export and collapse checks. */
export interface ArchSpec<Id extends string = string> {
  /** Stable id, stored in configs, checkpoints and exports. */
  id: Id;
  /** Human name (picker, summary). */
  label: string;
  /** Part of the picker's help sentence. */
  pickerHelp: string;
  /** Config fields this architecture uses (shared ones come from src/sae/archs/fields.ts). */
  fields: readonly ArchFieldSpec[];
  /** TrainConfig field holding λ of the sparsity term, or null. */
  sparsityCoefficient: 'l0Coefficient' | 'l1Coefficient' | null;
  /** Whether the AuxK loss applies. */
  auxk: boolean;
  step: StepPathSpec;
  /** Live charts and summary rows. */
  charts: {
    /** Title of the L0 chart for a run with this k. */
    l0Title(k: number): string;
    /** Note under the L0 chart. */
    l0Note: string;
    /** Title of the sparsity-loss chart, or null when there is none. */
    sparsityTitle: string | null;
  };
  summary: {
    /** Label of the L0 row of the summary table. */
    l0Label(k: number): string;
  };
  saeLens: SaeLensSpec;
  /** What the SAE importer (src/saes/) reads as this architecture; absent = nothing. */
  imports?: ImportSpec;
  /** Which collapse checks apply at each evaluation and at the end of a run (src/train/collapse.ts). */
  collapse: CollapseCapabilities;
}
