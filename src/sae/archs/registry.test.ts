import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { collapseChecks } from '../../train/collapse';
import { DEFAULT_CONFIG, validateConfig } from '../../train/config';
import { DEFAULT_ARCH } from '../arch';
import { ARCH_FIELD_DEFAULTS, ARCH_FIELDS, ARCH_SPECS, ARCHITECTURES, archSpec, archsWithField } from '.';

describe('architecture registry', () => {
  it('lists unique ids; an unknown id falls back to the first (the default)', () => {
    expect(new Set(ARCHITECTURES).size).toBe(ARCH_SPECS.length);
    expect(archSpec('no-such').id).toBe(ARCH_SPECS[0].id);
    expect(DEFAULT_CONFIG.architecture).toBe(ARCH_SPECS[0].id);
    for (const s of ARCH_SPECS) expect(archSpec(s.id)).toBe(s);
  });

  it('is the only source of the architecture field defaults: config and engine defaults equal them', () => {
    for (const f of ARCH_FIELDS) {
      expect(DEFAULT_CONFIG[f.field], f.field).toBe(f.default);
      // Every default passes its own validation.
      expect(v.safeParse(f.schema, f.default).success, f.field).toBe(true);
    }
    for (const key of [
      'thresholdEmaRate',
      'bandwidth',
      'thresholdInit',
      'thresholdLrScale',
      'kAux',
    ] as const) {
      expect(DEFAULT_ARCH[key]).toBe(ARCH_FIELD_DEFAULTS[key]);
    }
  });

  it('a field that several architectures share is one spec object (one default)', () => {
    for (const f of ARCH_FIELDS) {
      const owners = ARCH_SPECS.flatMap((s) => s.fields.filter((g) => g.field === f.field));
      for (const g of owners) expect(g, f.field).toBe(f);
      expect(archsWithField(f.field).length).toBe(owners.length);
    }
  });

  it('validates each architecture field through the registry schema (messages name the field)', () => {
    const r = validateConfig({ architecture: ARCHITECTURES[0], kAux: -1, auxkAlpha: 1000 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.kAux).toMatch(/k_aux/);
      expect(r.errors.auxkAlpha).toMatch(/AuxK α/);
    }
    expect(validateConfig({ architecture: 'nope' }).ok).toBe(false);
  });

  it('collapse capabilities: L0 below k/2 warns for the TopK-like specs, a non-finite mean θ for specs with θ', () => {
    const healthy = { l0: 20, deadFraction: 0.1, explainedVariance: 0.8, k: 8, meanThreshold: 0.5 };
    for (const s of ARCH_SPECS) {
      const codes = (m: Partial<typeof healthy>) =>
        collapseChecks({ ...healthy, ...m }, s.collapse).map((w) => w.code);
      expect(codes({}), s.id).toEqual([]);
      expect(codes({ l0: 3 }), s.id).toEqual(
        s.fields.some((f) => f.field === 'k') ? ['l0-below-half-k'] : [],
      );
      expect(codes({ meanThreshold: Number.NaN }), s.id).toEqual(
        s.step.threshold !== 'none' ? ['threshold-non-finite'] : [],
      );
    }
  });

  it('step paths are consistent: a threshold is exported exactly when the model has one', () => {
    for (const s of ARCH_SPECS) {
      expect((s.saeLens.extraTensors as readonly string[]).includes('threshold'), s.id).toBe(
        s.step.threshold !== 'none',
      );
      expect(s.sparsityCoefficient === null, s.id).toBe(s.step.sparsity === 'none');
    }
  });
});
