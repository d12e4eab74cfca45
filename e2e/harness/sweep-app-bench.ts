/**
 * The `sweep` bench suite on the app's path (the default; `{"path":"group"}` times the bare GpuSweepGroup API,
 * e2e/harness/sweep-bench.ts): N SAEs (default TopK and BatchTopK × k 4, 16) at the demo shape (the build's demo
 * activations, d_model 64, d_sae 512, batch 512, lr 1e-3, seed 42) trained by the app's SweepRunner — real
 * Trainers on GpuSaeEngines, the shared batch stream, the StepCoalescer feeding one GpuSweepGroup (one upload and
 * one submission per step), checkpoints into memory, periodic and final held-out evaluations — as ONE sweep, and
 * as N sweeps of one SAE (each then steps alone: its own upload and submission per step, exactly a single run).
 * The single runs are timed before AND after the sweep and averaged (shared machines drift). Reports (sweep wall) ÷
 * (sum of the N single runs) from this one run, with the read / upload / step / eval breakdown and the upload and
 * submission counts of both.
 */
import type { Gpu } from '../../src/gpu/device';
import { GpuSaeEngine } from '../../src/gpu/sae-engine';
import type { Architecture } from '../../src/sae/types';
import { expandGrid, type SweepGrid } from '../../src/sweep/grid';
import { SweepRunner, type SweepSpec, type SweepStages } from '../../src/sweep/runner';
import { MemoryCheckpointStore } from '../../src/train/checkpoint';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/train/config';
import { memorySource } from '../../src/train/testing/memory-source';
import { loadActivations } from './checks/train-run';

const round = (x: number) => Number(x.toPrecision(4));

/** One sweep's stages as bench JSON. */
function stageJson(s: SweepStages, wallMs: number) {
  const g = s.gpu;
  return {
    wall_ms: round(wallMs),
    read_ms: round(s.readMs),
    upload_ms: g ? round(g.uploadMs) : null,
    step_ms: round(s.stepMs),
    eval_ms: round(s.evalMs),
    batches_read: s.batchesRead,
    uploads: g?.uploads ?? null,
    sae_steps: g?.memberSteps ?? null,
    step_submissions: g ? g.submissions - g.evalSubmissions : null,
    held_out_uploads: g?.heldOutUploads ?? null,
    fallback_flushes: g?.fallbackFlushes ?? null,
  };
}

type Json = ReturnType<typeof stageJson>;

/** options: steps (10), architectures (['topk', 'batchtopk']), ks ([4, 16]), evalTokens (2048). */
export async function sweepAppBench(gpu: Gpu, options: Record<string, unknown>): Promise<unknown> {
  const npy = await loadActivations('/demo/stories260K.resid_post.2.f32.npy');
  const steps = (options.steps as number | undefined) ?? 10;
  const archs = (options.architectures as Architecture[] | undefined) ?? ['topk', 'batchtopk'];
  const ks = (options.ks as number[] | undefined) ?? [4, 16];
  const evalTokens = (options.evalTokens as number | undefined) ?? 2048;
  const D = npy.cols;
  const source = memorySource(npy.data, D, { shardRows: 8192, id: 'demo', name: 'demo' });
  const base: TrainConfig = {
    ...DEFAULT_CONFIG,
    dSae: 512,
    batchSize: 512,
    lr: 1e-3,
    seed: 42,
    steps,
    evalTokens,
    auxk: false,
  };
  const grid: SweepGrid = { architectures: archs, dSaes: [512], sparsity: { k: ks }, lrs: [1e-3] };
  const members = expandGrid(base, grid, { dModel: D, nTokens: npy.rows }).map((m, i) => ({
    runId: `bench-${i}`,
    config: m.config,
  }));
  const spec = (ms: typeof members): SweepSpec => ({
    id: 'sweep-bench',
    name: 'sweep bench',
    createdAt: Date.now(),
    datasetId: 'demo',
    datasetName: 'demo',
    grid,
    members: ms,
    groups: [ms.map((_, i) => i)],
  });
  const run = async (s: SweepSpec): Promise<Json> => {
    const runner = new SweepRunner(s, source, {
      createEngine: (shape, init) => GpuSaeEngine.create(gpu, shape, init),
      checkpoints: new MemoryCheckpointStore(),
      onEvent: () => {},
    });
    const t0 = performance.now();
    const out = await runner.run();
    const wall = performance.now() - t0;
    if (out.some((r) => r === null)) throw new Error('sweep bench: a run ended without a summary (error)');
    return stageJson(runner.stages, wall);
  };
  const singles = async (): Promise<Json[]> => {
    const out: Json[] = [];
    for (const m of members) out.push(await run(spec([m])));
    return out;
  };
  const before = await singles();
  const sweep = await run(spec(members));
  const after = await singles();
  const sum: Record<string, number> = {};
  for (const j of [...before, ...after]) {
    for (const [k, v] of Object.entries(j)) if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v / 2;
  }
  for (const k of Object.keys(sum)) if (k.endsWith('_ms')) sum[k] = round(sum[k]);
  return {
    config: {
      engine: 'gpu',
      path: 'app (SweepRunner + StepCoalescer + GpuSweepGroup)',
      n: members.length,
      saes: members.map((m) => `${m.config.architecture} k=${m.config.k}`),
      d_model: D,
      d_sae: 512,
      batch: 512,
      steps,
      eval_tokens: evalTokens,
    },
    sweep,
    sum_of_single_runs: sum,
    single_runs_before: before,
    single_runs_after: after,
    sweep_over_separate_runs: round(sweep.wall_ms / sum.wall_ms),
    note:
      'each single run is a sweep of one SAE (same trainer path; steps alone: one upload and one submission per ' +
      'step); sum_of_single_runs = mean of the before and after passes; step_ms / eval_ms of the sweep are the ' +
      "group's calls (one per step for all SAEs), of the singles their own.",
  };
}
