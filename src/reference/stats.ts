/**
 * CPU twin of shaders/stats.wgsl: the raw sums of a training step (see {@link StepStats}) and the per-latent
 * "steps since fired" counters, updated in place. Turn the sums into metrics with src/sae/metrics.ts.
 *
 * Shape legend: R = rows (tokens), D = d_model, S = d_sae.
 *   sse = Σ_r ‖x_r − x̂_r‖²;  sst = Σ_r ‖x_r − x̄‖² with x̄ the mean of the R rows (explained variance, seed
 *   003_f847dc3b6a976c85.txt);  l0Sum = Σ_s fireCounts[s];  firedInBatch = #{s : fireCounts[s] > 0};
 *   stepsSinceFired[s] ← 0 if the latent fired else +1 (saturating at 2³²−1);  deadCount = #{s : stepsSinceFired ≥ window}.
 * The GPU sums in float32 with tree reductions; this twin sums in float64 (they agree to ~1e-6 relative).
 */
import { sumSquaredDeviation } from '../sae/formulas';
import type { StepStats } from '../sae/types';
import { ROW_STATS } from './decode';
import { needLength } from './encoder';

export { sumSquaredDeviation } from '../sae/formulas';

/**
 * Step sums and dead-latent counters (auxkLoss and sparsityLoss are returned as 0; the engine fills them in).
 * @param x f32 [R, D] the batch; @param rowStats f32 [R, 4] from the decoder (column 0 = per-row SSE)
 * @param fireCounts u32 [S] tokens each latent fired on in this batch
 * @param stepsSinceFired u32 [S], updated in place
 * @param deadWindowSteps a latent is dead when stepsSinceFired ≥ this
 */
export function stepStatsCpu(
  x: Float32Array,
  rowStats: Float32Array,
  fireCounts: Uint32Array,
  stepsSinceFired: Uint32Array,
  deadWindowSteps: number,
  rows: number,
  dModel: number,
): StepStats {
  const S = fireCounts.length;
  needLength('stepStatsCpu', 'rowStats', rowStats, rows * ROW_STATS);
  needLength('stepStatsCpu', 'stepsSinceFired', stepsSinceFired, S);
  let sse = 0;
  for (let r = 0; r < rows; r++) sse += rowStats[r * ROW_STATS];
  let l0Sum = 0;
  let firedInBatch = 0;
  let deadCount = 0;
  for (let s = 0; s < S; s++) {
    const c = fireCounts[s];
    l0Sum += c;
    if (c > 0) {
      firedInBatch++;
      stepsSinceFired[s] = 0;
    } else if (stepsSinceFired[s] < 0xffffffff) {
      stepsSinceFired[s]++;
    }
    if (stepsSinceFired[s] >= deadWindowSteps) deadCount++;
  }
  return {
    nTokens: rows,
    sse,
    sst: sumSquaredDeviation(x, rows, dModel),
    l0Sum,
    firedInBatch,
    deadCount,
    auxkLoss: 0,
    sparsityLoss: 0,
  };
}
