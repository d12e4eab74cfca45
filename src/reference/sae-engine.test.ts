import { describe, expect, it } from 'vitest';
import { initSaeParams } from '../sae/init';
import { explainedVariance, fvu, stepMetrics } from '../sae/metrics';
import type { SaeShape, StepHyper } from '../sae/types';
import { Rng } from '../util/rng';
import { CpuSaeEngine, forwardCpu } from './sae-engine';
import { sumSquaredDeviation } from './stats';

const shape: SaeShape = { dModel: 12, dSae: 48, k: 4, batchSize: 64 };
const hyper: StepHyper = { lr: 3e-3, beta1: 0, beta2: 0.999, eps: 1e-8, deadWindowSteps: 5 };

/** Sparse synthetic data: each row a nonnegative mix of 3 of 24 fixed directions plus an offset. */
function synthetic(rows: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const dirs = new Rng(99).normalArray(24 * shape.dModel);
  const x = new Float32Array(rows * shape.dModel);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < 3; c++) {
      const i = rng.int(24);
      const a = rng.uniform(0.5, 2);
      for (let d = 0; d < shape.dModel; d++) x[r * shape.dModel + d] += a * dirs[i * shape.dModel + d];
    }
    for (let d = 0; d < shape.dModel; d++) x[r * shape.dModel + d] += 0.5;
  }
  return x;
}

describe('initSaeParams', () => {
  it('makes unit-norm W_dec rows, W_enc = W_decᵀ, b_enc = 0, b_dec = sample mean; seeded', () => {
    const sample = new Float32Array([1, 2, 3, 3, 4, 5]); // 2 rows × d_model 3
    const s = { dModel: 3, dSae: 5, k: 2, batchSize: 4 };
    const p = initSaeParams(s, 7, sample);
    for (let i = 0; i < 5; i++) {
      const row = p.wDec.subarray(i * 3, i * 3 + 3);
      expect(Math.abs(Math.hypot(...row) - 1)).toBeLessThan(1e-6);
      for (let d = 0; d < 3; d++) expect(p.wEnc[d * 5 + i]).toBe(row[d]);
    }
    expect([...p.bEnc]).toEqual([0, 0, 0, 0, 0]);
    expect([...p.bDec]).toEqual([2, 3, 4]);
    expect(initSaeParams(s, 7).wDec).toEqual(p.wDec);
    expect(initSaeParams(s, 8).wDec).not.toEqual(p.wDec);
    expect([...initSaeParams(s, 7).bDec]).toEqual([0, 0, 0]);
    expect(() => initSaeParams(s, 1, new Float32Array(4))).toThrow(/multiple of d_model/);
  });
});

describe('CpuSaeEngine', () => {
  it('lowers the loss over 60 steps, keeps L0 = k and W_dec rows unit norm', async () => {
    const data = synthetic(shape.batchSize * 60, 1);
    const engine = new CpuSaeEngine(shape, initSaeParams(shape, 1, data.subarray(0, 64 * shape.dModel)));
    const n = shape.batchSize * shape.dModel;
    const fvus: number[] = [];
    for (let i = 0; i < 60; i++) {
      const st = await engine.step(data.subarray(i * n, (i + 1) * n), hyper);
      const m = stepMetrics(st, shape.dModel, shape.dSae);
      fvus.push(m.fvu);
      expect(st.nTokens).toBe(shape.batchSize);
      expect(m.l0).toBeLessThanOrEqual(shape.k);
    }
    const first = fvus.slice(0, 5).reduce((a, b) => a + b) / 5;
    const last = fvus.slice(-5).reduce((a, b) => a + b) / 5;
    expect(last).toBeLessThan(first * 0.7);
    const st = await engine.getState();
    expect(st.t).toBe(60);
    for (let s = 0; s < shape.dSae; s++) {
      const row = st.params.wDec.subarray(s * shape.dModel, (s + 1) * shape.dModel);
      expect(Math.abs(Math.hypot(...row) - 1)).toBeLessThan(1e-5);
    }
  });

  it('step sums agree with a direct forward pass and the dead counters follow the window', async () => {
    const x = synthetic(shape.batchSize, 2);
    const init = initSaeParams(shape, 3);
    const engine = new CpuSaeEngine(shape, init);
    const fwd = forwardCpu(x, shape.batchSize, init, shape);
    const st = await engine.step(x, hyper);
    let sse = 0;
    for (let i = 0; i < x.length; i++) sse += (x[i] - fwd.xHat[i]) ** 2;
    expect(st.sse).toBeCloseTo(sse, 3);
    expect(st.sst).toBeCloseTo(sumSquaredDeviation(x, shape.batchSize, shape.dModel), 6);
    const fired = new Set<number>();
    let l0 = 0;
    fwd.values.forEach((v, i) => {
      if (v > 0) {
        fired.add(fwd.indices[i]);
        l0++;
      }
    });
    expect(st.l0Sum).toBe(l0);
    expect(st.firedInBatch).toBe(fired.size);
    // With window 1 every latent not fired this step is dead.
    const st2 = await engine.step(x, { ...hyper, deadWindowSteps: 1 });
    expect(st2.deadCount).toBe(shape.dSae - st2.firedInBatch);
    const state = await engine.getState();
    for (let s = 0; s < shape.dSae; s++) expect(state.stepsSinceFired[s] <= 2).toBe(true);
  });

  it('getState/setState round-trips, and a resumed engine continues identically', async () => {
    const data = synthetic(shape.batchSize * 3, 4);
    const n = shape.batchSize * shape.dModel;
    const a = new CpuSaeEngine(shape, initSaeParams(shape, 5));
    await a.step(data.subarray(0, n), hyper);
    const saved = await a.getState();
    const b = new CpuSaeEngine(shape, initSaeParams(shape, 6));
    await b.setState(saved);
    expect(await b.getState()).toEqual(saved);
    const sa = await a.step(data.subarray(n, 2 * n), hyper);
    const sb = await b.step(data.subarray(n, 2 * n), hyper);
    expect(sb).toEqual(sa);
    expect((await b.getState()).params).toEqual((await a.getState()).params);
    await expect(b.setState({ ...saved, stepsSinceFired: new Uint32Array(3) })).rejects.toThrow(
      /stepsSinceFired/,
    );
  });

  it('evaluates in chunks: sums match one forward pass over all rows', async () => {
    const rows = 150; // 2 full chunks of 64 and a tail of 22
    const x = synthetic(rows, 8);
    const init = initSaeParams(shape, 9, x);
    const engine = new CpuSaeEngine(shape, init);
    const ev = await engine.evaluate(x, rows);
    const fwd = forwardCpu(x, rows, init, shape);
    let sse = 0;
    let cos = 0;
    for (let r = 0; r < rows; r++) {
      let e = 0;
      let xx = 0;
      let hh = 0;
      let xh = 0;
      for (let d = 0; d < shape.dModel; d++) {
        const xv = x[r * shape.dModel + d];
        const h = fwd.xHat[r * shape.dModel + d];
        e += (xv - h) ** 2;
        xx += xv * xv;
        hh += h * h;
        xh += xv * h;
      }
      sse += e;
      cos += xh / Math.sqrt(xx * hh);
    }
    expect(ev.nTokens).toBe(rows);
    expect(ev.sse).toBeCloseTo(sse, 3);
    expect(ev.cosSum).toBeCloseTo(cos, 4);
    expect(ev.fireCounts.reduce((a, b) => a + b, 0)).toBe(ev.l0Sum);
    expect(explainedVariance(ev.sse, ev.sst)).toBeCloseTo(1 - fvu(sse, sumSquaredDeviation(x, rows, 12)), 5);
  });

  it('rejects a batch of the wrong size and a bad shape, naming the problem', async () => {
    const engine = new CpuSaeEngine(shape, initSaeParams(shape, 1));
    await expect(engine.step(new Float32Array(5), hyper)).rejects.toThrow(/batch has 5 floats/);
    expect(() => new CpuSaeEngine({ ...shape, k: 49 }, initSaeParams(shape, 1))).toThrow(
      /k=49 exceeds d_sae/,
    );
  });
});
