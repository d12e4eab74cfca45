/**
 * One training run of the real trainer (src/train/trainer.ts) on the CPU engine (src/reference/sae-engine.ts) in
 * Node, on a 2-D '<f4' .npy of activations. The GPU's numbers come from the browser (e2e/arch-train.spec.ts,
 * `npm run bench -- arch-demo`); this is for sweeps that would take hours on a CPU WebGPU adapter, such as the AuxK
 * measurements in src/sae/README.md. Started by scripts/cpu-train.mjs (`npm run cpu-train -- --help`).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { WasmCpuSaeEngine } from '../src/cpu/sae-engine';
import { CpuSaeEngine } from '../src/reference/sae-engine';
import type { SaeEngine, SaeParams } from '../src/sae/types';
import { MemoryCheckpointStore } from '../src/train/checkpoint';
import { DEFAULT_CONFIG, deadWindowSteps, type TrainConfig } from '../src/train/config';
import { memorySource } from '../src/train/testing/memory-source';
import { parseNpyF32 } from '../src/train/testing/npy';
import { type RunSummary, type TrainEvent, Trainer } from '../src/train/trainer';
import { Rng } from '../src/util/rng';

/** The built-in demo dataset: stories260K resid_post.2 activations, [81,790, 64] '<f4' (public/demo/README.md). */
export const DEMO_NPY = resolve(import.meta.dirname, '../public/demo/stories260K.resid_post.2.f32.npy');

/** Options of {@link cpuTrain}. */
export interface CpuTrainOptions {
  /** Path of a 2-D little-endian float32 .npy [tokens, d_model]. */
  npy: string;
  /** Fields of TrainConfig that differ from DEFAULT_CONFIG. */
  config: Partial<TrainConfig>;
  /**
   * A deliberately bad init scale: W_enc column s is multiplied by exp(−shrink·|n_s|), n_s ~ N(0, 1) from
   * Rng(seed + 1) — the same rule as the browser harness's `encoderSpread` (e2e/harness/checks/train-run.ts).
   * 0 = the normal init.
   */
  encoderShrink: number;
  /** Print the dead-latent trace (dead, revived, newly dead, mean encoder-column norms) every this many steps; 0 = off. */
  traceEvery: number;
  /** Where progress lines go. */
  log: (line: string) => void;
  /** Called once the run ends, with the trained engine and the summary (e.g. to evaluate the SAE further). */
  onDone?: (engine: SaeEngine, summary: RunSummary) => Promise<void>;
  /**
   * Which CPU engine trains: 'wasm' (default) the fast WebAssembly engine (src/cpu/sae-engine.ts), bit-identical to
   * the oracle (src/cpu/sae-engine.test.ts checks every architecture over 50 steps), ~25× faster; 'oracle' the plain
   * test oracle (src/reference/sae-engine.ts). The dead-latent trace (traceEvery > 0) reads the oracle's state, so
   * it always runs on the oracle.
   */
  engine?: 'wasm' | 'oracle';
}

/**
 * Run the trainer to the end on the CPU engine. Returns the held-out metrics and the dead-latent counts.
 * @throws Error naming the file when it cannot be read or parsed, or when the run fails.
 */
export async function cpuTrain(o: CpuTrainOptions) {
  const bytes = await readFile(o.npy);
  const npy = parseNpyF32(new Uint8Array(bytes), o.npy);
  const [rows, dModel] = npy.shape;
  const config: TrainConfig = { ...DEFAULT_CONFIG, ...o.config };
  const source = memorySource(npy.data, dModel, { shardRows: 8192, id: 'cpu-train', name: o.npy });
  let engine: SaeEngine | undefined;
  let oracle: CpuSaeEngine | undefined;
  const useOracle = o.engine === 'oracle' || o.traceEvery > 0;
  let step = 0;
  let prevDead: Set<number> | null = null;
  const events: TrainEvent[] = [];
  const t0 = performance.now();
  const trace = () => {
    if (!oracle) return;
    // Test-only reach into the oracle's private state: the counters and W_enc.
    const inner = oracle as unknown as { stepsSinceFired: Uint32Array; params: SaeParams };
    const S = oracle.shape.dSae;
    const D = oracle.shape.dModel;
    const window = deadWindowSteps(config);
    const dead = new Set<number>();
    for (let s = 0; s < S; s++) if (inner.stepsSinceFired[s] >= window) dead.add(s);
    let normDead = 0;
    let normLive = 0;
    for (let s = 0; s < S; s++) {
      let n2 = 0;
      for (let d = 0; d < D; d++) n2 += inner.params.wEnc[d * S + s] ** 2;
      if (dead.has(s)) normDead += Math.sqrt(n2);
      else normLive += Math.sqrt(n2);
    }
    const revived = prevDead ? [...prevDead].filter((s) => !dead.has(s)).length : 0;
    const newlyDead = prevDead ? [...dead].filter((s) => !prevDead?.has(s)).length : dead.size;
    prevDead = dead;
    const mean = (sum: number, n: number) => (n > 0 ? (sum / n).toFixed(3) : '-');
    o.log(
      `step ${step}: dead ${dead.size} (silent ≥ ${window} steps), revived ${revived}, newly dead ${newlyDead}; ` +
        `mean ‖W_enc[:, s]‖ dead ${mean(normDead, dead.size)}, live ${mean(normLive, S - dead.size)}`,
    );
  };
  const trainer = await Trainer.start(config, source, {
    createEngine: async (shape, init: SaeParams) => {
      if (o.encoderShrink > 0) {
        const rng = new Rng(config.seed + 1);
        for (let s = 0; s < shape.dSae; s++) {
          const f = Math.exp(-o.encoderShrink * Math.abs(rng.normal()));
          for (let d = 0; d < shape.dModel; d++) init.wEnc[d * shape.dSae + s] *= f;
        }
      }
      if (useOracle) {
        oracle = new CpuSaeEngine(shape, init);
        engine = oracle;
      } else engine = await WasmCpuSaeEngine.create(shape, init);
      return engine;
    },
    checkpoints: new MemoryCheckpointStore(),
    onEvent: (e) => {
      events.push(e);
      if (e.type !== 'metrics') return;
      step = e.point.step;
      if (o.traceEvery > 0 && step % o.traceEvery === 0) trace();
    },
    adapter: useOracle ? 'CPU oracle (Node)' : 'fast CPU engine, WebAssembly (Node)',
    readbackIntervalMs: 0,
  });
  const summary = await trainer.run();
  if (!summary) {
    const error = events.find((e) => e.type === 'error');
    throw new Error(`${o.npy}: the run failed: ${error?.type === 'error' ? error.message : 'no summary'}`);
  }
  if (o.onDone && engine) await o.onDone(engine, summary);
  const points = events.flatMap((e) => (e.type === 'metrics' ? [e.point] : []));
  return {
    data: { file: o.npy, rows, d_model: dModel },
    config: o.config,
    encoder_shrink: o.encoderShrink,
    steps: summary.steps,
    wall_s: Math.round((performance.now() - t0) / 100) / 10,
    held_out: summary.heldOut,
    held_out_tokens: summary.sampleTokens,
    dead_in_window: summary.deadInWindow,
    mean_threshold: summary.meanThreshold,
    /** Per sampled step (every step here): training L0, MSE, AuxK loss and sparsity loss (TrainPoint fields). */
    series: {
      l0: points.map((q) => q.l0),
      mse: points.map((q) => q.mse),
      auxkLoss: points.map((q) => q.auxkLoss),
      sparsityLoss: points.map((q) => q.sparsityLoss),
    },
  };
}
