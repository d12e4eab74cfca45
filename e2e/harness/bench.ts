/**
 * Benchmarks run in the browser (page or worker) by scripts/bench.mjs. Each suite returns plain JSON.
 * Times are medians over repeated runs on one adapter; compare ratios, not absolute times, on shared machines.
 */
import { chooseEngine } from '../../src/cpu/engine-choice';
import type { Gpu } from '../../src/gpu/device';
import { createEncoder, defaultEncoderVariant } from '../../src/gpu/kernels/encoder';
import { autotuneEncoderTile } from '../../src/gpu/kernels/encoder-tune';
import { createMatmul } from '../../src/gpu/kernels/matmul';
import { GpuSaeEngine } from '../../src/gpu/sae-engine';
import { matmulCpu } from '../../src/reference/matmul';
import { initSaeParams } from '../../src/sae/init';
import type { Architecture, SaeShape, StepHyper } from '../../src/sae/types';
import { Rng } from '../../src/util/rng';
import { loadActivations, runTraining } from './checks/train-run';
import { cpuStepSuite } from './cpu-bench';
import { featuresBench } from './features-bench';
import { gemmBench } from './gemm-bench';
import { importBench } from './import-bench';
import { lmBench } from './lm-bench';
import { batchTopkPlanBench, subgroupsBench } from './subgroups-bench';
import { sweepAppBench } from './sweep-app-bench';
import { sweepBench } from './sweep-bench';

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

/**
 * Default step shapes (the issue's): d_model=64, d_sae=512, k=8, B=1024 and d_model=256, d_sae=2048, k=32,
 * B=1024. Pass options.shapes for others (e.g. a wide dictionary, d_sae=8192).
 */
const STEP_SHAPES: SaeShape[] = [
  { dModel: 64, dSae: 512, k: 8, batchSize: 1024 },
  { dModel: 256, dSae: 2048, k: 32, batchSize: 1024 },
];

/**
 * Full TopK SAE training step (GpuSaeEngine.step: encoder, TopK, decode, sparse backward, decoder constraint,
 * Adam on all four tensors, stats), each rep awaited until the GPU is idle. Reports the median step ms without
 * and with the stats readback, tokens/s, the median ms of the fused encoder matmul alone (the one dense cost
 * of a TopK step) and of the plain matmul kernel at the same M×N×K, step_ms / encoder_ms, and the median
 * wall ms of each stage submitted on its own (≤ 3 reps; includes a submit + wait per stage).
 * options.shapes overrides the shapes (SaeShape[]).
 */
const stepSuite: Suite = async (gpu, reps, options) => {
  const shapes = (options.shapes as SaeShape[] | undefined) ?? STEP_SHAPES;
  const hyper: StepHyper = { lr: 1e-4, beta1: 0, beta2: 0.999, eps: 1e-8, deadWindowSteps: 1000 };
  const results = [];
  for (const shape of shapes) {
    const { dModel: D, dSae: S, batchSize: B } = shape;
    const rng = new Rng(11);
    const batches = Array.from({ length: 4 }, () => rng.normalArray(B * D));
    const init = initSaeParams(shape, 1, batches[0]);
    const engine = await GpuSaeEngine.create(gpu, shape, init);
    const fwd = { rows: B, dModel: D, dSae: S };
    const encoder = createEncoder(gpu, fwd, 'bench:encoder');
    const matmul = createMatmul(gpu, { M: B, N: S, K: D }, 'bench:matmul');
    const bufs = {
      x: gpu.storage('bench:x', batches[0]),
      wEnc: gpu.storage('bench:w_enc', init.wEnc),
      bEnc: gpu.storage('bench:b_enc', init.bEnc),
      bDec: gpu.storage('bench:b_dec', init.bDec),
      pre: gpu.storage('bench:pre', B * S * 4),
    };
    try {
      let i = 0;
      const stepMs = median(
        await timeIt(async () => {
          await engine.step(batches[i++ % batches.length], hyper, false);
          await engine.flush();
        }, reps),
      );
      const stepStatsMs = median(
        await timeIt(async () => void (await engine.step(batches[i++ % batches.length], hyper, true)), reps),
      );
      const stages: Record<string, number[]> = {};
      for (let r = 0; r < Math.max(1, Math.min(reps, 3)); r++) {
        const t = await engine.timeStages(batches[i++ % batches.length], hyper);
        for (const [name, ms] of Object.entries(t)) {
          stages[name] ??= [];
          stages[name].push(ms);
        }
      }
      const encoderMs = median(
        await timeIt(() => gpu.run('bench-encoder', (p) => encoder.encode(p, bufs)), reps),
      );
      const otherVariant = defaultEncoderVariant(gpu) === 'tiled' ? 'direct' : 'tiled';
      const other = createEncoder(gpu, fwd, 'bench:encoder-other', otherVariant);
      const otherMs = median(
        await timeIt(() => gpu.run('bench-encoder2', (p) => other.encode(p, bufs)), reps),
      );
      other.destroy();
      const matmulMs = median(
        await timeIt(
          () =>
            gpu.run('bench-matmul', (p) =>
              matmul.encode(p, { a: bufs.x, b: bufs.wEnc, bias: bufs.bEnc, c: bufs.pre }),
            ),
          reps,
        ),
      );
      results.push({
        shape: { d_model: D, d_sae: S, k: shape.k, batch: B },
        step_median_ms: round(stepMs),
        step_with_stats_median_ms: round(stepStatsMs),
        tokens_per_s: round((B * 1000) / stepMs),
        encoder_median_ms: round(encoderMs),
        encoder_gflops: round((2 * B * S * D) / (encoderMs * 1e6)),
        plain_matmul_median_ms: round(matmulMs),
        encoder_variant: defaultEncoderVariant(gpu),
        other_encoder_variant_median_ms: round(otherMs),
        step_over_encoder: round(stepMs / encoderMs),
        stage_median_ms: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, round(median(v))])),
        reps,
      });
    } finally {
      engine.destroy();
      encoder.destroy();
      matmul.destroy();
      for (const b of Object.values(bufs)) b.destroy();
    }
  }
  return results;
};

/** Suites by name; later issues add theirs here. */
export const suites: Record<string, Suite> = {
  matmul: matmulSuite,
  step: stepSuite,
  /** TopK, stats and eval reduce: plain vs subgroup variant (e2e/harness/subgroups-bench.ts). */
  subgroups: (gpu, reps) => subgroupsBench(gpu, reps, timeIt, median),
  /** BatchTopK step: bucket plan on the GPU vs the former readback plan (e2e/harness/subgroups-bench.ts). */
  'batchtopk-plan': (gpu, reps, options) => batchTopkPlanBench(gpu, reps, options, timeIt, median),
  /** Streamed import of a generated 256 MB float16 .npy into IndexedDB (MiB/s, peak JS heap); reps unused. */
  import: (_gpu, _reps, options) => importBench(options),
  /**
   * The fast CPU engine (WebAssembly SIMD) and the oracle at the step shapes, in this context (page or worker),
   * for the ratio to the WGSL `step` suite on the same machine; options.oracle = false skips the slow oracle.
   */
  'cpu-step': (_gpu, reps, options) => cpuStepSuite(Math.min(reps, 3), options.oracle !== false),
  /** stories260K forward / harvest tokens/s and patched-CE time ÷ 3 forwards (e2e/harness/lm-bench.ts). */
  lm: lmBench,
  /** The feature pass ÷ the encoder matmul over the same tokens (target ≤ 2), and the CPU pass (features-bench.ts). */
  features: featuresBench,
  /**
   * The peers: TF.js webgpu (this adapter) and TF.js wasm running the same TopK step and encoder matmul at the step
   * shapes (e2e/harness/peer-browser.ts; ≤ 3 reps after a warm-up). scripts/bench.mjs divides our figures by these
   * (its `table`). options.backends narrows it (['webgpu', 'wasm']).
   */
  peer: async (_gpu, reps, options) =>
    (await import('./peer-browser')).peerSuite(
      (options.shapes as SaeShape[] | undefined) ?? STEP_SHAPES,
      Math.max(1, Math.min(reps, 3)),
      options.backends as ('webgpu' | 'wasm')[] | undefined,
    ),
  /**
   * The encoder tile autotune (src/gpu/kernels/encoder-tune.ts), forced: each candidate's median ms on the probe
   * and the pick (the lab runs it once per adapter before the first GPU run). options.probe overrides the probe.
   */
  autotune: (gpu, reps, options) =>
    autotuneEncoderTile(gpu, {
      force: true,
      reps: Math.max(1, Math.min(reps, 5)),
      budgetMs: 60_000,
      probe: options.probe as { rows: number; dModel: number; dSae: number } | undefined,
    }),
  /**
   * Every encoder kernel (scalar / vec4, tiled / direct, 4×4 / 8×8 register blocks) and the plain matmul (scalar /
   * vec4) at the step shapes, ms and GFLOP/s from one run (e2e/harness/gemm-bench.ts; ≤ 3 reps after a warm-up).
   * options.encoderCases ({variant, tile}[]) and options.matmulCases (MatmulTile[]) replace the default lists.
   */
  gemm: (gpu, reps, options) =>
    gemmBench(
      gpu,
      (options.shapes as SaeShape[] | undefined) ?? STEP_SHAPES,
      Math.max(1, Math.min(reps, 3)),
      async (fn, n) => median(await timeIt(fn, n)),
      options.encoderCases as Parameters<typeof gemmBench>[4],
      options.matmulCases as Parameters<typeof gemmBench>[5],
    ),
  /** The engine the lab's start-up choice (src/cpu/engine-choice.ts) picks on this adapter, and why. */
  engine: async (gpu) => chooseEngine({ adapter: gpu.adapter }, 'auto', 0),
};

/**
 * The demo table of every architecture (issue 6): the real trainer on the built-in demo dataset
 * (/demo/stories260K.resid_post.2.f32.npy of the build) at d_sae = 512, batch 512, 300 steps, each architecture
 * with the trainer's defaults (k = 8 for TopK and BatchTopK) at lr 3e-3 (options.lrs for others); held-out EV, FVU, L0, dead
 * fraction, mean θ and wall time. Slow (minutes per run on a CPU adapter): run on demand,
 * `npm run bench -- arch-demo`. options.architectures / options.lrs narrow it.
 */
const archDemoSuite: Suite = async (gpu, _reps, options) => {
  const npy = await loadActivations('/demo/stories260K.resid_post.2.f32.npy');
  const archs = (options.architectures as Architecture[] | undefined) ?? [
    'topk',
    'batchtopk',
    'jumprelu',
    'relu',
  ];
  const lrs = (options.lrs as number[] | undefined) ?? [3e-3];
  const rows = [];
  for (const lr of lrs) {
    for (const architecture of archs) {
      const r = await runTraining(gpu, npy, {
        dSae: 512,
        batchSize: 512,
        steps: 300,
        k: 8,
        lr,
        architecture,
      });
      rows.push({
        architecture,
        lr,
        held_out_explained_variance: round(r.heldOut.explainedVariance),
        held_out_fvu: round(r.heldOut.fvu),
        held_out_l0: round(r.heldOut.l0),
        held_out_dead_fraction: round(r.heldOut.deadFraction),
        held_out_tokens: r.sampleTokens,
        mean_threshold: r.meanThreshold === null ? null : round(r.meanThreshold),
        wall_s: round(r.wallS),
      });
    }
  }
  return { config: { d_model: npy.cols, d_sae: 512, batch: 512, steps: 300, k: 8 }, rows };
};

/** Suites run only when named (too slow for the default `npm run bench`). */
export const onDemandSuites: Record<string, Suite> = {
  'arch-demo': archDemoSuite,
  /**
   * N = 4 SAEs at the demo shape on the GPU engine as one sweep (one upload and one submission per step) ÷ the sum
   * of 4 single runs, with the read / upload / step / eval breakdown: the app's SweepRunner path by default
   * (e2e/harness/sweep-app-bench.ts, 10 steps), the bare group API with `{"path":"group"}` (sweep-bench.ts). Slow on
   * SwiftShader, so on demand: `node scripts/bench.mjs sweep`.
   */
  sweep: (gpu, _reps, options) =>
    options.path === 'group' ? sweepBench(gpu, options) : sweepAppBench(gpu, options),
};

/** Run one suite. @throws Error for an unknown suite. */
export async function runBench(gpu: Gpu, spec: BenchSpec): Promise<unknown> {
  const suite = suites[spec.suite] ?? onDemandSuites[spec.suite];
  if (!suite)
    throw new Error(
      `unknown bench suite "${spec.suite}"; known: ${[...Object.keys(suites), ...Object.keys(onDemandSuites)].join(', ')}`,
    );
  return suite(gpu, spec.reps ?? 10, spec.options ?? {});
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
