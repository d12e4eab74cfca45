/**
 * Helpers for the architectures' SAELens v6 training keywords (ArchSpec.saeLens.training, written out by
 * src/runs/saelens-script.ts): Python literals and the AuxK keyword shared by the TopK-like architectures.
 */
import type { TrainConfig } from '../../train/config';
import type { SaeLensKw } from './spec';

/** A number, string, boolean or null as a Python literal (integers stay integers, other numbers keep a dot). */
export function py(x: number | string | boolean | null): string {
  if (x === null) return 'None';
  if (typeof x === 'boolean') return x ? 'True' : 'False';
  if (typeof x === 'string') return JSON.stringify(x);
  if (Number.isInteger(x)) return String(x);
  return String(x).includes('e') || String(x).includes('.') ? String(x) : `${x}.0`;
}

/**
 * SAELens `aux_loss_coefficient` of a run: 32·α when AuxK is on (the browser's α is relative to FVU), else 0.0.
 */
export function auxkKw(c: Pick<TrainConfig, 'auxk' | 'auxkAlpha'>): SaeLensKw {
  return c.auxk
    ? [
        'aux_loss_coefficient',
        py(c.auxkAlpha * 32),
        `browser AuxK α = ${c.auxkAlpha} relative to FVU; check the scale of SAELens' AuxK term before a long run`,
      ]
    : ['aux_loss_coefficient', '0.0', 'AuxK was off in the browser run'];
}
