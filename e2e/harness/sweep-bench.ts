/**
 * The `sweep` bench suite on the GPU engine: N SAEs (default TopK and BatchTopK × k 4, 16) at the demo shape
 * (the build's demo activations, d_model 64, d_sae 512, batch 512) trained for options.steps steps (default 30)
 * as one GpuSweepGroup (src/sweep/gpu-group.ts: each batch read once, uploaded once, one submission per step phase
 * for the group; one shared held-out evaluation) and as N separate GpuSaeEngine runs (each reads, uploads and
 * evaluates on its own). The separate runs are timed before AND after the sweep and averaged (shared machines
 * drift). Reports (sweep wall) ÷ (sum of N single runs) from this one run, with the read / upload / step / eval
 * breakdown of both. Read = cutting a shuffled batch of rows out of the in-memory demo (a Batcher's gather).
 */
import type { Gpu } from '../../src/gpu/device';
import { GpuSaeEngine } from '../../src/gpu/sae-engine';
import { initSaeParams } from '../../src/sae/init';
import type { Architecture, SaeShape, StepHyper } from '../../src/sae/types';
import { GpuSweepGroup } from '../../src/sweep/gpu-group';
import { Rng } from '../../src/util/rng';
import { loadActivations } from './checks/train-run';

/** Wall ms of one way of training the N SAEs, by stage. */
interface Breakdown {
  wall_ms: number;
  read_ms: number;
  upload_ms: number;
  step_ms: number;
  eval_ms: number;
  batches_read: number;
  uploads: number;
}

const round = (x: number) => Number(x.toPrecision(4));

/** options: steps (30), evalRows (2048), architectures (['topk', 'batchtopk']), ks ([4, 16]). */
export async function sweepBench(gpu: Gpu, options: Record<string, unknown>): Promise<unknown> {
  const npy = await loadActivations('/demo/stories260K.resid_post.2.f32.npy');
  const steps = (options.steps as number | undefined) ?? 30;
  const evalRows = (options.evalRows as number | undefined) ?? 2048;
  const archs = (options.architectures as Architecture[] | undefined) ?? ['topk', 'batchtopk'];
  const ks = (options.ks as number[] | undefined) ?? [4, 16];
  const B = 512;
  const D = npy.cols;
  const shapes: SaeShape[] = archs.flatMap((architecture) =>
    ks.map((k) => ({ batchSize: B, dModel: D, dSae: 512, k, arch: { architecture, auxk: false } })),
  );
  const hyper: StepHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, deadWindowSteps: 1000 };
  const hypers = shapes.map(() => hyper);
  // The last evalRows rows are held out; batches are gathered from a seeded shuffle of the rest.
  const trainRows = npy.rows - evalRows;
  const held = npy.data.slice(trainRows * D, npy.rows * D);
  const read = (step: number): Float32Array => {
    const rng = new Rng(1000 + step);
    const x = new Float32Array(B * D);
    for (let r = 0; r < B; r++) {
      const src = Math.floor(rng.next() * trainRows);
      x.set(npy.data.subarray(src * D, (src + 1) * D), r * D);
    }
    return x;
  };
  const inits = shapes.map((s, i) => initSaeParams(s, 42 + i, read(0)));
  const zero = (): Breakdown => ({
    wall_ms: 0,
    read_ms: 0,
    upload_ms: 0,
    step_ms: 0,
    eval_ms: 0,
    batches_read: 0,
    uploads: 0,
  });

  const singles = async (): Promise<Breakdown> => {
    const b = zero();
    for (let i = 0; i < shapes.length; i++) {
      const w0 = performance.now();
      const e = await GpuSaeEngine.create(gpu, shapes[i], inits[i]);
      try {
        for (let s = 0; s < steps; s++) {
          const t0 = performance.now();
          const x = read(s);
          const t1 = performance.now();
          // step() uploads inside (queue.writeBuffer); its upload is part of step_ms here.
          await e.step(x, hyper, s === steps - 1);
          b.step_ms += performance.now() - t1;
          b.read_ms += t1 - t0;
          b.batches_read += 1;
          b.uploads += 1;
        }
        await e.flush();
        const t0 = performance.now();
        await e.evaluate(held, evalRows);
        b.eval_ms += performance.now() - t0;
      } finally {
        e.destroy();
      }
      b.wall_ms += performance.now() - w0;
    }
    return b;
  };

  const sweep = async (): Promise<Breakdown & { submissions: number }> => {
    const b = zero();
    const w0 = performance.now();
    const engines = await Promise.all(shapes.map((s, i) => GpuSaeEngine.create(gpu, s, inits[i])));
    const group = new GpuSweepGroup(gpu, engines);
    try {
      for (let s = 0; s < steps; s++) {
        const t0 = performance.now();
        const x = read(s);
        b.read_ms += performance.now() - t0;
        b.batches_read += 1;
        await group.step(x, hypers, s === steps - 1);
      }
      await group.flush();
      await group.evaluate(held, evalRows);
    } finally {
      group.destroy();
      for (const e of engines) e.destroy();
    }
    b.wall_ms = performance.now() - w0;
    b.upload_ms = group.stages.uploadMs;
    b.step_ms = group.stages.stepMs;
    b.eval_ms = group.stages.evalMs;
    b.uploads = group.stages.uploads;
    return { ...b, submissions: group.stages.submissions };
  };

  const before = await singles();
  const grouped = await sweep();
  const after = await singles();
  const sum = zero();
  for (const k of Object.keys(sum) as (keyof Breakdown)[]) sum[k] = (before[k] + after[k]) / 2;
  const fmt = (b: Breakdown) =>
    Object.fromEntries(Object.entries(b).map(([k, v]) => [k, k.endsWith('_ms') ? round(v) : v]));
  return {
    config: {
      engine: 'gpu',
      n: shapes.length,
      saes: shapes.map((s) => `${s.arch?.architecture} k=${s.k}`),
      d_model: D,
      d_sae: 512,
      batch: B,
      steps,
      held_out_rows: evalRows,
    },
    sweep: fmt(grouped),
    sum_of_single_runs: fmt(sum),
    single_runs_before: fmt(before),
    single_runs_after: fmt(after),
    sweep_over_separate_runs: round(grouped.wall_ms / sum.wall_ms),
    note:
      'single runs: upload is inside step_ms (GpuSaeEngine.step writes its batch); sum_of_single_runs = mean of the ' +
      'before and after passes.',
  };
}
