/**
 * Collapse checks of a run: pure functions of held-out metrics, parameterised by what the architecture HAS (a
 * fixed k, a threshold θ) — never by its name — so that each architecture's registry entry can carry its own
 * `collapse` capabilities.
 *
 * A run collapsed when, on held-out data (src/sae/metrics.ts EvalMetrics):
 *   - 'l0-below-half-k'   L0 < k/2 for an SAE with a fixed k (TopK, BatchTopK): most tokens keep almost nothing;
 *   - 'dead-majority'     held-out dead fraction > 50%: most latents fired on none of the evaluated tokens;
 *   - 'negative-ev'       explained variance < 0: worse than predicting the mean;
 *   - 'threshold-non-finite'  the mean threshold θ is NaN/±Inf (architectures with θ).
 * Each warning says what was seen and what to try.
 */
import { archSpec } from '../sae/archs';
import type { CollapseCapabilities } from '../sae/archs/spec';
import type { Architecture } from '../sae/types';

export type { CollapseCapabilities };

/** The capabilities of an architecture, from its registry spec (src/sae/archs/<name>.ts `collapse`). */
export function collapseCapabilities(architecture: Architecture): CollapseCapabilities {
  return archSpec(architecture).collapse;
}

/** The held-out facts a check reads. */
export interface CollapseInput {
  /** Held-out mean L0 (latents per token). */
  l0: number;
  /** Held-out dead fraction in [0, 1] (latents that fired on no evaluated token). */
  deadFraction: number;
  /** Held-out explained variance (1 − FVU). */
  explainedVariance: number;
  /** k of the run (used when fixedK). */
  k: number;
  /** Mean threshold θ over latents, null when the architecture has none. */
  meanThreshold: number | null;
}

/** Which collapse was seen. */
export type CollapseCode = 'l0-below-half-k' | 'dead-majority' | 'negative-ev' | 'threshold-non-finite';

/** One warning: a stable code, what was seen, what to try. Plain data. */
export interface CollapseWarning {
  code: CollapseCode;
  /** What was measured, e.g. "held-out L0 is 0.00, below k/2 = 4". */
  message: string;
  /** What to try. */
  advice: string;
}

/** Held-out dead fraction above which a run counts as collapsed. */
export const DEAD_FRACTION_LIMIT = 0.5;

/**
 * Run every check that applies to `caps` on `m`. @returns the warnings, in a fixed order (empty = healthy).
 * Non-finite inputs fail their check (a NaN L0 is not "fine").
 */
export function collapseChecks(m: CollapseInput, caps: CollapseCapabilities): CollapseWarning[] {
  const out: CollapseWarning[] = [];
  if (caps.fixedK && !(m.l0 >= m.k / 2)) {
    out.push({
      code: 'l0-below-half-k',
      message: `held-out L0 is ${fmt(m.l0)}, below k/2 = ${fmt(m.k / 2)}`,
      advice: 'lower the learning rate, turn on AuxK, or train longer from a new seed',
    });
  }
  if (!(m.deadFraction <= DEAD_FRACTION_LIMIT)) {
    out.push({
      code: 'dead-majority',
      message: `${fmt(m.deadFraction * 100)}% of the latents never fired on the held-out sample (limit ${DEAD_FRACTION_LIMIT * 100}%)`,
      advice: 'turn on AuxK (TopK, BatchTopK), lower the sparsity coefficient, or lower the learning rate',
    });
  }
  if (!(m.explainedVariance >= 0)) {
    out.push({
      code: 'negative-ev',
      message: `held-out explained variance is ${fmt(m.explainedVariance)}: worse than predicting the mean`,
      advice: 'lower the learning rate or the sparsity coefficient, and check that normalisation is on',
    });
  }
  if (caps.hasThreshold && m.meanThreshold !== null && !Number.isFinite(m.meanThreshold)) {
    out.push({
      code: 'threshold-non-finite',
      message: `the mean threshold θ is ${m.meanThreshold}`,
      advice: 'lower the learning rate or the θ learning-rate factor',
    });
  }
  return out;
}

/** Merge warning lists, keeping the first warning of each code. */
export function mergeWarnings(
  a: readonly CollapseWarning[],
  b: readonly CollapseWarning[],
): CollapseWarning[] {
  const seen = new Set(a.map((w) => w.code));
  return [...a, ...b.filter((w) => !seen.has(w.code))];
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 100) / 100) : String(x);
}
