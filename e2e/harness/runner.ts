/**
 * Runs harness checks and benchmarks against one lazily created {@link Gpu}. The same code runs in the page
 * (main.ts) and in the dedicated worker (worker.ts), so a spec can compare both contexts.
 */
import { type AdapterSummary, Gpu } from '../../src/gpu/device';
import type { CompareReport } from '../../src/reference/compare';
import { type BenchSpec, runBench, suites } from './bench';
import { checks } from './checks';
import type { CheckParams } from './checks/types';

/** Result of one check, cloneable. */
export interface CheckResult {
  name: string;
  params: CheckParams;
  ok: boolean;
  reports: CompareReport[];
  adapter: AdapterSummary;
  /** "page" or "worker". */
  context: string;
  wallMs: number;
}

let gpuPromise: Promise<Gpu> | null = null;
const gpuErrors: string[] = [];

/** The context's Gpu; rejects (and the test fails) when no adapter is found. */
export function getGpu(): Promise<Gpu> {
  gpuPromise ??= Gpu.create().then((gpu) => {
    gpu.onError((e) => gpuErrors.push(e.message));
    return gpu;
  });
  return gpuPromise;
}

/** Build the API exposed by a context ("page" or "worker"). */
export function makeRunner(context: string) {
  return {
    async adapter(): Promise<AdapterSummary> {
      return (await getGpu()).adapter;
    },
    async runCheck(name: string, params: CheckParams): Promise<CheckResult> {
      const check = checks[name];
      if (!check) throw new Error(`unknown check "${name}"; known: ${Object.keys(checks).join(', ')}`);
      const gpu = await getGpu();
      const errorsBefore = gpuErrors.length;
      const t0 = performance.now();
      const reports = await check(gpu, params);
      const wallMs = performance.now() - t0;
      const newErrors = gpuErrors.slice(errorsBefore);
      if (newErrors.length) throw new Error(`GPU errors during check "${name}": ${newErrors.join(' | ')}`);
      if (reports.length === 0) throw new Error(`check "${name}" compared nothing`);
      return { name, params, ok: reports.every((r) => r.ok), reports, adapter: gpu.adapter, context, wallMs };
    },
    /** Names of the bench suites. */
    suites(): string[] {
      return Object.keys(suites);
    },
    async bench(spec: BenchSpec): Promise<unknown> {
      return runBench(await getGpu(), spec);
    },
  };
}

export type Runner = ReturnType<typeof makeRunner>;
