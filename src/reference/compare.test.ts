import { describe, expect, it } from 'vitest';
import { compareArrays } from './compare';

describe('compareArrays', () => {
  const tol = { atol: 1e-6, rtol: 1e-5 };
  it('accepts equal arrays and values inside atol + rtol·|want|', () => {
    const r = compareArrays('t', [1, 2, 100], [1, 2 + 1e-6, 100 + 5e-4], tol);
    expect(r.ok).toBe(true);
    expect(r.firstMismatch).toBeNull();
  });
  it('names the first mismatching index', () => {
    const r = compareArrays('t', [0, 1, 5, 7], [0, 1, 5.1, 8], tol);
    expect(r.ok).toBe(false);
    expect(r.mismatches).toBe(2);
    expect(r.firstMismatch).toEqual({ index: 2, got: 5, want: 5.1 });
    expect(r.summary).toContain('first at index 2');
  });
  it('never accepts NaN, and fails on a length mismatch', () => {
    expect(compareArrays('t', [Number.NaN], [Number.NaN], tol).ok).toBe(false);
    expect(compareArrays('t', [1], [1, 2], tol).ok).toBe(false);
  });
});
