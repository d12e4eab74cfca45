/**
 * Quick presets of the config form ("Quick demo ≈30 s", "Standard", "Long") and the run-time estimate that
 * suggests the quick one. Each preset lists the TrainConfig fields that differ from DEFAULT_CONFIG.
 */
import { DEFAULT_CONFIG, type TrainConfig } from '../train/config';
import { configToForm, type FormValues } from './config-form';

/** One preset of the form. */
export interface Preset {
  id: 'quick' | 'standard' | 'long';
  label: string;
  /** One sentence: what it is for. */
  help: string;
  config: Partial<TrainConfig>;
}

/** The presets, shortest first. */
export const PRESETS: readonly Preset[] = [
  {
    id: 'quick',
    label: 'Quick demo ≈30 s',
    help: 'd_sae 256, k 8, 80 steps of 128 tokens: finishes in about 30 s even on a CPU (SwiftShader) adapter.',
    config: {
      dSae: 256,
      k: 8,
      batchSize: 128,
      steps: 80,
      lr: 3e-3,
      warmupSteps: 10,
      decay: 'none',
      decayFraction: 0,
      evalInterval: 50,
      evalTokens: 1024,
    },
  },
  {
    id: 'standard',
    label: 'Standard',
    help: 'd_sae 512, k 8, 300 steps of 512 tokens (the demo table of src/sae/README.md): minutes on a CPU adapter.',
    config: { dSae: 512, k: 8, batchSize: 512, steps: 300, lr: 1e-3 },
  },
  {
    id: 'long',
    label: 'Long',
    help: 'The full defaults (d_sae 8 × d_model, k 32, 1,000 steps of 1,024 tokens): for a GPU.',
    config: {},
  },
];

/** The form text of a preset (DEFAULT_CONFIG plus the preset's fields; the architecture is kept). */
export function presetForm(p: Preset, architecture: TrainConfig['architecture']): FormValues {
  return configToForm({ ...DEFAULT_CONFIG, ...p.config, architecture });
}

/** Steps after which the running estimate is trusted (the probe). */
export const PROBE_STEPS = 3;
/** A run estimated longer than this (ms) gets the "this will take long" notice. */
export const LONG_RUN_MS = 5 * 60 * 1000;

/**
 * Estimated total training time (ms) from the first steps: wallMs / step × totalSteps.
 * @returns null before {@link PROBE_STEPS} steps.
 */
export function estimateRunMs(step: number, wallMs: number, totalSteps: number): number | null {
  if (step < PROBE_STEPS || wallMs <= 0) return null;
  return (wallMs / step) * totalSteps;
}
