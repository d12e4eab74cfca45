/** Helpers for the SAE kernel checks: seeded test data, tolerances scaled to a tensor, TopK set comparison. */
import { type CompareReport, compareArrays, type Tolerance } from '../../../src/reference/compare';
import type { TopKResult } from '../../../src/reference/topk';
import type { Rng } from '../../../src/util/rng';

/** A report from a plain condition (for properties that are not element-wise comparisons). */
export function conditionReport(label: string, ok: boolean, detail: string): CompareReport {
  return {
    ok,
    length: 1,
    mismatches: ok ? 0 : 1,
    firstMismatch: ok ? null : { index: 0, got: Number.NaN, want: Number.NaN },
    maxAbsErr: 0,
    maxRelErr: 0,
    summary: `${label}: ${ok ? 'ok' : 'FAILED'} — ${detail}`,
  };
}

/** max |a[i]| (0 for an empty array). */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Tolerance relative to a tensor's scale: atol = relScale·max|want|, rtol as given. */
export function scaledTol(want: ArrayLike<number>, relScale: number, rtol: number): Tolerance {
  return { atol: Math.max(relScale * maxAbs(want), 1e-30), rtol };
}

/**
 * Compare two TopK outputs as sets of (index, value) per row (order ignored). A row mismatches when an index is
 * missing or its value differs; the report's first mismatch is the flat position row·k + j of the first bad pick.
 */
export function compareTopkSets(
  label: string,
  got: TopKResult,
  want: TopKResult,
  rows: number,
  k: number,
): CompareReport {
  let mismatches = 0;
  let first: CompareReport['firstMismatch'] = null;
  for (let r = 0; r < rows; r++) {
    const g = new Map<number, number>();
    for (let j = 0; j < k; j++) g.set(got.indices[r * k + j], got.values[r * k + j]);
    for (let j = 0; j < k; j++) {
      const i = want.indices[r * k + j];
      const v = want.values[r * k + j];
      const gv = g.get(i);
      if (gv === undefined || !(gv === v || (Number.isNaN(gv) && Number.isNaN(v)))) {
        mismatches++;
        first ??= { index: r * k + j, got: gv ?? Number.NaN, want: v };
      }
    }
    if (g.size !== k) {
      mismatches++;
      first ??= { index: r * k, got: g.size, want: k };
    }
  }
  const ok = mismatches === 0;
  return {
    ok,
    length: rows * k,
    mismatches,
    firstMismatch: first,
    maxAbsErr: 0,
    maxRelErr: 0,
    summary: ok
      ? `${label}: ${rows} rows × ${k} (index, value) sets match`
      : `${label}: ${mismatches} bad picks; first at flat index ${first?.index} (row ${Math.floor((first?.index ?? 0) / k)}): ` +
        `got value ${first?.got}, want ${first?.want} for latent ${want.indices[first?.index ?? 0]}`,
  };
}

/** Exact comparison (integers, bit-identical floats). */
export function compareExact(label: string, got: ArrayLike<number>, want: ArrayLike<number>): CompareReport {
  return compareArrays(label, got, want, { atol: 0, rtol: 0 });
}

/** Random activations with a nonzero mean and unequal scales per column (closer to real residuals than N(0,1)). */
export function activations(rng: Rng, rows: number, dModel: number): Float32Array {
  const scale = Float32Array.from({ length: dModel }, () => 0.3 + rng.next() * 1.5);
  const mean = Float32Array.from({ length: dModel }, () => rng.normal() * 0.5);
  const x = new Float32Array(rows * dModel);
  for (let r = 0; r < rows; r++)
    for (let d = 0; d < dModel; d++) x[r * dModel + d] = mean[d] + scale[d] * rng.normal();
  return x;
}
