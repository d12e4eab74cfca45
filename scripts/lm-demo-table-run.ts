/**
 * The demo table of behavioural metrics: trains SAEs on the built-in demo dataset with the real trainer on the CPU
 * engine (scripts/cpu-train-run.ts) and scores each with patched CE (src/lm/corpus-cpu.ts, src/sae/metrics.ts) on the
 * held-out documents — the documents of public/demo/stories260K.tokens.npy that lie wholly in the run's held-out
 * split. Started by scripts/lm-demo-table.mjs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseLlamaCheckpoint } from '../src/lm/checkpoint';
import { patchedCeCpu } from '../src/lm/corpus-cpu';
import { inferenceSaeFromParams, saeSplice } from '../src/lm/sae-splice';
import { heldOutDocuments } from '../src/lm/text';
import { patchedCeMetrics } from '../src/sae/metrics';
import { DEFAULT_CONFIG, splitRows, type TrainConfig } from '../src/train/config';
import { cpuTrain } from './cpu-train-run';

const root = resolve(import.meta.dirname, '..');

/** Token ids of the demo dataset (int32 .npy). */
export function demoTokens(): Int32Array {
  const b = new Uint8Array(readFileSync(resolve(root, 'public/demo/stories260K.tokens.npy')));
  const headerLen = new DataView(b.buffer, b.byteOffset).getUint16(8, true);
  return new Int32Array(b.slice(10 + headerLen).buffer);
}

/** One row of the table. */
export interface DemoRow {
  label: string;
  config: Partial<TrainConfig>;
}

/** The five runs (d_sae 512, batch 512, 300 steps, lr 3e-3, seed 42 as in src/sae/README.md's demo table). */
export const DEMO_ROWS: DemoRow[] = [
  { label: 'TopK k 8', config: { architecture: 'topk', k: 8 } },
  { label: 'TopK k 32', config: { architecture: 'topk', k: 32 } },
  { label: 'BatchTopK k 8', config: { architecture: 'batchtopk', k: 8 } },
  { label: 'JumpReLU', config: { architecture: 'jumprelu' } },
  { label: 'ReLU + L1', config: { architecture: 'relu' } },
];

/** Train and score every row; log gets progress lines. */
export async function demoTable(rows: DemoRow[], log: (s: string) => void) {
  const model = parseLlamaCheckpoint(
    new Uint8Array(readFileSync(resolve(root, 'public/lm/stories260K.bin'))),
    'stories260K.bin',
  );
  const tokens = demoTokens();
  const out: Record<string, unknown>[] = [];
  for (const row of rows) {
    const config = { dSae: 512, batchSize: 512, steps: 300, lr: 3e-3, seed: 42, ...row.config };
    const { trainRows } = splitRows(tokens.length, { ...DEFAULT_CONFIG, ...config }.heldOutFraction);
    const docs = heldOutDocuments(tokens, trainRows).map(([a, b]) => tokens.subarray(a, b));
    let scored: Record<string, unknown> = {};
    const t0 = performance.now();
    const train = await cpuTrain({
      npy: resolve(root, 'public/demo/stories260K.resid_post.2.f32.npy'),
      config,
      encoderShrink: 0,
      traceEvery: 0,
      log,
      onDone: async (engine, summary) => {
        const state = await engine.getState();
        const sae = inferenceSaeFromParams(state.params, engine.shape, summary.scale);
        const m = patchedCeMetrics(patchedCeCpu(model, docs, 'blocks.2.hook_resid_post', saeSplice(sae)), 0);
        scored = { patched: m };
      },
    });
    out.push({ label: row.label, ev: train.held_out, ...scored, wall_s: (performance.now() - t0) / 1000 });
    log(`${row.label}: ${JSON.stringify(out[out.length - 1])}`);
  }
  return out;
}
