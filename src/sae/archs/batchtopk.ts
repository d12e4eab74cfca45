/**
 * BatchTopK SAE (Bussmann et al. 2024; seed 001): z = ReLU(pre·[key(pre) ≥ T]) with T the (k·B)-th largest
 * pre-activation of the batch; a running threshold θ (EMA of the smallest kept activation, rate γ) replaces T at
 * evaluation and export, where it is a JumpReLU SAE (SAELens `jumprelu` with `threshold`). Optional AuxK.
 */
import * as v from 'valibot';
import { realSchema, TOPK_LIKE_FIELDS } from './fields';
import { auxkKw, py } from './saelens-kw';
import type { ArchSpec } from './spec';

export const batchtopk = {
  id: 'batchtopk',
  label: 'BatchTopK',
  pickerHelp: 'BatchTopK (top k·B of the batch)',
  fields: [
    ...TOPK_LIKE_FIELDS,
    {
      // SAELens uses 0.01 for long runs; on the 300-step demo θ then still remembers the early batches
      // (held-out L0 5.6 for k = 8), so the default is 0.05 (held-out L0 ≈ 7.6–7.9).
      field: 'thresholdEmaRate',
      default: 0.05,
      schema: v.pipe(
        realSchema('threshold rate γ'),
        v.gtValue(0, 'threshold rate γ must be in (0, 1]'),
        v.maxValue(1, 'threshold rate γ must be in (0, 1]'),
      ),
      label: 'threshold rate γ',
      help: 'Running threshold θ ← (1 − γ)θ + γ·(smallest kept activation).',
      kind: 'number',
      advanced: true,
      step: 'any',
    },
  ],
  sparsityCoefficient: null,
  auxk: true,
  step: {
    path: 'sparse-batchtopk',
    forward: 'threshold',
    backward: 'masked',
    sparsity: 'none',
    threshold: 'running',
  },
  charts: {
    l0Title: (k: number) => `L0 (k = ${k} on average)`,
    l0Note: 'BatchTopK keeps k·B per training batch; held-out uses its running threshold (JumpReLU).',
    sparsityTitle: null,
  },
  summary: { l0Label: (k: number) => `L0 (k = ${k} per token on average; held-out: threshold θ)` },
  saeLens: {
    architecture: 'jumprelu',
    activationFn: 'relu',
    cfgK: false,
    labK: true,
    extraTensors: ['threshold'],
    training: {
      cls: 'BatchTopKTrainingSAEConfig',
      kwargs: (c) => [
        ['k', py(c.k), 'mean latents per token; k·B per batch'],
        ['topk_threshold_lr', py(c.thresholdEmaRate), 'rate γ of the running threshold'],
        auxkKw(c),
      ],
    },
  },
  imports: {
    saeLens: [{ architecture: 'batchtopk', threshold: 'scalar', tensor: 'topk_threshold' }],
    sparsify: false,
    gemmaScope: false,
  },
  collapse: { fixedK: true, hasThreshold: true },
} as const satisfies ArchSpec<'batchtopk'>;
