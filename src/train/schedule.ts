/**
 * Learning-rate schedule: linear warmup, then constant, then a decay to 0 over the last part of the run.
 *
 * For step t (0-based) of T steps, warmup W, decay length Dn = ceil(decayFraction · T) (0 when decay = 'none'):
 *   t < W            η_t = η · (t + 1) / W                      (linear warmup; the first step is not 0)
 *   W ≤ t < T − Dn   η_t = η                                    (constant)
 *   t ≥ T − Dn       p = (t − (T − Dn)) / Dn ∈ [0, 1)
 *                    cosine: η_t = η · ½(1 + cos(π p))    linear: η_t = η · (1 − p)
 * so the rate reaches 0 just after the last step (no step is wasted at η = 0). Warmup takes precedence where
 * the two overlap (validation forbids the overlap for user configs).
 * This is the SAELens shape (warm-up steps then decay steps); Gemma Scope §3.2 (seed 004) warms up over 1,000
 * steps; a decay over the whole run cost the 300-step demo run several points of explained variance, hence the
 * default tail of 20%.
 */
import type { StepHyper } from '../sae/types';
import { auxkDeadWindowSteps, deadWindowSteps, sparsityCoeff, type TrainConfig } from './config';

/** The schedule fields of a {@link TrainConfig}. */
export type ScheduleConfig = Pick<TrainConfig, 'lr' | 'steps' | 'warmupSteps' | 'decay' | 'decayFraction'>;

/** Number of steps at the end of the run over which the rate decays (0 for 'none'). */
export function decaySteps(c: ScheduleConfig): number {
  return c.decay === 'none' ? 0 : Math.min(c.steps, Math.ceil(c.decayFraction * c.steps));
}

/**
 * Learning rate of step `t` (0-based), see the module comment for the formula.
 * @throws RangeError when t is outside [0, steps).
 */
export function learningRate(c: ScheduleConfig, t: number): number {
  if (!(t >= 0 && t < c.steps)) throw new RangeError(`learningRate: step ${t} is outside [0, ${c.steps})`);
  if (t < c.warmupSteps) return (c.lr * (t + 1)) / c.warmupSteps;
  const dn = decaySteps(c);
  const start = c.steps - dn;
  if (dn === 0 || t < start) return c.lr;
  const p = (t - start) / dn;
  return c.decay === 'cosine' ? c.lr * 0.5 * (1 + Math.cos(Math.PI * p)) : c.lr * (1 - p);
}

/**
 * The engine's hyper-parameters for step `t` (0-based) of a run of `c`: η_t ({@link learningRate}), Adam's β1, β2, ε,
 * the dead-latent window in steps (deadWindowSteps), λ_t (sparsityCoeff) and AuxK's dead window
 * (auxkDeadWindowSteps). The one place a StepHyper is built: the trainer's steps and the worker's step-time probe.
 * @throws RangeError when t is outside [0, steps).
 */
export function stepHyper(c: TrainConfig, t: number): StepHyper {
  return {
    lr: learningRate(c, t),
    beta1: c.beta1,
    beta2: c.beta2,
    eps: c.eps,
    deadWindowSteps: deadWindowSteps(c),
    sparsityCoeff: sparsityCoeff(c, t),
    auxkDeadWindowSteps: auxkDeadWindowSteps(c),
  };
}
