/**
 * ReLU + L1 SAE (Bricken et al. 2023; seed 002): z = ReLU(pre), sparsity term λ·Σ_i z_i·‖W_dec,i‖. Dense path.
 * Exported as SAELens `standard`.
 */
import * as v from 'valibot';
import { realSchema, SPARSITY_WARMUP_FIELD } from './fields';
import { py } from './saelens-kw';
import type { ArchSpec } from './spec';

export const relu = {
  id: 'relu',
  label: 'ReLU + L1',
  pickerHelp: 'ReLU + L1',
  fields: [
    {
      // SAELens `l1_coefficient`, per-token units. Anthropic's 5 is for runs of ~10⁵ steps; on the 300-step demo
      // (lr 3e-3) it collapses the SAE (held-out L0 2.5, FVU 1.03), while 2 gives L0 29 / FVU 0.43 and 1 gives
      // L0 65 / FVU 0.20 (`npm run cpu-train`; src/sae/README.md).
      field: 'l1Coefficient',
      default: 1,
      schema: v.pipe(realSchema('L1 coefficient λ'), v.minValue(0, 'L1 coefficient λ must be ≥ 0')),
      label: 'L1 coefficient λ',
      help: 'Weight of λ·Σ z·‖W_dec‖ (per token); larger = sparser.',
      kind: 'number',
      advanced: false,
      step: 'any',
    },
    SPARSITY_WARMUP_FIELD,
  ],
  sparsityCoefficient: 'l1Coefficient',
  auxk: false,
  step: { path: 'dense', forward: 'relu', backward: 'relu', sparsity: 'relu', threshold: 'none' },
  charts: {
    l0Title: () => 'L0 (achieved)',
    l0Note: 'Not fixed by construction: set by λ.',
    sparsityTitle: 'Sparsity loss (λ·Σ z·‖W_dec‖)',
  },
  summary: { l0Label: () => 'L0' },
  saeLens: {
    architecture: 'standard',
    activationFn: 'relu',
    cfgK: false,
    labK: false,
    extraTensors: [],
    training: {
      cls: 'StandardTrainingSAEConfig',
      kwargs: (c) => [
        ['l1_coefficient', py(c.l1Coefficient), 'λ of λ·Σ z_i·‖W_dec,i‖ (per-token units, as in SAELens)'],
        ['lp_norm', '1.0'],
        ['l1_warm_up_steps', py(c.sparsityWarmupSteps)],
      ],
    },
  },
  imports: { saeLens: [{ architecture: 'standard', threshold: 'none' }], sparsify: false, gemmaScope: false },
  collapse: { fixedK: false, hasThreshold: false },
} as const satisfies ArchSpec<'relu'>;
