/**
 * The CPU engines' bench, shared by the browser harness (suite `cpu-step` of e2e/harness/bench.ts) and
 * `npm run bench:node`: the fast CPU engine (src/cpu/sae-engine.ts; with the threads the context allows, and on one
 * thread) and the oracle (src/reference/sae-engine.ts) on
 * the issue-17 TopK shapes; median step ms, tokens/s, the wasm encoder matmul's GFLOP/s (2·B·D·S flops) and
 * step ÷ encoder. Not a test: it asserts nothing about speed.
 */
import { WasmCpuSaeEngine } from '../../src/cpu/sae-engine';
import { defaultCpuThreads } from '../../src/cpu/threads';
import { WasmArena } from '../../src/cpu/wasm';
import { CpuSaeEngine } from '../../src/reference/sae-engine';
import { initSaeParams } from '../../src/sae/init';
import type { SaeShape, StepHyper } from '../../src/sae/types';
import { Rng } from '../../src/util/rng';

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
  /** wasm-cpu: the fast engine as the app creates it (threads where allowed); wasm-cpu-1thread: on one thread. */
  engine: 'wasm-cpu' | 'wasm-cpu-1thread' | 'oracle';
  /** Threads of the fast engine (the caller included). */
  threads?: number;
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
    // The engine as the app creates it (threads where allowed), then on one thread when that differs.
    const auto = await defaultCpuThreads();
    for (const threads of auto > 1 ? [auto, 1] : [1]) {
      const fast = await WasmCpuSaeEngine.create(shape, init, { threads });
      const stepMs = median(await time(() => fast.stepSync(x, HYPER), stepsPerRound));
      fast.destroy();
      // The encoder alone: the same wasm matmul the step runs, on the same number of threads.
      const a = await WasmArena.create({ threads });
      const pa = a.alloc(batchSize * dModel);
      const pb = a.alloc(dModel * dSae);
      const pbias = a.alloc(dSae);
      const pc = a.alloc(batchSize * dSae);
      a.f32(pa, batchSize * dModel).set(x);
      a.f32(pb, dModel * dSae).set(init.wEnc);
      const encoderMs = median(
        await time(() => a.k.matmul(pa, pb, pbias, pc, batchSize, dSae, dModel), stepsPerRound),
      );
      a.destroy();
      const flops = 2 * batchSize * dModel * dSae;
      out.push({
        shape: { dModel, dSae, k, batchSize },
        engine: threads === auto ? 'wasm-cpu' : 'wasm-cpu-1thread',
        threads,
        stepMs,
        tokensPerSec: (batchSize * 1000) / stepMs,
        encoderMs,
        encoderGflops: flops / (encoderMs * 1e6),
        stepOverEncoder: stepMs / encoderMs,
        rounds,
        stepsPerRound,
      });
    }
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
