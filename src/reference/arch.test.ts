import { describe, expect, it } from 'vitest';
import { resolveArch } from '../sae/arch';
import { initSaeParams } from '../sae/init';
import type { SaeArch, SaeParams, SaeShape } from '../sae/types';
import { Rng } from '../util/rng';
import { activationBackwardCpu, activationForwardCpu } from './activation';
import { adamCoefficients } from './adam';
import { auxkCpu } from './auxk';
import type { SaeGrads } from './backward';
import { batchTopkCpu, batchTopkThresholdUpdate, keyToF32, NO_KEY } from './batchtopk';
import { denseStepGradsCpu } from './sae-engine';
import { sumSquaredDeviation } from './stats';
import { thresholdAdamCpu } from './threshold';
import { f32OrderKey } from './topk';

type P64 = { wEnc: Float64Array; wDec: Float64Array; bEnc: Float64Array; bDec: Float64Array };
const KEYS = ['wEnc', 'wDec', 'bEnc', 'bDec'] as const;

function to64(p: SaeParams): P64 {
  return {
    wEnc: Float64Array.from(p.wEnc),
    wDec: Float64Array.from(p.wDec),
    bEnc: Float64Array.from(p.bEnc),
    bDec: Float64Array.from(p.bDec),
  };
}

function pre64(x: Float32Array, p: P64, r: number, s: number, D: number, S: number): number {
  let v = p.bEnc[s];
  for (let d = 0; d < D; d++) v += (x[r * D + d] - p.bDec[d]) * p.wEnc[d * S + s];
  return v;
}

/** Central differences of `loss` for every parameter element, compared with `grads`. Returns the count. */
function checkFiniteDifferences(p64: P64, grads: SaeGrads, loss: () => number, h = 1e-5): number {
  let checked = 0;
  for (const key of KEYS) {
    const arr = p64[key];
    let scale = 0;
    for (const g of grads[key]) scale = Math.max(scale, Math.abs(g));
    for (let i = 0; i < arr.length; i++) {
      const old = arr[i];
      arr[i] = old + h;
      const up = loss();
      arr[i] = old - h;
      const down = loss();
      arr[i] = old;
      const fd = (up - down) / (2 * h);
      const got = grads[key][i];
      expect(Math.abs(got - fd), `${key}[${i}]: analytic ${got}, finite difference ${fd}`).toBeLessThan(
        1e-4 * scale + 1e-3 * Math.abs(fd) + 1e-9,
      );
      checked++;
    }
  }
  return checked;
}

describe('batchTopkCpu', () => {
  it('keeps the k·R largest pre-activations of the whole batch, positive ones only', () => {
    // R = 2, S = 4, k = 2 → keep 4 of 8; row 0 holds three of the four largest.
    const pre = new Float32Array([5, 4, 3, -1, /* row 1 */ 0.5, 2, -7, 0.1]);
    const r = batchTopkCpu(pre, 2, 4, 2);
    expect([...r.z]).toEqual([5, 4, 3, 0, 0, 2, 0, 0]);
    expect(r.kept).toBe(4);
    expect(r.thresholdKey).toBe(f32OrderKey(2));
    expect(keyToF32(r.minKeptKey)).toBe(2);
  });
  it('keeps every tie at the threshold, and drops non-positive values even when selected', () => {
    const pre = new Float32Array([1, 1, 1, 0.5, -2, -3]);
    const r = batchTopkCpu(pre, 2, 3, 1); // keep 2: the 2nd largest is 1, three values equal it
    expect(r.kept).toBe(3);
    const neg = batchTopkCpu(new Float32Array([-1, -2, 0.25, -4]), 2, 2, 2); // keep 4, only one positive
    expect([...neg.z]).toEqual([0, 0, 0.25, 0]);
    expect(keyToF32(neg.minKeptKey)).toBe(0.25);
    const none = batchTopkCpu(new Float32Array([-1, -2]), 1, 2, 1);
    expect(none.kept).toBe(0);
    expect(none.minKeptKey).toBe(NO_KEY);
  });
  it('running threshold: first step takes the batch minimum, then an EMA; unchanged with nothing kept', () => {
    const k = f32OrderKey(0.5);
    expect(batchTopkThresholdUpdate(0, k, 0.1, 1)).toBe(0.5);
    expect(batchTopkThresholdUpdate(1, k, 0.1, 2)).toBeCloseTo(0.95, 6);
    expect(batchTopkThresholdUpdate(0.7, NO_KEY, 0.1, 5)).toBe(0.7);
  });
});

describe('activation (JumpReLU, ReLU)', () => {
  it('forward: ReLU and JumpReLU_θ', () => {
    const pre = new Float32Array([0.5, -1, 2, 0.25]);
    expect([...activationForwardCpu(pre, null, 'relu', 2, 2)]).toEqual([0.5, 0, 2, 0.25]);
    const th = new Float32Array([0.6, 0.5]);
    expect([...activationForwardCpu(pre, th, 'threshold', 2, 2)]).toEqual([0, 0, 2, 0]);
  });

  it('JumpReLU backward: ∂pre = H(pre − θ)·∂z, and the rectangle-kernel STE for log θ (hand example)', () => {
    // One latent (S = 1), D = 1, θ = 1, ε = 0.1: rows at pre = 0.96 and 1.04 fall in the window |pre − θ| < ε/2.
    const pre = new Float32Array([0.96, 1.04, 1.5, 0.2]);
    const th = new Float32Array([1]);
    const z = activationForwardCpu(pre, th, 'threshold', 4, 1);
    const gz = new Float32Array([0.3, -0.2, 0.7, 0.9]);
    const out = activationBackwardCpu(
      { pre, z, gz, threshold: th, wDec: new Float32Array([1]), gWdec: new Float32Array(1) },
      'jumprelu',
      { lambdaScaled: 0.01, bandwidth: 0.1 },
      { rows: 4, dSae: 1, dModel: 1 },
    );
    expect([...out.gPre].map((v) => Math.fround(v))).toEqual([0, -0.2, 0.7, 0].map(Math.fround));
    expect(out.fireCounts[0]).toBe(2);
    // ∂L/∂log θ = −(θ/ε)·Σ_{window} (θ·∂z + λ') = −(1/0.1)·((0.3 + 0.01) + (−0.2 + 0.01)) = −1.2
    expect(out.gLogThreshold[0]).toBeCloseTo(-1.2, 5);
    expect(out.gBenc[0]).toBeCloseTo(0.5, 6);
  });

  it('JumpReLU STE is a kernel-density estimate of the derivative of the expected loss in θ', () => {
    // Documented property (Rajamanoharan et al. 2024 §4): with pre spread with density ρ near θ, the STE
    // −(1/ε)·#{|pre − θ| < ε/2} estimates ∂/∂θ Σ_r H(pre_r − θ) = −R·ρ(θ). Here pre ~ U(0, 2), so ρ = 1/2 and
    // the derivative of the expected L0 at θ = 1 is −R/2; the STE and a wide finite difference of the empirical
    // L0 must both land near it. With ∂z = c (reconstruction term) the estimate is −θ·c·R·ρ.
    const R = 40000;
    const rng = new Rng(3);
    const pre = rng.uniformArray(R, 0, 2);
    const theta = 1;
    const th = new Float32Array([theta]);
    const z = activationForwardCpu(pre, th, 'threshold', R, 1);
    const run = (lambdaScaled: number, c: number) =>
      activationBackwardCpu(
        {
          pre,
          z,
          gz: new Float32Array(R).fill(c),
          threshold: th,
          wDec: new Float32Array([1]),
          gWdec: new Float32Array(1),
        },
        'jumprelu',
        { lambdaScaled, bandwidth: 0.01 },
        { rows: R, dSae: 1, dModel: 1 },
      ).gLogThreshold[0] / theta; // ∂/∂θ = (∂/∂log θ)/θ
    const l0 = (t: number) => pre.filter((p) => p > t).length;
    const h = 0.05;
    const fdL0 = (l0(theta + h) - l0(theta - h)) / (2 * h);
    const steL0 = run(1, 0);
    expect(Math.abs(steL0 - -R / 2)).toBeLessThan(0.1 * (R / 2));
    expect(Math.abs(fdL0 - -R / 2)).toBeLessThan(0.1 * (R / 2));
    const steRec = run(0, 0.5);
    expect(Math.abs(steRec - -theta * 0.5 * (R / 2))).toBeLessThan(0.1 * 0.5 * (R / 2));
  });

  it('log θ Adam: θ·exp(−Δ) equals Adam applied to log θ', () => {
    const theta = new Float32Array([0.001, 0.5, 2]);
    const logs = Array.from(theta, Math.log);
    const m = new Float32Array(3);
    const v = new Float32Array(3);
    const g = new Float32Array([-3, 0.2, 0]);
    const c = adamCoefficients({ lr: 0.05, beta1: 0, beta2: 0.999, eps: 1e-8 }, 1);
    thresholdAdamCpu(theta, m, v, g, c);
    // β1 = 0, t = 1: Δ = lr·sign(g) (g ≠ 0), so log θ moves by ∓0.05.
    expect(Math.log(theta[0])).toBeCloseTo(logs[0] + 0.05, 5);
    expect(Math.log(theta[1])).toBeCloseTo(logs[1] - 0.05, 5);
    expect(theta[2]).toBe(2);
  });
});

describe('ReLU + L1 dense backward', () => {
  it('matches central finite differences of the float64 loss, non-unit decoder norms (R=6, D=5, S=7)', () => {
    const shape: SaeShape = { dModel: 5, dSae: 7, k: 1, batchSize: 6, arch: { architecture: 'relu' } };
    const { dModel: D, dSae: S, batchSize: R } = shape;
    const rng = new Rng(21);
    const x = rng.normalArray(R * D);
    const params: SaeParams = {
      wEnc: rng.normalArray(D * S, 0.5),
      wDec: rng.normalArray(S * D, 0.7),
      bEnc: rng.normalArray(S, 0.3),
      bDec: rng.normalArray(D, 0.3),
    };
    const lambda = 0.8;
    const arch = resolveArch(shape);
    const { fwd, grads, act } = denseStepGradsCpu(x, params, shape, arch, lambda);
    const mask = Uint8Array.from(fwd.z, (v) => (v !== 0 ? 1 : 0));
    expect(act.fireCounts.reduce((a, b) => a + b, 0)).toBe(mask.reduce((a, b) => a + b, 0));
    const p64 = to64(params);
    // The loss with the ReLU mask of the base point held fixed (its gradient there is the analytic one).
    const loss = () => {
      let total = 0;
      const norms = new Float64Array(S);
      for (let s = 0; s < S; s++) {
        let n = 0;
        for (let d = 0; d < D; d++) n += p64.wDec[s * D + d] ** 2;
        norms[s] = Math.sqrt(n);
      }
      for (let r = 0; r < R; r++) {
        const xh = Float64Array.from(p64.bDec);
        for (let s = 0; s < S; s++) {
          if (!mask[r * S + s]) continue;
          const z = pre64(x, p64, r, s, D, S);
          for (let d = 0; d < D; d++) xh[d] += z * p64.wDec[s * D + d];
          total += lambda * z * norms[s];
        }
        for (let d = 0; d < D; d++) total += (xh[d] - x[r * D + d]) ** 2;
      }
      return total / (R * D);
    };
    expect(checkFiniteDifferences(p64, grads, loss)).toBe(2 * D * S + S + D);
  });
});

describe('AuxK', () => {
  const shape = { rows: 8, dModel: 6, dSae: 11 };
  const { rows: R, dModel: D, dSae: S } = shape;
  function setup(seed: number, deadFrom: number) {
    const rng = new Rng(seed);
    const x = rng.normalArray(R * D);
    const xHat = rng.normalArray(R * D, 0.5);
    const params = {
      wEnc: rng.normalArray(D * S, 0.6),
      wDec: rng.normalArray(S * D, 0.6),
      bEnc: rng.normalArray(S, 0.3),
      bDec: rng.normalArray(D, 0.3),
    };
    const p64 = to64(params);
    const pre = new Float32Array(R * S);
    for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) pre[r * S + s] = pre64(x, p64, r, s, D, S);
    const ssf = new Uint32Array(S);
    for (let s = deadFrom; s < S; s++) ssf[s] = 10;
    const zeros = (): SaeGrads => ({
      wEnc: new Float32Array(D * S),
      wDec: new Float32Array(S * D),
      bEnc: new Float32Array(S),
      bDec: new Float32Array(D),
    });
    return { x, xHat, params, p64, pre, ssf, zeros };
  }

  it('matches central finite differences of α·s·(SST_x/(R·D))·‖e − ê‖²/SST_e (e and picks fixed)', () => {
    const { x, xHat, params, p64, pre, ssf, zeros } = setup(5, 4); // 7 dead latents
    const grads = zeros();
    const h = { kAux: 3, alpha: 1 / 32, deadWindowSteps: 5 };
    const aux = auxkCpu({ x, xHat, pre, stepsSinceFired: ssf, params }, grads, h, shape);
    expect(aux.nDead).toBe(7);
    expect(aux.loss).toBeGreaterThan(0);
    for (let p = 0; p < R * h.kAux; p++) expect(aux.picks.indices[p]).toBeGreaterThanOrEqual(4);
    const e = Float64Array.from(x, (v, i) => v - xHat[i]);
    const sstE = sumSquaredDeviation(Float32Array.from(e), R, D);
    const sstX = sumSquaredDeviation(x, R, D);
    const sc = Math.min(7 / h.kAux, 1);
    expect(aux.loss).toBeCloseTo((h.alpha * sc * aux.sseAux) / sstE, 10);
    const loss = () => {
      let sse = 0;
      for (let r = 0; r < R; r++) {
        const eh = new Float64Array(D);
        for (let j = 0; j < h.kAux; j++) {
          const p = r * h.kAux + j;
          if (!(aux.picks.values[p] > 0)) continue;
          const s = aux.picks.indices[p];
          const z = pre64(x, p64, r, s, D, S);
          for (let d = 0; d < D; d++) eh[d] += z * p64.wDec[s * D + d];
        }
        for (let d = 0; d < D; d++) sse += (e[r * D + d] - eh[d]) ** 2;
      }
      return (h.alpha * sc * (sstX / (R * D)) * sse) / sstE;
    };
    expect(checkFiniteDifferences(p64, grads, loss)).toBe(2 * D * S + S + D);
    // Only dead latents get AuxK gradients.
    for (let s = 0; s < 4; s++) expect(grads.bEnc[s]).toBe(0);
  });

  it('is off (zero loss, no gradient) when no latent is dead, and scales by n_dead/k_aux when few are', () => {
    const { x, xHat, params, pre, ssf, zeros } = setup(6, S);
    const grads = zeros();
    const aux = auxkCpu(
      { x, xHat, pre, stepsSinceFired: ssf, params },
      grads,
      { kAux: 3, alpha: 1, deadWindowSteps: 5 },
      shape,
    );
    expect(aux.loss).toBe(0);
    expect(aux.nDead).toBe(0);
    for (const key of KEYS) expect(grads[key].every((v) => v === 0)).toBe(true);
    const one = setup(6, S - 1);
    const a1 = auxkCpu(
      { x: one.x, xHat: one.xHat, pre: one.pre, stepsSinceFired: one.ssf, params: one.params },
      one.zeros(),
      { kAux: 4, alpha: 1, deadWindowSteps: 5 },
      shape,
    );
    expect(a1.nDead).toBe(1);
    expect(a1.loss).toBeCloseTo((0.25 * a1.sseAux) / a1.sstE, 10);
  });
});

describe('initSaeParams with a threshold', () => {
  it('JumpReLU θ = thresholdInit, BatchTopK θ = 0, none for TopK/ReLU', () => {
    const base = { dModel: 4, dSae: 6, k: 2, batchSize: 8 };
    const arch = (a: Partial<SaeArch>) => initSaeParams({ ...base, arch: a }, 1);
    expect([...(arch({ architecture: 'jumprelu', thresholdInit: 0.25 }).threshold ?? [])]).toEqual(
      new Array(6).fill(0.25),
    );
    expect([...(arch({ architecture: 'batchtopk' }).threshold ?? [])]).toEqual(new Array(6).fill(0));
    expect(arch({ architecture: 'relu' }).threshold).toBeUndefined();
    expect(initSaeParams(base, 1).threshold).toBeUndefined();
  });
});
