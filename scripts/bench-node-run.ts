/**
 * The Node side of `npm run bench:node` (scripts/bench-node.mjs): the CPU engines (e2e/harness/cpu-bench.ts, the same
 * code as the browser bench's `cpu-step` suite), the harness's GPU suites on Node + Dawn, and the summary table.
 * Not a test: it asserts nothing about speed.
 */
import './dawn-globals';
import { runBench } from '../e2e/harness/bench';

export { CPU_SHAPES, cpuStepSuite } from '../e2e/harness/cpu-bench';

import { CPU_SHAPES, type CpuStepResult } from '../e2e/harness/cpu-bench';
import { chooseEngine, softwareAdapterName } from '../src/cpu/engine-choice';
import { Gpu } from '../src/gpu/device';
import type { SaeShape } from '../src/sae/types';

/** Seed 000's shape and GPT-2-small's, added on a hardware adapter. */
export const BIG_SHAPES: SaeShape[] = [
  { dModel: 2304, dSae: 18432, k: 32, batchSize: 4096 },
  { dModel: 768, dSae: 24576, k: 32, batchSize: 4096 },
];

/**
 * Our WGSL engine on Node + Dawn (the npm `webgpu` package): the harness's own `step` and `matmul` suites
 * (e2e/harness/bench.ts). On a hardware adapter the seed-000 and GPT-2-small shapes are added, the encoder tile is
 * autotuned before the step (suite `autotune`), and suite `gemm` times every encoder / matmul variant. @returns the adapter and each suite's JSON, or the reason no adapter was found
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
  const choice = chooseEngine({ adapter: gpu.adapter }, 'auto', 0);
  const out: Record<string, unknown> = {
    adapter: gpu.adapter,
    software_adapter: software,
    chosen_engine: { engine: choice.engine, reason: choice.reason },
  };
  // On a hardware adapter, tune the encoder tile first (as the lab worker does), and time every encoder / matmul
  // variant at every shape (suite `gemm`; minutes per shape on a software adapter, so only on hardware).
  if (!software) out.autotune = await runBench(gpu, { suite: 'autotune', reps: 3 });
  out.step = await runBench(gpu, { suite: 'step', reps, options: { shapes } });
  if (!software) out.gemm = await runBench(gpu, { suite: 'gemm', reps, options: { shapes } });
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
  /** Our fast CPU engine (threads) ÷ the same engine on one thread. */
  wasm_cpu_over_1thread?: number;
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
    row.wasm_cpu_over_1thread = ratio(s['wasm-cpu'], s['wasm-cpu-1thread']);
  }
  return [...rows.values()];
}

interface PeerLike {
  shape: { dModel: number; dSae: number; k: number; batchSize: number };
  stepMs: number;
}
