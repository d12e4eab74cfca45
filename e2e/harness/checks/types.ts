/**
 * The browser test harness runs "checks": a GPU kernel against its CPU twin on seeded data, returning one
 * {@link CompareReport} per output tensor. Playwright specs call them in the page and inside a Worker and
 * assert on the reports.
 */
import type { Gpu } from '../../../src/gpu/device';
import type { CompareReport } from '../../../src/reference/compare';

/** Parameters a spec passes to a check (structured-cloneable). */
export type CheckParams = Record<string, number | boolean | string>;

/** A check: run GPU and CPU on the same seeded inputs and compare every output. */
export type Check = (gpu: Gpu, params: CheckParams) => Promise<CompareReport[]>;

/** Read a numeric parameter or throw a clear error. */
export function num(params: CheckParams, key: string, fallback?: number): number {
  const v = params[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`check parameter "${key}" must be a number`);
  return v;
}

/** Read a boolean parameter (default false). */
export function flag(params: CheckParams, key: string): boolean {
  return params[key] === true;
}
