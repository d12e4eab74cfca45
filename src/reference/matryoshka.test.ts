import { describe, expect, it } from 'vitest';
import { MATRYOSHKA_WIDTHS, matryoshkaPrefixEnds } from '../sae/archs/matryoshka';
import { Rng } from '../util/rng';
import {
  matryoshkaGradBdecCpu,
  matryoshkaGradWdecCpu,
  matryoshkaGradZCpu,
  matryoshkaGroupOf,
  matryoshkaResidualCpu,
} from './matryoshka';

/** The Matryoshka decoder loss Σ_m (1/(R·D)) Σ (x̂_m − x)² in float64, for finite differences. */
function lossF64(
  x: Float32Array,
  z: Float64Array,
  wDec: Float64Array,
  bDec: Float64Array,
  ends: Uint32Array,
  R: number,
  D: number,
  S: number,
): number {
  let loss = 0;
  for (const e of ends) {
    for (let r = 0; r < R; r++) {
      for (let d = 0; d < D; d++) {
        let h = bDec[d];
        for (let s = 0; s < e; s++) h += z[r * S + s] * wDec[s * D + d];
        loss += (h - x[r * D + d]) ** 2;
      }
    }
  }
  return loss / (R * D);
}

describe('Matryoshka prefixes', () => {
  it('default widths 1/16, 1/8, 1/4, 1/2, 1 give prefix ends d_sae/16, /8, /4, /2, d_sae', () => {
    expect([...matryoshkaPrefixEnds(1024, MATRYOSHKA_WIDTHS)]).toEqual([64, 128, 256, 512, 1024]);
    // Odd d_sae: rounded, strictly increasing, last = d_sae; empty groups merge at a tiny d_sae.
    expect([...matryoshkaPrefixEnds(203, MATRYOSHKA_WIDTHS)]).toEqual([13, 25, 51, 102, 203]);
    expect([...matryoshkaPrefixEnds(5, MATRYOSHKA_WIDTHS)]).toEqual([1, 3, 5]);
    expect([...matryoshkaGroupOf(Uint32Array.from([2, 5]), 5)]).toEqual([0, 0, 1, 1, 1]);
  });

  it('rejects bad width lists with a message naming the problem', () => {
    expect(() => matryoshkaPrefixEnds(64, [0.5, 0.4])).toThrow(/strictly increasing/);
    expect(() => matryoshkaPrefixEnds(64, [0.25, 0.5])).toThrow(/last must be 1/);
    expect(() => matryoshkaPrefixEnds(64, [])).toThrow(/1 to 8 values/);
    expect(() => matryoshkaPrefixEnds(64, [-0.5, 1])).toThrow(/\(0, 1\]/);
    expect(() =>
      matryoshkaResidualCpu(
        new Float32Array(4),
        new Float32Array(6),
        new Float32Array(6),
        new Float32Array(2),
        Uint32Array.from([2]),
        1,
        { rows: 2, dModel: 2, dSae: 3 },
      ),
    ).toThrow(/last prefix end/);
  });
});

describe('Matryoshka CPU twin', () => {
  const R = 5;
  const D = 7;
  const S = 11;
  const ends = Uint32Array.from([2, 5, 11]);
  const rng = new Rng(7);
  const x = rng.normalArray(R * D);
  const z = rng.normalArray(R * S).map((v, i) => (i % 3 === 0 ? 0 : Math.abs(v)));
  const wDec = rng.normalArray(S * D, 0.5);
  const bDec = rng.normalArray(D, 0.2);
  const wEnc = rng.normalArray(D * S, 0.5);
  const gBenc = rng.normalArray(S, 0.1);
  const shape = { rows: R, dModel: D, dSae: S };
  const scale = 2 / (R * D);
  const { xHat, groupGrads } = matryoshkaResidualCpu(x, z, wDec, bDec, ends, scale, shape);
  const f64 = (a: Float32Array) => Float64Array.from(a);

  it('x̂ is the full dictionary reconstruction z·W_dec + b_dec', () => {
    for (let r = 0; r < R; r++) {
      for (let d = 0; d < D; d++) {
        let h = bDec[d];
        for (let s = 0; s < S; s++) h += z[r * S + s] * wDec[s * D + d];
        expect(xHat[r * D + d]).toBeCloseTo(h, 5);
      }
    }
  });

  it('∂z and ∂W_dec equal finite differences of the summed prefix losses', () => {
    const gz = matryoshkaGradZCpu(groupGrads, z, wDec, ends, shape);
    const gW = matryoshkaGradWdecCpu(groupGrads, z, ends, shape);
    const h = 1e-5;
    const zz = f64(z);
    const ww = f64(wDec);
    const bb = f64(bDec);
    for (const i of [1, 4, 13, 29, R * S - 1]) {
      if (z[i] === 0) {
        expect(gz[i]).toBe(0);
        continue;
      }
      const up = zz.slice();
      up[i] += h;
      const dn = zz.slice();
      dn[i] -= h;
      const fd = (lossF64(x, up, ww, bb, ends, R, D, S) - lossF64(x, dn, ww, bb, ends, R, D, S)) / (2 * h);
      expect(gz[i]).toBeCloseTo(fd, 4);
    }
    for (const i of [0, 9, 20, 40, S * D - 1]) {
      const up = ww.slice();
      up[i] += h;
      const dn = ww.slice();
      dn[i] -= h;
      const fd = (lossF64(x, zz, up, bb, ends, R, D, S) - lossF64(x, zz, dn, bb, ends, R, D, S)) / (2 * h);
      expect(gW[i]).toBeCloseTo(fd, 4);
    }
  });

  it('∂b_dec = the decoder bias gradient of every prefix − W_enc·∂b_enc', () => {
    const got = matryoshkaGradBdecCpu(groupGrads, wEnc, gBenc, shape);
    const h = 1e-5;
    const zz = f64(z);
    const ww = f64(wDec);
    for (let d = 0; d < D; d++) {
      const up = f64(bDec);
      up[d] += h;
      const dn = f64(bDec);
      dn[d] -= h;
      const fd = (lossF64(x, zz, ww, up, ends, R, D, S) - lossF64(x, zz, ww, dn, ends, R, D, S)) / (2 * h);
      let enc = 0;
      for (let s = 0; s < S; s++) enc += wEnc[d * S + s] * gBenc[s];
      expect(got[d]).toBeCloseTo(fd - enc, 4);
    }
  });

  it('one prefix is the plain reconstruction loss: G = 2(x̂ − x)/(R·D)', () => {
    const one = matryoshkaResidualCpu(x, z, wDec, bDec, Uint32Array.from([S]), scale, shape);
    for (let i = 0; i < R * D; i++) expect(one.groupGrads[i]).toBeCloseTo(scale * (one.xHat[i] - x[i]), 6);
  });
});
