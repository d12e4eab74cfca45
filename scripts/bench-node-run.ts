/**
 * The Node side of `npm run bench:node` (scripts/bench-node.mjs): times the fast CPU engine (src/cpu/sae-engine.ts)
 * and the oracle (src/reference/sae-engine.ts) on the issue-17 TopK shapes, in this process, and reports median
 * step ms, tokens/s, the encoder matmul's GFLOP/s (2·B·D·S flops) and step ÷ encoder. Not a test: it asserts
 * nothing about speed.
 */
import './dawn-globals';
import { runBench } from '../e2e/harness/bench';
import { softwareAdapterName } from '../src/cpu/engine-choice';
import { WasmCpuSaeEngine } from '../src/cpu/sae-engine';
import { WasmArena } from '../src/cpu/wasm';
import { Gpu } from '../src/gpu/device';
import { CpuSaeEngine } from '../src/reference/sae-engine';
import { initSaeParams } from '../src/sae/init';
import type { SaeShape, StepHyper } from '../src/sae/types';
import { Rng } from '../src/util/rng';

/** [d_model, d_sae, k, batch] of the table. */
export const CPU_SHAPES: [number, number, number, number][] = [
  [64, 512, 8, 1024],
  [256, 2048, 32, 1024],
];

const HYPER: StepHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, deadWindowSteps: 1000 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One case's result. */
export interface CpuStepResult {
  shape: { dModel: number; dSae: number; k: number; batchSize: number };
  engine: 'wasm-cpu' | 'oracle';
  /** Median ms of one training step over `rounds` rounds (each the mean of `stepsPerRound` steps). */
  stepMs: number;
  tokensPerSec: number;
  /** Median ms of the encoder matmul alone (wasm kernel; for the oracle, its plain loop inside the step). */
  encoderMs?: number;
  encoderGflops?: number;
  stepOverEncoder?: number;
  rounds: number;
  stepsPerRound: number;
}

/**
 * Time both CPU engines on each shape. @param rounds medians over this many rounds (default 3)
 * @param oracle also time the oracle (slow: ~1 s/step at the larger shape)
 */
export async function cpuStepSuite(
  rounds = 3,
  oracle = true,
  shapes: [number, number, number, number][] = CPU_SHAPES,
): Promise<CpuStepResult[]> {
  const out: CpuStepResult[] = [];
  for (const [dModel, dSae, k, batchSize] of shapes) {
    const shape: SaeShape = { dModel, dSae, k, batchSize };
    const rng = new Rng(17);
    const x = rng.normalArray(batchSize * dModel);
    const init = initSaeParams(shape, 1, x);
    const fast = await WasmCpuSaeEngine.create(shape, init);
    const stepsPerRound = Math.max(1, Math.round(2e9 / (batchSize * dModel * dSae * 2)));
    const time = async (step: () => Promise<unknown> | unknown, n: number): Promise<number[]> => {
      await step();
      const samples: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await step();
        samples.push((performance.now() - t0) / n);
      }
      return samples;
    };
    const stepMs = median(await time(() => fast.stepSync(x, HYPER), stepsPerRound));
    // The encoder alone: the same wasm matmul the step runs.
    const a = await WasmArena.create();
    const pa = a.alloc(batchSize * dModel);
    const pb = a.alloc(dModel * dSae);
    const pbias = a.alloc(dSae);
    const pc = a.alloc(batchSize * dSae);
    a.f32(pa, batchSize * dModel).set(x);
    a.f32(pb, dModel * dSae).set(init.wEnc);
    const encoderMs = median(
      await time(() => a.k.matmul(pa, pb, pbias, pc, batchSize, dSae, dModel), stepsPerRound),
    );
    const flops = 2 * batchSize * dModel * dSae;
    out.push({
      shape: { dModel, dSae, k, batchSize },
      engine: 'wasm-cpu',
      stepMs,
      tokensPerSec: (batchSize * 1000) / stepMs,
      encoderMs,
      encoderGflops: flops / (encoderMs * 1e6),
      stepOverEncoder: stepMs / encoderMs,
      rounds,
      stepsPerRound,
    });
    if (oracle) {
      const ref = new CpuSaeEngine(shape, init);
      const refMs = median(await time(() => ref.stepSync(x, HYPER), 1));
      out.push({
        shape: { dModel, dSae, k, batchSize },
        engine: 'oracle',
        stepMs: refMs,
        tokensPerSec: (batchSize * 1000) / refMs,
        rounds,
        stepsPerRound: 1,
      });
    }
  }
  return out;
}

/** Seed 000's shape and GPT-2-small's, added on a hardware adapter. */
export const BIG_SHAPES: SaeShape[] = [
  { dModel: 2304, dSae: 18432, k: 32, batchSize: 4096 },
  { dModel: 768, dSae: 24576, k: 32, batchSize: 4096 },
];

/**
 * Our WGSL engine on Node + Dawn (the npm `webgpu` package): the harness's own `step` and `matmul` suites
 * (e2e/harness/bench.ts). On a hardware adapter the seed-000 and GPT-2-small shapes are added. @returns the adapter and each suite's JSON, or the reason no adapter was found
 */
export async function dawnSuites(reps: number): Promise<Record<string, unknown>> {
  let gpu: Gpu;
  try {
    gpu = await Gpu.create({ label: 'bench-node' });
  } catch (e) {
    return { error: (e as Error).message };
  }
  const software = softwareAdapterName(gpu.adapter);
  const shapes: SaeShape[] = CPU_SHAPES.map(([dModel, dSae, k, batchSize]) => ({
    dModel,
    dSae,
    k,
    batchSize,
  }));
  if (!software) shapes.push(...BIG_SHAPES);
  const out: Record<string, unknown> = { adapter: gpu.adapter, software_adapter: software };
  out.step = await runBench(gpu, { suite: 'step', reps, options: { shapes } });
  out.matmul = await runBench(gpu, { suite: 'matmul', reps });
  gpu.destroy();
  return out;
}

/** One row of the summary: a shape, every engine's median step ms and the ratios to the peers. */
export interface SummaryRow {
  shape: string;
  /** Engine → median step ms (missing when not measured). */
  step_ms: Record<string, number>;
  /** Our WGSL step ÷ TF.js-webgpu on the same adapter (< 1: ours faster). */
  wgsl_over_tfjs_webgpu?: number;
  /** Our fast CPU engine ÷ TF.js wasm (< 1: ours faster). */
  wasm_cpu_over_tfjs_wasm?: number;
  /** Our fast CPU engine ÷ the oracle. */
  wasm_cpu_over_oracle?: number;
}

type Json = Record<string, unknown>;

/** The summary table of a bench:node document (see scripts/bench-node.mjs). */
export function summaryTable(doc: Json): SummaryRow[] {
  const key = (s: { dModel?: number; dSae?: number; k?: number; batchSize?: number } & Json) =>
    `${s.dModel ?? s.d_model}/${s.dSae ?? s.d_sae}/${s.k}/${s.batchSize ?? s.batch}`;
  const rows = new Map<string, SummaryRow>();
  const put = (shape: Json, engine: string, ms: number) => {
    const k = key(shape);
    if (!rows.has(k)) rows.set(k, { shape: k, step_ms: {} });
    (rows.get(k) as SummaryRow).step_ms[engine] = Number(ms.toPrecision(4));
  };
  const dawnPeer = doc.tfjs_webgpu as PeerLike[] | undefined;
  for (const r of (doc.cpu_step as CpuStepResult[] | undefined) ?? [])
    put(r.shape as unknown as Json, r.engine, r.stepMs);
  if (Array.isArray(doc.tfjs_wasm))
    for (const r of doc.tfjs_wasm as PeerLike[]) put(r.shape as unknown as Json, 'tfjs-wasm', r.stepMs);
  const dawn = doc.dawn as Json | undefined;
  if (dawn && Array.isArray(dawn.step))
    for (const r of dawn.step as Json[]) put(r.shape as Json, 'wgsl-dawn', r.step_median_ms as number);
  if (Array.isArray(dawnPeer))
    for (const r of dawnPeer) put(r.shape as unknown as Json, 'tfjs-webgpu-dawn', r.stepMs);
  const ratio = (a?: number, b?: number) => (a && b ? Number((a / b).toPrecision(3)) : undefined);
  for (const row of rows.values()) {
    const s = row.step_ms;
    row.wgsl_over_tfjs_webgpu = ratio(s['wgsl-dawn'], s['tfjs-webgpu-dawn']);
    row.wasm_cpu_over_tfjs_wasm = ratio(s['wasm-cpu'], s['tfjs-wasm']);
    row.wasm_cpu_over_oracle = ratio(s['wasm-cpu'], s.oracle);
  }
  return [...rows.values()];
}

interface PeerLike {
  shape: { dModel: number; dSae: number; k: number; batchSize: number };
  stepMs: number;
}
