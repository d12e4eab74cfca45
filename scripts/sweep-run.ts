/**
 * Sweeps in Node on the fast CPU engine (src/cpu/sae-engine.ts) and the built-in demo: the `sweep` bench suite
 * (N runs as one sweep vs the same N as single runs, with the per-stage breakdown) and the demo table of issue 16
 * (TopK vs BatchTopK × k). Started by scripts/sweep.mjs (`npm run sweep -- --help`).
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { WasmCpuSaeEngine } from '../src/cpu/sae-engine';
import type { Architecture } from '../src/sae/archs';
import { expandGrid, type SweepGrid, sparsityValue } from '../src/sweep/grid';
import { cpuLimits, planGroups, saeMemory } from '../src/sweep/memory';
import { SweepRunner, type SweepSpec, type SweepStages } from '../src/sweep/runner';
import { MemoryCheckpointStore } from '../src/train/checkpoint';
import { DEFAULT_CONFIG, type TrainConfig } from '../src/train/config';
import { memorySource } from '../src/train/testing/memory-source';
import { parseNpyF32 } from '../src/train/testing/npy';
import type { RunSummary } from '../src/train/trainer';
import { DEMO_NPY } from './cpu-train-run';

/** The demo run's shape (scripts/demo-runs.ts): d_sae 512, batch 512, lr 1e-3, seed 42. */
const DEMO_BASE: Partial<TrainConfig> = { dSae: 512, batchSize: 512, lr: 1e-3, seed: 42 };

async function demoSource() {
  const npy = parseNpyF32(new Uint8Array(await readFile(DEMO_NPY)), DEMO_NPY);
  const [rows, dModel] = npy.shape;
  return {
    source: memorySource(npy.data, dModel, { shardRows: 8192, id: 'demo', name: 'demo' }),
    rows,
    dModel,
  };
}

/** Run `members` (indices into the spec) as one sweep; @returns the summaries and the stage times. */
async function runSweep(spec: SweepSpec, source: Awaited<ReturnType<typeof demoSource>>['source']) {
  const runner = new SweepRunner(spec, source, {
    createEngine: WasmCpuSaeEngine.create.bind(WasmCpuSaeEngine),
    checkpoints: new MemoryCheckpointStore(),
    onEvent: () => {},
  });
  const summaries = await runner.run();
  return { summaries, stages: runner.stages };
}

/** Build a sweep spec of a grid on the demo, grouped by the CPU engine's memory plan. @throws when refused. */
async function demoSpec(grid: SweepGrid, steps: number) {
  const d = await demoSource();
  const base: TrainConfig = { ...DEFAULT_CONFIG, ...DEMO_BASE, steps };
  const members = expandGrid(base, grid, { dModel: d.dModel, nTokens: d.rows });
  const plan = planGroups(
    members.map((m) => saeMemory(m.config, d.dModel, m.config.dSae ?? 0)),
    members.map((m) => `${m.config.architecture} k ${m.config.k}`),
    cpuLimits(),
  );
  if (!plan.ok) throw new Error(plan.message);
  const spec: SweepSpec = {
    id: 'sweep-node',
    name: 'node sweep',
    createdAt: Date.now(),
    datasetId: 'demo',
    datasetName: 'demo',
    grid,
    members: members.map((m, i) => ({ runId: `run-${i}`, config: m.config })),
    groups: plan.groups,
  };
  return { spec, d, plan };
}

const round = (x: number, n = 1) => Number(x.toFixed(n));
const stageJson = (s: SweepStages) => ({
  wall_ms: round(s.wallMs),
  read_ms: round(s.readMs),
  upload_ms: null,
  step_ms: round(s.stepMs),
  eval_ms: round(s.evalMs),
  batches_read: s.batchesRead,
  batches_served: s.batchesServed,
  held_out_read: s.heldOutRead,
});

/**
 * The `sweep` bench suite: N = 4 runs (TopK, BatchTopK × k 4, 16) at the demo's shape, once as one sweep and once as
 * 4 single runs (each a sweep of one, so both are timed the same way) before and after the sweep (the mean of the two
 * passes), on the same engine in one process.
 * upload_ms is null: the CPU engine copies a batch into its WebAssembly memory inside its step.
 */
export async function sweepBench(steps = 300) {
  const grid: SweepGrid = {
    architectures: ['topk', 'batchtopk'],
    dSaes: [512],
    sparsity: { k: [4, 16] },
    lrs: [1e-3],
  };
  const { spec, d } = await demoSpec(grid, steps);
  // Singles before and after the sweep (the machine's load drifts; both passes count, each SAE twice).
  const singles: SweepStages[] = [];
  const singlePass = async () => {
    for (let i = 0; i < spec.members.length; i++) {
      const one = { ...spec, members: [spec.members[i]], groups: [[0]] };
      singles.push((await runSweep(one, d.source)).stages);
    }
  };
  await singlePass();
  const sweep = await runSweep(spec, d.source);
  await singlePass();
  const sum: SweepStages = { ...singles[0] };
  for (const s of singles.slice(1)) {
    for (const key of Object.keys(sum) as Exclude<keyof SweepStages, 'gpu'>[]) sum[key] += s[key];
  }
  // Two passes: the sum of N single runs is half the total.
  for (const key of Object.keys(sum) as Exclude<keyof SweepStages, 'gpu'>[]) sum[key] /= 2;
  return {
    suite: 'sweep',
    adapter: {
      engine: 'cpu (WebAssembly SIMD, one thread)',
      runtime: `Node ${process.version}`,
      cpu: cpus()[0]?.model ?? '',
    },
    shape: { d_model: d.dModel, d_sae: 512, batch: 512, steps, n: spec.members.length },
    sweep: stageJson(sweep.stages),
    singles_sum: stageJson(sum),
    ratio_wall: round(sweep.stages.wallMs / sum.wallMs, 3),
    ratio_read: round(sweep.stages.readMs / sum.readMs, 3),
  };
}

/** The demo table: TopK vs BatchTopK × k ∈ {4, 8, 16, 32}, d_sae 512, 300 steps, as one sweep. */
export async function demoTable(steps = 300) {
  const archs: Architecture[] = ['topk', 'batchtopk'];
  const grid: SweepGrid = {
    architectures: archs,
    dSaes: [512],
    sparsity: { k: [4, 8, 16, 32] },
    lrs: [1e-3],
  };
  const { spec, d, plan } = await demoSpec(grid, steps);
  const { summaries, stages } = await runSweep(spec, d.source);
  const rows = spec.members.map((m, i) => {
    const s = summaries[i] as RunSummary;
    return {
      architecture: m.config.architecture,
      k: sparsityValue(m.config),
      heldOutEv: round(s.heldOut.explainedVariance, 4),
      fvu: round(s.heldOut.fvu, 4),
      mse: s.heldOut.mse,
      l0: round(s.heldOut.l0, 2),
      deadFraction: round(s.heldOut.deadFraction, 4),
      deadInWindow: s.deadInWindow,
    };
  });
  return { plan: plan.ok ? plan.message : '', stages: stageJson(stages), rows };
}
