/**
 * JumpReLU SAE (Rajamanoharan et al. 2024; Gemma Scope §3.2, seed 004): z = pre·H(pre − θ), θ = exp(log θ) learned
 * per latent with a rectangle-kernel straight-through estimator of bandwidth ε, sparsity term λ·L0. Dense path.
 * Exported as SAELens `jumprelu` with `threshold`.
 */
import * as v from 'valibot';
import { realSchema, SPARSITY_WARMUP_FIELD } from './fields';
import { py } from './saelens-kw';
import type { ArchSpec } from './spec';

export const jumprelu = {
  id: 'jumprelu',
  label: 'JumpReLU',
  pickerHelp: 'JumpReLU (learned thresholds)',
  fields: [
    {
      // Per-token units of Gemma Scope / SAELens (`l0_coefficient`); on the demo, 300 steps, with the other
      // defaults: held-out L0 ≈ 30 (src/sae/README.md).
      field: 'l0Coefficient',
      default: 0.3,
      schema: v.pipe(realSchema('L0 coefficient λ'), v.minValue(0, 'L0 coefficient λ must be ≥ 0')),
      label: 'L0 coefficient λ',
      help: 'Weight of λ·L0 (per token); larger = sparser.',
      kind: 'number',
      advanced: false,
      step: 'any',
    },
    SPARSITY_WARMUP_FIELD,
    {
      // Gemma Scope uses 0.001 with batches of 4,096 over ~10⁵ steps; the window |pre − θ| < ε/2 then holds about
      // 0.15 of a 512-token batch per latent, too few for a 300-step run. 0.01: the demo reaches L0 ≈ 30.
      field: 'bandwidth',
      default: 0.01,
      schema: v.pipe(
        realSchema('bandwidth ε'),
        v.gtValue(0, 'bandwidth ε must be positive'),
        v.maxValue(10, 'bandwidth ε must be at most 10'),
      ),
      label: 'bandwidth ε',
      help: 'Width of the rectangle kernel of the threshold gradient.',
      kind: 'number',
      advanced: true,
      step: 'any',
    },
    {
      // Gemma Scope §3.2.
      field: 'thresholdInit',
      default: 0.001,
      schema: v.pipe(
        realSchema('initial θ'),
        v.gtValue(0, 'initial θ must be positive'),
        v.maxValue(1000, 'initial θ must be at most 1000'),
      ),
      label: 'initial θ',
      help: 'Starting threshold of every latent.',
      kind: 'number',
      advanced: true,
      step: 'any',
    },
    {
      // Adam moves log θ by about lr·factor per step, so θ can only travel e^(steps·lr·factor): Gemma Scope's
      // factor 1 needs ~10⁵ steps. 30 for short runs.
      field: 'thresholdLrScale',
      default: 30,
      schema: v.pipe(
        realSchema('θ learning-rate factor'),
        v.gtValue(0, 'θ learning-rate factor must be positive'),
        v.maxValue(10_000, 'θ learning-rate factor must be at most 10,000'),
      ),
      label: 'θ learning-rate factor',
      help: 'log θ learns at lr × this.',
      kind: 'number',
      advanced: true,
      step: 'any',
    },
  ],
  sparsityCoefficient: 'l0Coefficient',
  auxk: false,
  step: {
    path: 'dense',
    forward: 'threshold',
    backward: 'jumprelu',
    sparsity: 'jumprelu',
    threshold: 'learned',
  },
  charts: {
    l0Title: () => 'L0 (achieved)',
    l0Note: 'Not fixed by construction: set by λ.',
    sparsityTitle: 'Sparsity loss (λ·L0)',
  },
  summary: { l0Label: () => 'L0' },
  saeLens: {
    architecture: 'jumprelu',
    activationFn: 'relu',
    cfgK: false,
    labK: false,
    extraTensors: ['threshold'],
    training: {
      cls: 'JumpReLUTrainingSAEConfig',
      kwargs: (c) => [
        ['jumprelu_init_threshold', py(c.thresholdInit)],
        [
          'jumprelu_bandwidth',
          py(c.bandwidth),
          'browser default 0.01 suits ~300-step runs; Gemma Scope uses 0.001 over ~1e5 steps',
        ],
        ['jumprelu_sparsity_loss_mode', '"step"', 'λ·L0 with a straight-through estimator (Gemma Scope)'],
        ['l0_coefficient', py(c.l0Coefficient)],
        ['l0_warm_up_steps', py(c.sparsityWarmupSteps)],
      ],
    },
  },
  imports: {
    saeLens: [{ architecture: 'jumprelu', threshold: 'per-latent', tensor: 'threshold' }],
    sparsify: false,
    gemmaScope: true,
  },
  collapse: { fixedK: false, hasThreshold: true },
} as const satisfies ArchSpec<'jumprelu'>;
