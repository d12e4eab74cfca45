/**
 * Helpers of the demo-run tests (scripts/demo-*.test.ts): 300-step runs of the real trainer on the CPU engine in
 * Node on the built-in demo dataset, which stand for the GPU's (e2e/arch-step.spec.ts ties the two engines).
 */
import type { TrainConfig } from '../src/train/config';
import { type CpuTrainOptions, cpuTrain, DEMO_NPY } from './cpu-train-run';

/** The demo run of the issue: d_sae = 512, batch 512, 300 steps, k 8 (other fields: the trainer's defaults). */
export const DEMO: Partial<TrainConfig> = { dSae: 512, batchSize: 512, steps: 300, k: 8, lr: 1e-3, seed: 42 };

/**
 * One demo run on the CPU engine; prints its held-out numbers.
 * @param encoderShrink the bad-init rule of cpuTrain (0 = the normal init).
 * @param onDone called with the trained engine (e.g. to read its parameters).
 * @throws Error when the run fails.
 */
export async function demo(
  config: Partial<TrainConfig>,
  encoderShrink = 0,
  onDone?: CpuTrainOptions['onDone'],
) {
  const r = await cpuTrain({ npy: DEMO_NPY, config, encoderShrink, traceEvery: 0, log: () => {}, onDone });
  const h = r.held_out;
  console.log(
    `[demo ${JSON.stringify(config)}] ${r.steps} steps in ${r.wall_s} s: held-out EV ${h.explainedVariance.toFixed(4)}, ` +
      `FVU ${h.fvu.toFixed(4)}, L0 ${h.l0.toFixed(2)}, dead fraction ${h.deadFraction.toFixed(4)}; ` +
      `dead in window ${r.dead_in_window}${r.mean_threshold !== null ? `; mean θ ${r.mean_threshold.toFixed(3)}` : ''}`,
  );
  return r;
}

/** Arithmetic mean of a non-empty list. */
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Ten minutes: a 300-step demo run takes 40–120 s of one core, more on a shared machine. */
export const LONG_MS = 600_000;
