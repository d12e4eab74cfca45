import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  deadWindowSteps,
  evalIntervalSteps,
  resolveDSae,
  splitRows,
  validateConfig,
} from './config';

describe('validateConfig', () => {
  it('accepts the defaults and fills missing fields with them', () => {
    const r = validateConfig({ k: 8 });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config).toEqual({ ...DEFAULT_CONFIG, k: 8 });
  });

  it('reports one message per offending field', () => {
    const r = validateConfig({ k: 0, batchSize: 1.5, lr: -1, beta2: 1, decay: 'step', normalize: 'yes' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.k).toBe('k must be at least 1');
    expect(r.errors.batchSize).toBe('batch size must be a whole number');
    expect(r.errors.lr).toBe('learning rate must be positive');
    expect(r.errors.beta2).toBe('β2 must be in [0, 1)');
    expect(r.errors.decay).toBe('decay must be cosine, linear or none');
    expect(r.errors.normalize).toBe('normalize must be true or false');
    expect(Object.keys(r.errors).sort()).toEqual(['batchSize', 'beta2', 'decay', 'k', 'lr', 'normalize']);
  });

  it('rejects NaN and non-numbers with a message naming the field', () => {
    const r = validateConfig({ steps: Number.NaN, seed: '3' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.steps).toMatch(/^steps /);
      expect(r.errors.seed).toBe('seed must be a number');
    }
  });

  it('checks k against d_sae, given or resolved from the dataset width', () => {
    const a = validateConfig({ dSae: 16, k: 32 });
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.errors.k).toBe('k (32) must not exceed d_sae (16)');
    const b = validateConfig({ dSae: null, expansionFactor: 2, k: 200 }, { dModel: 64, nTokens: 10_000 });
    expect(b.ok).toBe(false);
    if (!b.ok) expect(b.errors.k).toBe('k (200) must not exceed d_sae (128)');
  });

  it('checks warmup + decay against the run length', () => {
    const r = validateConfig({ steps: 100, warmupSteps: 90, decay: 'cosine', decayFraction: 0.2 });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors.warmupSteps).toBe('warmup (90) plus decay (20) steps exceed the run (100 steps)');
    expect(validateConfig({ steps: 100, warmupSteps: 90, decay: 'none' }).ok).toBe(true);
  });

  it('checks the batch and the split against the dataset', () => {
    const r = validateConfig({ batchSize: 1000, k: 8 }, { dModel: 64, nTokens: 1000 });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors.batchSize).toBe('batch size (1000) exceeds the 950 training rows of the dataset');
    const tiny = validateConfig({ batchSize: 1, k: 8 }, { dModel: 64, nTokens: 1 });
    expect(tiny.ok).toBe(false);
    if (!tiny.ok) expect(tiny.errors.heldOutFraction).toMatch(/too few/);
  });
});

describe('config helpers', () => {
  it('resolves d_sae from the expansion factor unless given', () => {
    expect(resolveDSae({ dSae: null, expansionFactor: 8 }, 64)).toBe(512);
    expect(resolveDSae({ dSae: 100, expansionFactor: 8 }, 64)).toBe(100);
  });

  it('holds out the last ceil(5%) rows', () => {
    expect(splitRows(81_790, 0.05)).toEqual({ trainRows: 77_700, heldOutRows: 4090 });
    expect(splitRows(10, 0.05)).toEqual({ trainRows: 9, heldOutRows: 1 });
  });

  it('converts the dead window to steps, capped at 25% of the run', () => {
    // 25% of 300 steps: 75 steps (38,400 tokens), not the whole run.
    expect(deadWindowSteps({ deadWindowTokens: 10_000_000, steps: 300, batchSize: 512 })).toBe(75);
    expect(deadWindowSteps({ deadWindowTokens: 1000, steps: 300, batchSize: 512 })).toBe(2);
    expect(deadWindowSteps({ deadWindowTokens: 10_000_000, steps: 1e6, batchSize: 4096 })).toBe(2442);
  });

  it('evaluates at least 10 times per run', () => {
    expect(evalIntervalSteps({ evalInterval: 100, steps: 300 })).toBe(30);
    expect(evalIntervalSteps({ evalInterval: 100, steps: 1000 })).toBe(100);
    expect(evalIntervalSteps({ evalInterval: 100, steps: 5000 })).toBe(100);
    expect(evalIntervalSteps({ evalInterval: 100, steps: 7 })).toBe(1);
  });

  it('defaults to a constant learning rate (SAELens): no warmup, no decay', () => {
    expect(DEFAULT_CONFIG.warmupSteps).toBe(0);
    expect(DEFAULT_CONFIG.decay).toBe('none');
  });
});
