/**
 * Bench suites of issue 17's GPU practice (run by scripts/bench.mjs through e2e/harness/bench.ts):
 *  - `subgroups`: the TopK kernel, the step-stats reduction and the evaluation reduction, plain vs subgroup variant
 *    (src/gpu/kernels/subgroups.ts), median ms each and subgroup ÷ plain, on this adapter.
 *  - `batchtopk-plan`: a BatchTopK training step with the bucket plan on the GPU (one submission, no readback) vs the
 *    former readback plan (GpuSaeEngine option batchTopkReadback): median ms of one step awaited, and of `queued`
 *    steps submitted back to back then awaited once (per step), with the ratios GPU plan ÷ readback.
 * The two variants alternate rep by rep (each sample after its own warm-up call); medians; compare the ratios of one
 * run.
 */
import type { Gpu } from '../../src/gpu/device';
import { createEvalReduce } from '../../src/gpu/kernels/eval';
import { createStats } from '../../src/gpu/kernels/stats';
import { createTopK } from '../../src/gpu/kernels/topk';
import { GpuSaeEngine } from '../../src/gpu/sae-engine';
import { initSaeParams } from '../../src/sae/init';
import { ROW_STATS } from '../../src/sae/kernel-types';
import type { SaeShape, StepHyper } from '../../src/sae/types';
import { Rng } from '../../src/util/rng';

type Timer = (fn: () => Promise<void> | void, reps: number) => Promise<number[]>;
type Median = (xs: number[]) => number;

const round = (x: number) => Math.round(x * 1000) / 1000;

/** TopK shapes of the step bench: rows, d_sae, k. */
const TOPK_SHAPES = [
  { rows: 1024, dSae: 512, k: 8 },
  { rows: 1024, dSae: 2048, k: 32 },
];

/** Plain vs subgroup variant of TopK, stats and eval reduce. @throws GpuError when the device has no subgroups. */
export async function subgroupsBench(
  gpu: Gpu,
  reps: number,
  timeIt: Timer,
  median: Median,
): Promise<unknown> {
  const rng = new Rng(5);
  // The two variants alternate rep by rep (plain, subgroups, plain, …) so that load drifts on a shared machine hit
  // both alike; each sample list is the interleaved run's.
  const both = async (make: (subgroups: boolean) => (pass: GPUComputePassEncoder) => void, label: string) => {
    const records = [make(false), make(true)];
    const samples: number[][] = [[], []];
    for (let r = 0; r < reps; r++) {
      for (const v of [0, 1]) {
        samples[v].push(...(await timeIt(() => gpu.run(`bench:${label}`, records[v]), 1)));
      }
    }
    const [plain, sg] = samples.map((xs) => round(median(xs)));
    return { plain_ms: plain, subgroups_ms: sg, subgroups_over_plain: round(sg / plain) };
  };
  const topk = [];
  for (const shape of TOPK_SHAPES) {
    const n = shape.rows * shape.k * 4;
    const bufs = {
      pre: gpu.storage('bench:topk:pre', rng.normalArray(shape.rows * shape.dSae)),
      indices: gpu.storage('bench:topk:indices', n),
      values: gpu.storage('bench:topk:values', n),
    };
    const kernels = [false, true].map((subgroups) => createTopK(gpu, shape, 'bench:topk', { subgroups }));
    try {
      topk.push({
        shape: { rows: shape.rows, d_sae: shape.dSae, k: shape.k },
        ...(await both((sg) => (pass) => kernels[sg ? 1 : 0].encode(pass, bufs), 'topk')),
      });
    } finally {
      for (const k of kernels) k.destroy();
      for (const b of Object.values(bufs)) b.destroy();
    }
  }
  const [R, D, S] = [1024, 256, 2048];
  const statsBufs = {
    x: gpu.storage('bench:stats:x', rng.normalArray(R * D)),
    rowStats: gpu.storage('bench:stats:row_stats', rng.uniformArray(R * ROW_STATS)),
    fireCounts: gpu.storage('bench:stats:fire', S * 4),
    stepsSinceFired: gpu.storage('bench:stats:ssf', S * 4),
    out: gpu.storage('bench:stats:out', 8 * 4),
  };
  const evalBufs = {
    rowStats: statsBufs.rowStats,
    counts: gpu.storage('bench:eval:counts', S * 4),
    fireTotal: gpu.storage('bench:eval:total', S * 4),
    chunkSums: gpu.storage('bench:eval:sums', 4 * 4),
  };
  const stats = [false, true].map((subgroups) =>
    createStats(gpu, { rows: R, dModel: D, dSae: S }, 'bench:stats', { subgroups }),
  );
  const evals = [false, true].map((subgroups) =>
    createEvalReduce(gpu, { rows: R, dSae: S }, 'bench:eval', { subgroups }),
  );
  try {
    return {
      subgroup_sizes: [gpu.adapter.subgroupMinSize ?? null, gpu.adapter.subgroupMaxSize ?? null],
      topk,
      stats: {
        shape: { rows: R, d_model: D, d_sae: S },
        ...(await both((sg) => (pass) => stats[sg ? 1 : 0].encode(pass, statsBufs), 'stats')),
      },
      eval_reduce: {
        shape: { rows: R, d_sae: S },
        ...(await both((sg) => (pass) => evals[sg ? 1 : 0].encode(pass, evalBufs), 'eval')),
      },
      reps,
    };
  } finally {
    for (const k of [...stats, ...evals]) k.destroy();
    for (const b of [...Object.values(statsBufs), evalBufs.counts, evalBufs.fireTotal, evalBufs.chunkSums])
      b.destroy();
  }
}

/** BatchTopK shapes: the small step-bench shape by default (a big one takes minutes per step on SwiftShader). */
const BATCHTOPK_SHAPES: SaeShape[] = [
  { dModel: 64, dSae: 512, k: 8, batchSize: 1024, arch: { architecture: 'batchtopk' } },
];

/** BatchTopK step: GPU plan vs readback plan. options.shapes (SaeShape[]), options.queued (default 4). */
export async function batchTopkPlanBench(
  gpu: Gpu,
  reps: number,
  options: Record<string, unknown>,
  timeIt: Timer,
  median: Median,
): Promise<unknown> {
  const shapes = (options.shapes as SaeShape[] | undefined) ?? BATCHTOPK_SHAPES;
  const queued = Number(options.queued ?? 4);
  const hyper: StepHyper = { lr: 1e-4, beta1: 0, beta2: 0.999, eps: 1e-8, deadWindowSteps: 1000 };
  const results = [];
  for (const shape of shapes) {
    const rng = new Rng(11);
    const batches = Array.from({ length: 4 }, () => rng.normalArray(shape.batchSize * shape.dModel));
    const init = initSaeParams(shape, 1, batches[0]);
    const row: Record<string, number> = {};
    // Both engines live side by side and alternate rep by rep (GPU plan, readback, GPU plan, …), so that load
    // drifts on a shared machine hit both alike.
    const engines = [
      await GpuSaeEngine.create(gpu, shape, init),
      await GpuSaeEngine.create(gpu, shape, init, { batchTopkReadback: true }),
    ];
    try {
      const one: number[][] = [[], []];
      const many: number[][] = [[], []];
      let i = 0;
      for (let r = 0; r < reps; r++) {
        for (const v of [0, 1]) {
          const e = engines[v];
          one[v].push(
            ...(await timeIt(async () => {
              await e.step(batches[i++ % batches.length], hyper, false);
              await e.flush();
            }, 1)),
          );
          many[v].push(
            ...(await timeIt(async () => {
              for (let q = 0; q < queued; q++) await e.step(batches[i++ % batches.length], hyper, false);
              await e.flush();
            }, 1)),
          );
        }
      }
      for (const v of [0, 1]) {
        const tag = v === 1 ? 'readback' : 'gpu_plan';
        row[`${tag}_step_ms`] = round(median(one[v]));
        row[`${tag}_queued_ms_per_step`] = round(median(many[v]) / queued);
      }
    } finally {
      for (const e of engines) e.destroy();
    }
    results.push({
      shape: { d_model: shape.dModel, d_sae: shape.dSae, k: shape.k, batch: shape.batchSize },
      ...row,
      gpu_plan_over_readback_step: round(row.gpu_plan_step_ms / row.readback_step_ms),
      gpu_plan_over_readback_queued: round(row.gpu_plan_queued_ms_per_step / row.readback_queued_ms_per_step),
      queued,
      reps,
    });
  }
  return results;
}
