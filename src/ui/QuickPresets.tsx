/**
 * Quick presets beside the config form, and the notice that a run will take long (estimated from its first
 * steps on this adapter) with a button to restart it with the quick preset.
 */
import type { Architecture } from '../sae/types';
import type { FormField } from '../state/config-form';
import { useLab } from '../state/lab-store';
import { estimateRunMs, LONG_RUN_MS, PRESETS, type Preset, presetForm } from '../state/presets';
import { formatDuration } from './format';

function apply(p: Preset): void {
  const lab = useLab.getState();
  const form = presetForm(p, lab.form.architecture as Architecture);
  for (const [field, value] of Object.entries(form)) lab.setField(field as FormField, value);
}

/** The preset buttons. */
export function QuickPresets() {
  const busy = useLab((s) => s.status === 'running' || s.status === 'paused' || s.status === 'starting');
  return (
    <fieldset className="presets" aria-label="Quick presets">
      {PRESETS.map((p) => (
        <button
          key={p.id}
          type="button"
          data-testid={`preset-${p.id}`}
          title={p.help}
          disabled={busy}
          onClick={() => apply(p)}
        >
          {p.label}
        </button>
      ))}
    </fieldset>
  );
}

/** "This run will take about N min" once the first steps have been timed, when the estimate exceeds 5 min. */
export function LongRunNotice() {
  const status = useLab((s) => s.status);
  const estimate = useLab((s) =>
    s.progress && s.run ? estimateRunMs(s.progress.step, s.progress.wallMs, s.run.totalSteps) : null,
  );
  if (status !== 'running' || estimate === null || estimate <= LONG_RUN_MS) return null;
  const quick = PRESETS[0];
  return (
    <p className="banner warn" role="status" data-testid="eta-warning">
      This run will take about {formatDuration(estimate)} on this adapter (measured over its first steps).{' '}
      <button
        type="button"
        data-testid="use-quick-preset"
        onClick={() =>
          void (async () => {
            await useLab.getState().stop();
            apply(quick);
            await useLab.getState().train();
          })()
        }
      >
        Stop and run the {quick.label} instead
      </button>
    </p>
  );
}
