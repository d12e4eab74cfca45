import { describe, expect, it } from 'vitest';
import type { TrainPoint } from '../train/history';
import { MetricBuffers } from './metric-buffers';

const point = (step: number): TrainPoint => ({
  step,
  tokens: step * 10,
  wallMs: step,
  lr: 1e-3,
  mse: 1 / step,
  fvu: 0.5,
  explainedVariance: 0.5,
  l0: 8,
  deadFraction: 0,
  firedFraction: 1,
  auxkLoss: 0,
  sparsityLoss: 0,
  tokensPerSec: 100,
});

describe('MetricBuffers', () => {
  it('notifies subscribers and bumps the version on every change, without copying data', () => {
    const b = new MetricBuffers();
    let calls = 0;
    const off = b.subscribe(() => calls++);
    b.pushTrain(point(1));
    b.pushTrain(point(2));
    b.pushEval({
      step: 2,
      mse: 1,
      fvu: 0.5,
      explainedVariance: 0.5,
      cosine: 0.9,
      relErr: 0.3,
      l0: 8,
      deadFraction: 0,
    });
    expect(calls).toBe(3);
    expect(b.version).toBe(3);
    expect([...b.train.column('mse')]).toEqual([1, 0.5]);
    off();
    b.pushTrain(point(3));
    expect(calls).toBe(3);
  });

  it('restores a resumed run and clears for a new one', () => {
    const src = new MetricBuffers();
    for (let i = 1; i <= 5; i++) src.pushTrain(point(i));
    const b = new MetricBuffers();
    b.restore(structuredClone(src.train.snapshot()), structuredClone(src.eval.snapshot()));
    expect([...b.train.column('step')]).toEqual([1, 2, 3, 4, 5]);
    expect(b.train.last?.step).toBe(5);
    b.clear();
    expect(b.train.length).toBe(0);
    expect(b.eval.length).toBe(0);
  });
});
