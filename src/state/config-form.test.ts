import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../train/config';
import {
  configToForm,
  defaultForm,
  FIELD_SPECS,
  fieldApplies,
  formToCandidate,
  validateForm,
} from './config-form';

describe('config form', () => {
  it('covers every config field, and round-trips the defaults', () => {
    expect(FIELD_SPECS.map((s) => s.field).sort()).toEqual(Object.keys(DEFAULT_CONFIG).sort());
    const r = validateForm(defaultForm());
    expect(r.ok && r.config).toEqual(DEFAULT_CONFIG);
  });

  it('carries the architecture and its fields; shows each field for its architectures only', () => {
    const f = { ...defaultForm(), architecture: 'jumprelu', l0Coefficient: '0.4', auxk: 'true' };
    const r = validateForm(f);
    expect(r.ok && r.config.architecture).toBe('jumprelu');
    expect(r.ok && r.config.l0Coefficient).toBe(0.4);
    const shown = (a: string) => FIELD_SPECS.filter((s) => fieldApplies(s, a)).map((s) => s.field);
    expect(shown('jumprelu')).toEqual(
      expect.arrayContaining(['l0Coefficient', 'bandwidth', 'thresholdInit']),
    );
    expect(shown('jumprelu')).not.toContain('k');
    expect(shown('topk')).toEqual(expect.arrayContaining(['k', 'auxk', 'kAux']));
    expect(shown('topk')).not.toContain('l1Coefficient');
    expect(shown('relu')).toContain('l1Coefficient');
    expect(shown('batchtopk')).toContain('thresholdEmaRate');
    const bad = validateForm({ ...defaultForm(), architecture: 'gated' });
    expect(!bad.ok && bad.errors.architecture).toMatch(/architecture must be one of topk, batchtopk/);
  });

  it('maps a blank d_sae to null and text to numbers and booleans', () => {
    const f = { ...defaultForm(), dSae: ' ', k: '8', normalize: 'false', decay: 'linear' };
    const c = formToCandidate(f);
    expect(c.dSae).toBeNull();
    expect(c.k).toBe(8);
    expect(c.normalize).toBe(false);
    expect(c.decay).toBe('linear');
    expect(configToForm({ ...DEFAULT_CONFIG, dSae: 512 }).dSae).toBe('512');
  });

  it('reports empty or non-numeric text against its field', () => {
    const r = validateForm({ ...defaultForm(), k: '', lr: 'fast' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.k).toBe('k must be a number');
      expect(r.errors.lr).toBe('learning rate must be a number');
    }
  });

  it('validates against the chosen dataset', () => {
    const r = validateForm({ ...defaultForm(), batchSize: '5000' }, { dModel: 64, nTokens: 5000 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.batchSize).toMatch(/exceeds the 4750 training rows/);
  });
});
