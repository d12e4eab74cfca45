/**
 * Benchmarks run in the browser (page or worker) by scripts/bench.mjs. Each suite returns plain JSON.
 * Times are medians over repeated runs on one adapter; compare ratios, not absolute times, on shared machines.
 */
import type { Gpu } from '../../src/gpu/device';
import { createMatmul } from '../../src/gpu/kernels/matmul';
import { matmulCpu } from '../../src/reference/matmul';
import { Rng } from '../../src/util/rng';
import { importBench } from './import-bench';

/** Which suite to run, and its options. */
export interface BenchSpec {
  suite: string;
  /** Timed repetitions per case (after one warm-up). Default 10. */
  reps?: number;
  /** Suite-specific options. */
  options?: Record<string, unknown>;
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Time `fn` `reps` times after one warm-up call; returns every sample in ms. */
export async function timeIt(fn: () => Promise<void> | void, reps: number): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

type Suite = (gpu: Gpu, reps: number, options: Record<string, unknown>) => Promise<unknown>;

/** Default matmul shapes: [M, N, K]. The first is the encoder of a d_model=64, d_sae=512 SAE at B=1024. */
const MATMUL_SHAPES: [number, number, number][] = [
  [1024, 512, 64],
  [256, 256, 256],
  [1024, 2048, 256],
];

/** Matmul: GPU median ms and GFLOP/s (2·M·N·K flops), CPU twin median ms, and cpu/gpu ratio. */
const matmulSuite: Suite = async (gpu, reps, options) => {
  const shapes = (options.shapes as [number, number, number][] | undefined) ?? MATMUL_SHAPES;
  const rng = new Rng(7);
  const results = [];
  for (const [M, N, K] of shapes) {
    const a = rng.uniformArray(M * K);
    const b = rng.uniformArray(K * N);
    const bias = rng.uniformArray(N);
    const kernel = createMatmul(gpu, { M, N, K });
    const bufs = {
      a: gpu.storage('bench:a', a),
      b: gpu.storage('bench:b', b),
      bias: gpu.storage('bench:bias', bias),
      c: gpu.storage('bench:c', M * N * 4),
    };
    try {
      const gpuMs = median(await timeIt(() => gpu.run('bench-matmul', (p) => kernel.encode(p, bufs)), reps));
      const cpuReps = Math.max(1, Math.min(reps, Math.floor(2e8 / (M * N * K))));
      const cpuMs = median(await timeIt(() => void matmulCpu(a, b, bias, { M, N, K }), cpuReps));
      const flops = 2 * M * N * K;
      results.push({
        shape: { M, N, K },
        gpu_median_ms: round(gpuMs),
        gpu_gflops: round(flops / (gpuMs * 1e6)),
        cpu_twin_median_ms: round(cpuMs),
        cpu_twin_gflops: round(flops / (cpuMs * 1e6)),
        speedup_vs_cpu_twin: round(cpuMs / gpuMs),
        reps,
      });
    } finally {
      kernel.destroy();
      for (const buf of Object.values(bufs)) buf.destroy();
    }
  }
  return results;
};

/** Suites by name; later issues add theirs here. */
export const suites: Record<string, Suite> = {
  matmul: matmulSuite,
  /** Streamed import of a generated 256 MB float16 .npy into IndexedDB (MiB/s, peak JS heap); reps unused. */
  import: (_gpu, _reps, options) => importBench(options),
};

/** Run one suite. @throws Error for an unknown suite. */
export async function runBench(gpu: Gpu, spec: BenchSpec): Promise<unknown> {
  const suite = suites[spec.suite];
  if (!suite)
    throw new Error(`unknown bench suite "${spec.suite}"; known: ${Object.keys(suites).join(', ')}`);
  return suite(gpu, spec.reps ?? 10, spec.options ?? {});
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
