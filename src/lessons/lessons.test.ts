import { describe, expect, it } from 'vitest';
import { DEMO } from '../data/demo';
import { validateSyntheticSpec } from '../data/synthetic';
import { validateConfig } from '../train/config';
import { findLesson, LESSONS, parseLessonHash } from './lessons';

describe('lessons (plain data)', () => {
  it('has the four lessons of issue 14, intro first, with unique URL ids', () => {
    expect(LESSONS.map((l) => l.id)).toEqual(['intro', 'tradeoff', 'superposition', 'dead-latents']);
    for (const l of LESSONS) expect(l.id).toMatch(/^[a-z0-9-]+$/);
    expect(findLesson('intro')?.steps.length).toBeGreaterThan(0);
    expect(findLesson('nope')).toBeUndefined();
  });

  it('every step has its texts, a question and a config valid for its data', () => {
    for (const l of LESSONS)
      for (const [i, s] of l.steps.entries()) {
        const where = `${l.id} step ${i + 1}`;
        expect(s.title.length, where).toBeGreaterThan(2);
        for (const t of [s.todo, s.watch, s.means, s.question]) expect(t.length, where).toBeGreaterThan(20);
        const d = s.run.data;
        const facts =
          d.kind === 'demo'
            ? { dModel: DEMO.shape[1], nTokens: DEMO.shape[0] }
            : { dModel: d.spec.dModel, nTokens: d.spec.nTokens };
        if (d.kind === 'synthetic') expect(validateSyntheticSpec(d.spec), where).toEqual([]);
        const v = validateConfig(s.run.config, facts);
        expect(v.ok ? {} : v.errors, where).toEqual({});
      }
  });

  it('the trade-off lesson runs k = 2, 8, 32 and the dead-latent lesson adds AuxK', () => {
    expect(findLesson('tradeoff')?.steps.map((s) => s.run.config.k)).toEqual([2, 8, 32]);
    expect(findLesson('dead-latents')?.steps.map((s) => s.run.config.auxk ?? false)).toEqual([false, true]);
  });

  it('parses #lesson=<id> and #lesson=<id>&step=<n>', () => {
    expect(parseLessonHash('#lesson=intro')).toEqual({ id: 'intro', step: 0 });
    expect(parseLessonHash('#lesson=tradeoff&step=3')).toEqual({ id: 'tradeoff', step: 2 });
    expect(parseLessonHash('#lesson=intro&step=0')).toEqual({ id: 'intro', step: 0 });
    expect(parseLessonHash('#run=abc')).toBeNull();
    expect(parseLessonHash('')).toBeNull();
  });
});
