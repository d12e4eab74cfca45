/**
 * Divergence of a run: the loss or a parameter became NaN/±Inf. The trainer stops at the first readback that sees
 * the engines' sticky non-finite flag (StepStats.nonFinite) or a non-finite loss, never checkpoints non-finite
 * weights, and reports a {@link Divergence} so the UI can offer "resume from the last good checkpoint at η/2".
 */
import { paramsNonFinite } from '../reference/nonfinite';
import type { SaeParams, StepStats } from '../sae/types';

/** What the UI needs to offer a retry. Plain data. */
export interface Divergence {
  /** Step (1-based count of steps done) at which the non-finite value was seen. */
  step: number;
  /** Last step known to be finite (a clean readback or a saved checkpoint); 0 = none. */
  lastFiniteStep: number;
  /** Step of the last good checkpoint of this run, or null when none was saved. */
  checkpointStep: number | null;
  /** The run's peak learning rate η. */
  lr: number;
}

/** Thrown inside the training loop when the run diverged; carries the {@link Divergence}. */
export class DivergenceError extends Error {
  readonly divergence: Divergence;
  constructor(d: Divergence) {
    super(divergenceMessage(d));
    this.name = 'DivergenceError';
    this.divergence = d;
  }
}

/** "loss became NaN at step N (last finite at step M); lower the learning rate (now η)". */
export function divergenceMessage(d: Divergence): string {
  return (
    `loss became NaN at step ${d.step} (last finite at step ${d.lastFiniteStep}); ` +
    `lower the learning rate (now ${d.lr})`
  );
}

/** True when a step's stats show a divergence: the sticky flag, or a non-finite SSE. */
export function statsDiverged(s: StepStats): boolean {
  return s.nonFinite === true || !Number.isFinite(s.sse) || !Number.isFinite(s.sst);
}

/** True when the parameters about to be checkpointed hold a NaN/±Inf. */
export function stateDiverged(params: SaeParams): boolean {
  return paramsNonFinite(params);
}
