/**
 * The config form's model: every {@link TrainConfig} field as the text the user typed, the conversion to a
 * candidate config, and its validation (src/train/config.ts) into one message per field.
 */
import {
  ARCH_FIELDS,
  ARCH_SPECS,
  ARCHITECTURES,
  type ArchConfigField,
  archField,
  archsWithField,
} from '../sae/archs';
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

/**
 * The form's text per field ('' in dSae = use the expansion factor; checkboxes are 'true'/'false'; list fields are
 * numbers separated by commas).
 */
export type FormValues = Record<FormField, string>;

/** How each field is edited and labelled. `advanced` fields sit in a collapsed section. */
export interface FieldSpec {
  field: FormField;
  label: string;
  /** One sentence under the input. */
  help: string;
  /** 'list': a list of numbers typed comma-separated into one text input (a number array in the config). */
  kind: 'number' | 'select' | 'checkbox' | 'list';
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
export const ARCHITECTURE_LABELS: Readonly<Record<Architecture, string>> = Object.fromEntries(
  ARCH_SPECS.map((s) => [s.id, s.label]),
) as Record<Architecture, string>;

/** Whether a field applies to an architecture (see {@link FieldSpec.archs}). */
export function fieldApplies(spec: FieldSpec, architecture: string): boolean {
  return !spec.archs || (spec.archs as readonly string[]).includes(architecture);
}

/**
 * The form spec of an architecture config field: label, help, kind and section from the registry
 * (src/sae/archs/), shown for the architectures whose spec lists it.
 */
function archFieldSpec(field: ArchConfigField): FieldSpec {
  const f = archField(field);
  return {
    field,
    label: f.label,
    help: f.help,
    kind: f.kind,
    advanced: f.advanced,
    ...(f.step !== undefined ? { step: f.step } : {}),
    archs: archsWithField(field),
  };
}

const pickerHelp = ARCH_SPECS.map((s) => s.pickerHelp);

/** The fields the form lists in a chosen order (the registry's other fields follow them). */
const ORDERED_FIELD_SPECS: readonly FieldSpec[] = [
  {
    field: 'architecture',
    label: 'architecture',
    help: `${pickerHelp.slice(0, -1).join(', ')} or ${pickerHelp.at(-1)}.`,
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
  archFieldSpec('k'),
  archFieldSpec('l0Coefficient'),
  archFieldSpec('l1Coefficient'),
  archFieldSpec('auxk'),
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
  archFieldSpec('sparsityWarmupSteps'),
  archFieldSpec('bandwidth'),
  archFieldSpec('thresholdInit'),
  archFieldSpec('thresholdLrScale'),
  archFieldSpec('thresholdEmaRate'),
  archFieldSpec('kAux'),
  archFieldSpec('auxkAlpha'),
  archFieldSpec('auxkDeadWindowTokens'),
  {
    field: 'checkpointIntervalSec',
    label: 'checkpoint every (s)',
    help: 'Seconds of training between checkpoints.',
    kind: 'number',
    advanced: true,
    step: 'any',
  },
];

/**
 * Every field of the form, in order: {@link ORDERED_FIELD_SPECS}, then any architecture config field of the
 * registry not listed there (so a new architecture's fields appear without editing this file).
 */
export const FIELD_SPECS: readonly FieldSpec[] = [
  ...ORDERED_FIELD_SPECS,
  ...ARCH_FIELDS.filter((f) => !ORDERED_FIELD_SPECS.some((s) => s.field === f.field)).map((f) =>
    archFieldSpec(f.field),
  ),
];

/** Form text of a config. */
export function configToForm(c: TrainConfig): FormValues {
  const out = {} as FormValues;
  for (const { field } of FIELD_SPECS) {
    const v = c[field];
    out[field] = v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v);
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

/**
 * Text of a list field → numbers: split at commas (blank entries dropped); an entry that is not a number becomes
 * NaN, which validation then reports naming the field.
 */
export function parseListField(s: string): number[] {
  return s
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map(num);
}

/** The candidate config a form describes (not yet validated). */
export function formToCandidate(f: FormValues): Record<keyof TrainConfig, unknown> {
  const out: Record<string, unknown> = {};
  for (const { field, kind } of FIELD_SPECS) {
    const s = f[field];
    if (field === 'dSae') out[field] = s.trim() === '' ? null : num(s);
    else if (kind === 'checkbox') out[field] = s === 'true';
    else if (kind === 'select') out[field] = s;
    else if (kind === 'list') out[field] = parseListField(s);
    else out[field] = num(s);
  }
  return out as Record<keyof TrainConfig, unknown>;
}

/** Validate a form (against a dataset when one is chosen). */
export function validateForm(f: FormValues, data?: DatasetFacts): ConfigValidation {
  return validateConfig(formToCandidate(f), data);
}

export type { ConfigErrors };
