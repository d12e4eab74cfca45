import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { adamCoefficients, adamCpu } from './adam';
import { backwardCpu } from './backward';
import { decodeCpu } from './decode';
import { normalizeDecoderRowsCpu, projectDecoderGradCpu } from './decoder-constraint';
import { encoderCpu } from './encoder';
import { f32OrderKey, topkCpu } from './topk';

describe('f32OrderKey', () => {
  it('orders keys as the floats they encode, with +0 above −0', () => {
    const vals = [Number.NEGATIVE_INFINITY, -3.5, -1e-30, -0, 0, 1e-30, 2, 7.25, Number.POSITIVE_INFINITY];
    const keys = vals.map(f32OrderKey);
    for (let i = 1; i < keys.length; i++) expect(keys[i]).toBeGreaterThan(keys[i - 1]);
  });
});

describe('topkCpu', () => {
  it('keeps the k largest per row, ordered by value descending', () => {
    const pre = new Float32Array([0.5, -1, 3, 2, 0, /* row 1 */ -5, -4, -3, -2, -1]);
    const r = topkCpu(pre, 2, 5, 3);
    expect([...r.indices]).toEqual([2, 3, 0, 4, 3, 2]);
    expect([...r.values]).toEqual([3, 2, 0.5, -1, -2, -3]);
  });
  it('breaks ties by the lower index', () => {
    const pre = new Float32Array([1, 2, 2, 1, 2, 2]);
    const r = topkCpu(pre, 1, 6, 3);
    expect([...r.indices]).toEqual([1, 2, 4]);
    const r2 = topkCpu(new Float32Array(7).fill(0.25), 1, 7, 4);
    expect([...r2.indices]).toEqual([0, 1, 2, 3]);
  });
  it('rejects k outside [1, d_sae]', () => {
    expect(() => topkCpu(new Float32Array(4), 1, 4, 5)).toThrow(/k must be/);
    expect(() => topkCpu(new Float32Array(4), 1, 4, 0)).toThrow(/k must be/);
  });
});

describe('encoderCpu and decodeCpu', () => {
  it('compute (x − b_dec)·W_enc + b_enc and ReLU(values)·W_dec rows + b_dec', () => {
    // D = 2, S = 3
    const x = new Float32Array([1, 2]);
    const wEnc = new Float32Array([1, 0, -1, 0, 1, 2]); // [D, S]
    const bEnc = new Float32Array([0.5, 0, 0]);
    const bDec = new Float32Array([1, 1]);
    const pre = encoderCpu(x, wEnc, bEnc, bDec, { rows: 1, dModel: 2, dSae: 3 });
    expect([...pre]).toEqual([0.5, 1, 2]);
    const wDec = new Float32Array([1, 0, 0, 1, 1, 1]); // [S, D]
    const dec = decodeCpu(x, new Uint32Array([2, 1, 0]), new Float32Array([2, -1, 0.5]), wDec, bDec, {
      rows: 1,
      dModel: 2,
      dSae: 3,
      k: 3,
    });
    // x̂ = 2·[1,1] + 0 + 0.5·[1,0] + [1,1] = [3.5, 3]
    expect([...dec.xHat]).toEqual([3.5, 3]);
    expect([...dec.rowStats]).toEqual([2.5 ** 2 + 1, 5, 3.5 ** 2 + 9, 3.5 + 6]);
  });
  it('names the bad index', () => {
    const args = [new Float32Array(2), new Uint32Array([5]), new Float32Array([1])] as const;
    expect(() =>
      decodeCpu(...args, new Float32Array(6), new Float32Array(2), { rows: 1, dModel: 2, dSae: 3, k: 1 }),
    ).toThrow(/index 5/);
  });
});

/** Float64 loss of a TopK SAE with the TopK selection held fixed (the function the backward pass differentiates). */
function lossF64(
  x: Float32Array,
  p: { wEnc: Float64Array; wDec: Float64Array; bEnc: Float64Array; bDec: Float64Array },
  indices: Uint32Array,
  R: number,
  D: number,
  S: number,
  k: number,
): number {
  let loss = 0;
  for (let r = 0; r < R; r++) {
    const xhat = new Float64Array(D);
    for (let d = 0; d < D; d++) xhat[d] = p.bDec[d];
    for (let j = 0; j < k; j++) {
      const s = indices[r * k + j];
      let pre = p.bEnc[s];
      for (let d = 0; d < D; d++) pre += (x[r * D + d] - p.bDec[d]) * p.wEnc[d * S + s];
      const z = Math.max(pre, 0);
      for (let d = 0; d < D; d++) xhat[d] += z * p.wDec[s * D + d];
    }
    for (let d = 0; d < D; d++) loss += (xhat[d] - x[r * D + d]) ** 2;
  }
  return loss / (R * D);
}

describe('backwardCpu', () => {
  it('matches central finite differences of the float64 loss (R=6, D=5, S=9, k=3)', () => {
    const [R, D, S, k] = [6, 5, 9, 3];
    const rng = new Rng(11);
    const x = rng.normalArray(R * D);
    const params = {
      wEnc: rng.normalArray(D * S, 0.5),
      wDec: rng.normalArray(S * D, 0.5),
      bEnc: rng.normalArray(S, 0.3),
      bDec: rng.normalArray(D, 0.3),
    };
    params.bEnc[4] = -4; // a latent that may be picked with a negative value (ReLU-masked)
    const shape = { rows: R, dModel: D, dSae: S, k };
    const pre = encoderCpu(x, params.wEnc, params.bEnc, params.bDec, shape);
    const { indices, values } = topkCpu(pre, R, S, k);
    const { xHat } = decodeCpu(x, indices, values, params.wDec, params.bDec, shape);
    const { grads, fireCounts, gradPre } = backwardCpu(x, indices, values, xHat, params, shape);
    expect(fireCounts.reduce((a, b) => a + b, 0)).toBe(values.filter((v) => v > 0).length);
    expect(gradPre.length).toBe(R * k);

    const p64 = {
      wEnc: Float64Array.from(params.wEnc),
      wDec: Float64Array.from(params.wDec),
      bEnc: Float64Array.from(params.bEnc),
      bDec: Float64Array.from(params.bDec),
    };
    const h = 1e-5;
    let checked = 0;
    for (const key of ['wEnc', 'wDec', 'bEnc', 'bDec'] as const) {
      const arr = p64[key];
      for (let i = 0; i < arr.length; i++) {
        const old = arr[i];
        arr[i] = old + h;
        const up = lossF64(x, p64, indices, R, D, S, k);
        arr[i] = old - h;
        const down = lossF64(x, p64, indices, R, D, S, k);
        arr[i] = old;
        const fd = (up - down) / (2 * h);
        const got = grads[key][i];
        expect(Math.abs(got - fd), `${key}[${i}]: analytic ${got}, finite difference ${fd}`).toBeLessThan(
          1e-5 + 1e-3 * Math.abs(fd),
        );
        checked++;
      }
    }
    expect(checked).toBe(2 * D * S + S + D);
    // Sparsity: a latent that never fired has zero ∂W_dec row, ∂W_enc column and ∂b_enc.
    for (let s = 0; s < S; s++) {
      if (fireCounts[s] > 0) continue;
      expect(grads.bEnc[s]).toBe(0);
      for (let d = 0; d < D; d++) {
        expect(grads.wDec[s * D + d]).toBe(0);
        expect(grads.wEnc[d * S + s]).toBe(0);
      }
    }
  });
});

describe('decoder constraint', () => {
  it('projects the gradient orthogonal to each row and renormalises rows to unit norm', () => {
    const rng = new Rng(3);
    const [S, D] = [4, 7];
    const w = rng.normalArray(S * D);
    normalizeDecoderRowsCpu(w, S, D);
    for (let s = 0; s < S; s++) {
      let n = 0;
      for (let d = 0; d < D; d++) n += w[s * D + d] ** 2;
      expect(Math.abs(Math.sqrt(n) - 1)).toBeLessThan(1e-6);
    }
    const g = rng.normalArray(S * D);
    projectDecoderGradCpu(g, w, S, D);
    for (let s = 0; s < S; s++) {
      let dot = 0;
      for (let d = 0; d < D; d++) dot += g[s * D + d] * w[s * D + d];
      expect(Math.abs(dot)).toBeLessThan(1e-6);
    }
  });
});

describe('adamCpu', () => {
  const hyper = { lr: 0.01, beta1: 0, beta2: 0.999, eps: 1e-8 };
  it('with β1 = 0: m = g and the first step moves each parameter by lr·sign(g)', () => {
    const p = new Float32Array([1, 1, 1, 1]);
    const m = new Float32Array(4);
    const v = new Float32Array(4);
    const g = new Float32Array([0.5, -2, 0, 1e-3]);
    const c = adamCoefficients(hyper, 1);
    expect(c.bc1).toBe(1);
    adamCpu(p, m, v, g, c);
    expect([...m]).toEqual([...g]);
    expect(p[0]).toBeCloseTo(0.99, 6);
    expect(p[1]).toBeCloseTo(1.01, 6);
    expect(p[2]).toBe(1);
    expect(p[3]).toBeCloseTo(0.99, 5);
  });
  it('matches the float64 formula with bias correction over three steps (β1 = 0 and 0.9)', () => {
    for (const beta1 of [0, 0.9]) {
      const h = { ...hyper, beta1 };
      const rng = new Rng(5);
      const n = 16;
      const p = rng.normalArray(n);
      const m = new Float32Array(n);
      const v = new Float32Array(n);
      const p64 = Float64Array.from(p);
      const m64 = new Float64Array(n);
      const v64 = new Float64Array(n);
      for (let t = 1; t <= 3; t++) {
        const g = rng.normalArray(n);
        adamCpu(p, m, v, g, adamCoefficients(h, t));
        for (let i = 0; i < n; i++) {
          m64[i] = beta1 * m64[i] + (1 - beta1) * g[i];
          v64[i] = h.beta2 * v64[i] + (1 - h.beta2) * g[i] * g[i];
          const mHat = m64[i] / (1 - beta1 ** t);
          const vHat = v64[i] / (1 - h.beta2 ** t);
          p64[i] -= (h.lr * mHat) / (Math.sqrt(vHat) + h.eps);
        }
      }
      for (let i = 0; i < n; i++) {
        expect(Math.abs(p[i] - p64[i])).toBeLessThan(1e-6);
        expect(Math.abs(m[i] - m64[i])).toBeLessThan(1e-6);
        expect(Math.abs(v[i] - v64[i])).toBeLessThan(1e-7);
      }
    }
  });
  it('rejects bad hyper-parameters', () => {
    expect(() => adamCoefficients(hyper, 0)).toThrow(/t must be/);
    expect(() => adamCoefficients({ ...hyper, beta1: 1 }, 1)).toThrow(/beta1/);
  });
});
