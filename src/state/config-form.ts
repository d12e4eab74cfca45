/**
 * The config form's model: every {@link TrainConfig} field as the text the user typed, the conversion to a
 * candidate config, and its validation (src/train/config.ts) into one message per field.
 */
import { ARCHITECTURES } from '../sae/arch';
import type { Architecture } from '../sae/types';
import {
  type ConfigErrors,
  type ConfigValidation,
  type DatasetFacts,
  DEFAULT_CONFIG,
  type TrainConfig,
  validateConfig,
} from '../train/config';

/** Form fields, in display order. */
export type FormField = keyof TrainConfig;

/** The form's text per field ('' in dSae = use the expansion factor; normalize is 'true'/'false'). */
export type FormValues = Record<FormField, string>;

/** How each field is edited and labelled. `advanced` fields sit in a collapsed section. */
export interface FieldSpec {
  field: FormField;
  label: string;
  /** One sentence under the input. */
  help: string;
  kind: 'number' | 'select' | 'checkbox';
  options?: readonly string[];
  advanced: boolean;
  /** Step attribute of number inputs. */
  step?: string;
  /** Display labels of select options (by option value). */
  optionLabels?: Readonly<Record<string, string>>;
  /** Shown only for these architectures (all when absent). */
  archs?: readonly Architecture[];
}

/** Human names of the architectures, for the picker. */
export const ARCHITECTURE_LABELS: Readonly<Record<Architecture, string>> = {
  topk: 'TopK',
  batchtopk: 'BatchTopK',
  jumprelu: 'JumpReLU',
  relu: 'ReLU + L1',
};

/** Whether a field applies to an architecture (see {@link FieldSpec.archs}). */
export function fieldApplies(spec: FieldSpec, architecture: string): boolean {
  return !spec.archs || (spec.archs as readonly string[]).includes(architecture);
}

const TOPK_LIKE: readonly Architecture[] = ['topk', 'batchtopk'];
const SPARSITY: readonly Architecture[] = ['jumprelu', 'relu'];

/** Every field of the form, in order. */
export const FIELD_SPECS: readonly FieldSpec[] = [
  {
    field: 'architecture',
    label: 'architecture',
    help: 'TopK, BatchTopK (top k·B of the batch), JumpReLU (learned thresholds) or ReLU + L1.',
    kind: 'select',
    options: ARCHITECTURES,
    optionLabels: ARCHITECTURE_LABELS,
    advanced: false,
  },
  {
    field: 'dSae',
    label: 'd_sae',
    help: 'Latents. Blank: expansion factor × d_model.',
    kind: 'number',
    advanced: false,
    step: '1',
  },
  {
    field: 'expansionFactor',
    label: 'expansion factor',
    help: 'd_sae = factor × d_model when d_sae is blank.',
    kind: 'number',
    advanced: false,
    step: 'any',
  },
  {
    field: 'k',
    label: 'k',
    help: 'Latents kept per token (BatchTopK: on average, k·batch per batch).',
    kind: 'number',
    advanced: false,
    step: '1',
    archs: TOPK_LIKE,
  },
  {
    field: 'l0Coefficient',
    label: 'L0 coefficient λ',
    help: 'Weight of λ·L0 (per token); larger = sparser.',
    kind: 'number',
    advanced: false,
    step: 'any',
    archs: ['jumprelu'],
  },
  {
    field: 'l1Coefficient',
    label: 'L1 coefficient λ',
    help: 'Weight of λ·Σ z·‖W_dec‖ (per token); larger = sparser.',
    kind: 'number',
    advanced: false,
    step: 'any',
    archs: ['relu'],
  },
  {
    field: 'auxk',
    label: 'AuxK loss',
    help: 'Dead latents learn to reconstruct the residual (Gao et al.).',
    kind: 'checkbox',
    advanced: false,
    archs: TOPK_LIKE,
  },
  {
    field: 'batchSize',
    label: 'batch size',
    help: 'Tokens per step.',
    kind: 'number',
    advanced: false,
    step: '1',
  },
  {
    field: 'steps',
    label: 'steps',
    help: 'Optimiser steps; tokens = steps × batch.',
    kind: 'number',
    advanced: false,
    step: '1',
  },
  {
    field: 'lr',
    label: 'learning rate',
    help: 'Peak Adam learning rate.',
    kind: 'number',
    advanced: false,
    step: 'any',
  },
  {
    field: 'warmupSteps',
    label: 'warmup steps',
    help: 'Linear warmup at the start.',
    kind: 'number',
    advanced: true,
    step: '1',
  },
  {
    field: 'decay',
    label: 'decay',
    help: 'Shape of the decay to 0 at the end.',
    kind: 'select',
    options: ['cosine', 'linear', 'none'],
    advanced: true,
  },
  {
    field: 'decayFraction',
    label: 'decay fraction',
    help: 'Share of the steps over which the rate decays.',
    kind: 'number',
    advanced: true,
    step: 'any',
  },
  {
    field: 'beta1',
    label: 'Adam β1',
    help: 'First-moment decay.',
    kind: 'number',
    advanced: true,
    step: 'any',
  },
  {
    field: 'beta2',
    label: 'Adam β2',
    help: 'Second-moment decay.',
    kind: 'number',
    advanced: true,
    step: 'any',
  },
  { field: 'eps', label: 'Adam ε', help: 'Denominator offset.', kind: 'number', advanced: true, step: 'any' },
  {
    field: 'seed',
    label: 'seed',
    help: 'Same seed, config and data: same run.',
    kind: 'number',
    advanced: true,
    step: '1',
  },
  {
    field: 'deadWindowTokens',
    label: 'dead window (tokens)',
    help: 'A latent silent this long is dead (capped at the run).',
    kind: 'number',
    advanced: true,
    step: '1',
  },
  {
    field: 'evalInterval',
    label: 'eval interval (steps)',
    help: 'Steps between held-out evaluations.',
    kind: 'number',
    advanced: true,
    step: '1',
  },
  {
    field: 'evalTokens',
    label: 'eval tokens',
    help: 'Held-out tokens per periodic evaluation.',
    kind: 'number',
    advanced: true,
    step: '1',
  },
  {
    field: 'heldOutFraction',
    label: 'held-out fraction',
    help: 'Last part of the dataset, never trained on.',
    kind: 'number',
    advanced: true,
    step: 'any',
  },
  {
    field: 'normalize',
    label: 'normalise activations',
    help: 'Scale rows to mean squared norm d_model (folded into the export).',
    kind: 'checkbox',
    advanced: true,
  },
  {
    field: 'sparsityWarmupSteps',
    label: 'λ warmup (steps)',
    help: 'λ rises linearly from 0 over these steps.',
    kind: 'number',
    advanced: true,
    step: '1',
    archs: SPARSITY,
  },
  {
    field: 'bandwidth',
    label: 'bandwidth ε',
    help: 'Width of the rectangle kernel of the threshold gradient.',
    kind: 'number',
    advanced: true,
    step: 'any',
    archs: ['jumprelu'],
  },
  {
    field: 'thresholdInit',
    label: 'initial θ',
    help: 'Starting threshold of every latent.',
    kind: 'number',
    advanced: true,
    step: 'any',
    archs: ['jumprelu'],
  },
  {
    field: 'thresholdLrScale',
    label: 'θ learning-rate factor',
    help: 'log θ learns at lr × this.',
    kind: 'number',
    advanced: true,
    step: 'any',
    archs: ['jumprelu'],
  },
  {
    field: 'thresholdEmaRate',
    label: 'threshold rate γ',
    help: 'Running threshold θ ← (1 − γ)θ + γ·(smallest kept activation).',
    kind: 'number',
    advanced: true,
    step: 'any',
    archs: ['batchtopk'],
  },
  {
    field: 'kAux',
    label: 'k_aux',
    help: 'Dead latents per token in AuxK; 0 = d_model / 2.',
    kind: 'number',
    advanced: true,
    step: '1',
    archs: TOPK_LIKE,
  },
  {
    field: 'auxkAlpha',
    label: 'AuxK α',
    help: 'Weight of the AuxK loss relative to FVU.',
    kind: 'number',
    advanced: true,
    step: 'any',
    archs: TOPK_LIKE,
  },
  {
    field: 'auxkDeadWindowTokens',
    label: 'AuxK dead window (tokens)',
    help: 'AuxK counts a latent dead after this many tokens without firing.',
    kind: 'number',
    advanced: true,
    step: '1',
    archs: TOPK_LIKE,
  },
  {
    field: 'checkpointIntervalSec',
    label: 'checkpoint every (s)',
    help: 'Seconds of training between checkpoints.',
    kind: 'number',
    advanced: true,
    step: 'any',
  },
];

/** Form text of a config. */
export function configToForm(c: TrainConfig): FormValues {
  const out = {} as FormValues;
  for (const { field } of FIELD_SPECS) {
    const v = c[field];
    out[field] = v === null ? '' : String(v);
  }
  return out;
}

/** The form text of the defaults. */
export function defaultForm(): FormValues {
  return configToForm({ ...DEFAULT_CONFIG });
}

/** Text → number: '' and non-numeric text become NaN (validation then names the field). */
function num(s: string): number {
  return s.trim() === '' ? Number.NaN : Number(s);
}

/** The candidate config a form describes (not yet validated). */
export function formToCandidate(f: FormValues): Record<keyof TrainConfig, unknown> {
  const out: Record<string, unknown> = {};
  for (const { field, kind } of FIELD_SPECS) {
    const s = f[field];
    if (field === 'dSae') out[field] = s.trim() === '' ? null : num(s);
    else if (kind === 'checkbox') out[field] = s === 'true';
    else if (kind === 'select') out[field] = s;
    else out[field] = num(s);
  }
  return out as Record<keyof TrainConfig, unknown>;
}

/** Validate a form (against a dataset when one is chosen). */
export function validateForm(f: FormValues, data?: DatasetFacts): ConfigValidation {
  return validateConfig(formToCandidate(f), data);
}

export type { ConfigErrors };
