/** The form's cross-field rules and its non-numeric handling (src/state/config-form.ts over src/train/config.ts). */
import { describe, expect, it } from 'vitest';
import { defaultForm, validateForm } from './config-form';

const DEMO = { dModel: 64, nTokens: 81_790 };

function errors(fields: Record<string, string>) {
  const r = validateForm({ ...defaultForm(), ...fields }, DEMO);
  return r.ok ? {} : r.errors;
}

describe('form rules', () => {
  it('non-numeric text is an error, never a silent fallback (d_sae letters do not mean "use the factor")', () => {
    expect(errors({ dSae: 'abc' })).toEqual({ dSae: 'd_sae must be a number' });
    expect(errors({ batchSize: '512x' })).toEqual({ batchSize: 'batch size must be a number' });
    expect(errors({ lr: 'fast' })).toEqual({ lr: 'learning rate must be a number' });
    expect(errors({ dSae: '' })).toEqual({}); // blank = expansion factor, documented
  });

  it('short runs are valid with the defaults (no warmup, no decay)', () => {
    expect(errors({ steps: '10' })).toEqual({});
    expect(errors({ steps: '1' })).toEqual({});
  });

  it('warmup + decay longer than the run is an error on warmup steps', () => {
    expect(errors({ steps: '10', warmupSteps: '20' })).toEqual({
      warmupSteps: 'warmup (20) plus decay (0) steps exceed the run (10 steps)',
    });
    expect(errors({ steps: '100', warmupSteps: '90', decay: 'cosine', decayFraction: '0.2' })).toEqual({
      warmupSteps: 'warmup (90) plus decay (20) steps exceed the run (100 steps)',
    });
  });

  it('k must not exceed d_sae, given or resolved from the expansion factor', () => {
    expect(errors({ dSae: '16', k: '32' })).toEqual({ k: 'k (32) must not exceed d_sae (16)' });
    expect(errors({ expansionFactor: '0.25', k: '32' })).toEqual({ k: 'k (32) must not exceed d_sae (16)' });
  });

  it('batch size must fit the training rows of the dataset', () => {
    expect(errors({ batchSize: '65536' })).toEqual({});
    const r = validateForm({ ...defaultForm(), batchSize: '2000' }, { dModel: 64, nTokens: 1000 });
    expect(r.ok ? {} : r.errors).toEqual({
      batchSize: 'batch size (2000) exceeds the 950 training rows of the dataset',
    });
  });
});
