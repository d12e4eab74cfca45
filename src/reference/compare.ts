/**
 * Element-wise comparison of a GPU result against its CPU twin, llm.c style:
 * element i matches when |got[i] − want[i]| ≤ atol + rtol·|want[i]| (NaN never matches, ±Inf only itself).
 */

/** Tolerances for {@link compareArrays}. */
export interface Tolerance {
  /** Absolute tolerance. */
  atol: number;
  /** Relative tolerance, times |want|. */
  rtol: number;
}

/** Outcome of a comparison; cloneable, so it can cross postMessage. */
export interface CompareReport {
  ok: boolean;
  /** Number of elements compared. */
  length: number;
  /** Number of elements out of tolerance. */
  mismatches: number;
  /** The first element out of tolerance, or null. */
  firstMismatch: { index: number; got: number; want: number } | null;
  maxAbsErr: number;
  /** max |got − want| / max(|want|, atol) */
  maxRelErr: number;
  /** A one-line human summary naming the first mismatching index. */
  summary: string;
}

/**
 * Compare `got` (GPU) with `want` (CPU reference).
 * @param label used in the summary, e.g. "matmul 7×13×5 C".
 * A length mismatch is reported as a failure at index min(got.length, want.length).
 */
export function compareArrays(
  label: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: Tolerance,
): CompareReport {
  const n = Math.min(got.length, want.length);
  let mismatches = 0;
  let first: CompareReport['firstMismatch'] = null;
  let maxAbsErr = 0;
  let maxRelErr = 0;
  for (let i = 0; i < n; i++) {
    const g = got[i];
    const w = want[i];
    const err = Math.abs(g - w);
    const bad = !(err <= tol.atol + tol.rtol * Math.abs(w)) && !(g === w);
    if (Number.isFinite(err)) {
      maxAbsErr = Math.max(maxAbsErr, err);
      maxRelErr = Math.max(maxRelErr, err / Math.max(Math.abs(w), tol.atol));
    }
    if (bad) {
      mismatches++;
      if (!first) first = { index: i, got: g, want: w };
    }
  }
  if (got.length !== want.length) {
    mismatches++;
    first ??= { index: n, got: Number.NaN, want: Number.NaN };
  }
  const ok = mismatches === 0;
  const summary = ok
    ? `${label}: ${n} elements match (max abs err ${maxAbsErr.toExponential(2)})`
    : got.length !== want.length && first?.index === n
      ? `${label}: length ${got.length} ≠ expected ${want.length}`
      : `${label}: ${mismatches}/${n} mismatches; first at index ${first?.index}: got ${first?.got}, want ${first?.want} ` +
        `(atol ${tol.atol}, rtol ${tol.rtol})`;
  return { ok, length: n, mismatches, firstMismatch: first, maxAbsErr, maxRelErr, summary };
}
