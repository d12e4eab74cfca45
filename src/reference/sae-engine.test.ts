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

describe('CpuSaeEngine, other architectures', () => {
  const steps = 60;
  const n = shape.batchSize * shape.dModel;
  const data = synthetic(shape.batchSize * steps, 11);
  const batch = (i: number) => data.subarray(i * n, (i + 1) * n);
  async function train(arch: SaeShape['arch'], h: Partial<StepHyper> = {}) {
    const s: SaeShape = { ...shape, arch };
    const engine = new CpuSaeEngine(s, initSaeParams(s, 1, batch(0)));
    const out: { fvu: number; l0: number; stats: Awaited<ReturnType<CpuSaeEngine['step']>> }[] = [];
    for (let i = 0; i < steps; i++) {
      const st = await engine.step(batch(i), { ...hyper, ...h });
      const m = stepMetrics(st, shape.dModel, shape.dSae);
      expect(
        Number.isFinite(st.sse) && Number.isFinite(st.auxkLoss) && Number.isFinite(st.sparsityLoss),
      ).toBe(true);
      out.push({ fvu: m.fvu, l0: m.l0, stats: st });
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    return {
      engine,
      out,
      firstFvu: mean(out.slice(0, 5).map((o) => o.fvu)),
      lastFvu: mean(out.slice(-5).map((o) => o.fvu)),
      firstL0: mean(out.slice(0, 5).map((o) => o.l0)),
      lastL0: mean(out.slice(-5).map((o) => o.l0)),
    };
  }

  it('BatchTopK keeps k·B latents per batch, learns, and tracks a positive running threshold', async () => {
    const r = await train({ architecture: 'batchtopk', thresholdEmaRate: 0.1 });
    for (const o of r.out) expect(o.stats.l0Sum).toBeLessThanOrEqual(shape.k * shape.batchSize);
    expect(r.lastL0).toBeGreaterThan(shape.k * 0.9);
    expect(r.lastFvu).toBeLessThan(r.firstFvu * 0.7);
    const st = await r.engine.getState();
    const theta = st.params.threshold as Float32Array;
    expect(theta[0]).toBeGreaterThan(0);
    expect(theta.every((t) => t === theta[0])).toBe(true);
    // At evaluation it is a JumpReLU with that threshold: the held-out L0 lands near k.
    const ev = await r.engine.evaluate(synthetic(256, 12), 256);
    const l0 = ev.l0Sum / ev.nTokens;
    expect(l0).toBeGreaterThan(shape.k * 0.5);
    expect(l0).toBeLessThan(shape.k * 2);
  });

  it('JumpReLU: λ·L0 lowers L0, θ grows, sparsity loss = λ·L0', async () => {
    // Adam moves log θ by about lr·thresholdLrScale per step: 60 steps need a large factor to matter.
    const lambda = 1;
    const jump = {
      architecture: 'jumprelu',
      thresholdInit: 0.3,
      bandwidth: 0.05,
      thresholdLrScale: 30,
    } as const;
    const r = await train(jump, { sparsityCoeff: lambda });
    expect(r.lastL0).toBeLessThan(r.firstL0 * 0.7);
    const o = r.out[10].stats;
    expect(o.sparsityLoss).toBeCloseTo((lambda * o.l0Sum) / o.nTokens, 4);
    const theta = (await r.engine.getState()).params.threshold as Float32Array;
    expect(theta.reduce((a, b) => a + b) / theta.length).toBeGreaterThan(0.3 * 1.5);
    const none = await train(jump);
    expect(none.lastL0).toBeGreaterThan(r.lastL0);
    expect(none.out[10].stats.sparsityLoss).toBe(0);
  });

  it('ReLU + L1: finite loss, decreasing L0 under λ, sparsity loss reported', async () => {
    const r = await train({ architecture: 'relu' }, { sparsityCoeff: 0.5 });
    expect(r.lastL0).toBeLessThan(r.firstL0);
    expect(r.lastFvu).toBeLessThan(r.firstFvu);
    expect(r.out[5].stats.sparsityLoss).toBeGreaterThan(0);
  });

  it('AuxK: zero while nothing is dead, positive once latents die, and fewer dead latents than without', async () => {
    const wide: SaeShape['arch'] = { architecture: 'topk', auxk: true, kAux: 6 };
    const h = { deadWindowSteps: 3, auxkDeadWindowSteps: 3 };
    const on = await train(wide, h);
    expect(on.out[0].stats.auxkLoss).toBe(0);
    expect(on.out.some((o) => o.stats.auxkLoss > 0)).toBe(true);
    const off = await train({ architecture: 'topk' }, h);
    const dead = (r: typeof on) => r.out.slice(-10).reduce((a, o) => a + o.stats.deadCount, 0);
    expect(off.out.every((o) => o.stats.auxkLoss === 0)).toBe(true);
    expect(dead(on)).toBeLessThanOrEqual(dead(off));
  });

  it('state with a threshold round-trips and resumes identically (JumpReLU)', async () => {
    const s: SaeShape = { ...shape, arch: { architecture: 'jumprelu', bandwidth: 0.05 } };
    const h = { ...hyper, sparsityCoeff: 0.01 };
    const a = new CpuSaeEngine(s, initSaeParams(s, 5));
    await a.step(batch(0), h);
    const saved = await a.getState();
    expect(saved.adamM.threshold?.length).toBe(shape.dSae);
    const b = new CpuSaeEngine(s, initSaeParams(s, 6));
    await b.setState(saved);
    expect(await b.getState()).toEqual(saved);
    expect(await b.step(batch(1), h)).toEqual(await a.step(batch(1), h));
    await expect(b.setState({ ...saved, params: { ...saved.params, threshold: undefined } })).rejects.toThrow(
      /threshold/,
    );
  });
});
