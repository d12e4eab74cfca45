/**
 * Quick presets beside the config form; the estimate of a run's time before it starts (a 3-step probe on the engine
 * the run would use), with the quick preset offered when it exceeds 5 minutes; and the same notice during a run
 * (from its first steps) with a button to restart it with the quick preset.
 */
import { useEffect, useState } from 'react';
import type { Architecture } from '../sae/types';
import { type FormField, validateForm } from '../state/config-form';
import { useLab } from '../state/lab-store';
import { estimateRunMs, LONG_RUN_MS, PRESETS, type Preset, presetForm } from '../state/presets';
import { labWorker } from '../worker/client';
import { formatDuration } from './format';

function apply(p: Preset): void {
  const lab = useLab.getState();
  const form = presetForm(p, lab.form.architecture as Architecture);
  for (const [field, value] of Object.entries(form)) lab.setField(field as FormField, value);
}

/** Wait after the last form edit before probing, ms. */
const PROBE_DEBOUNCE_MS = 700;

/**
 * "About N for S steps on the X engine (timed over 3 steps)": the form's config timed before it runs; over 5 minutes,
 * a warning and the quick preset. Nothing while a run is active or the form has errors.
 */
function RunEstimate() {
  const form = useLab((s) => s.form);
  const dModel = useLab((s) => s.datasets.find((d) => d.id === s.datasetId)?.dModel ?? null);
  const nTokens = useLab((s) => s.datasets.find((d) => d.id === s.datasetId)?.nTokens ?? null);
  const idle = useLab((s) => s.status !== 'running' && s.status !== 'paused' && s.status !== 'starting');
  const ready = useLab((s) => s.engine?.available === true);
  const [estimate, setEstimate] = useState<{ totalMs: number; steps: number; engine: string } | null>(null);
  useEffect(() => {
    setEstimate(null);
    if (!idle || !ready || dModel === null || nTokens === null) return;
    const v = validateForm(form, { dModel, nTokens });
    if (!v.ok) return;
    let cancelled = false;
    const timer = setTimeout(() => {
      labWorker()
        .probeStepMs(v.config, dModel)
        .then((p) => {
          if (!cancelled)
            setEstimate({ totalMs: p.msPerStep * v.config.steps, steps: v.config.steps, engine: p.engine });
        })
        .catch(() => {}); // the form and Train report a config the engine refuses
    }, PROBE_DEBOUNCE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [form, dModel, nTokens, idle, ready]);
  if (!estimate) return null;
  const long = estimate.totalMs > LONG_RUN_MS;
  const quick = PRESETS[0];
  return (
    <p
      className={long ? 'banner warn' : 'muted'}
      data-testid="eta-estimate"
      data-ms={Math.round(estimate.totalMs)}
    >
      About {formatDuration(estimate.totalMs)} for {estimate.steps.toLocaleString()} steps on the{' '}
      {estimate.engine} engine (timed over 3 steps here).
      {long && (
        <>
          {' '}
          That is over {formatDuration(LONG_RUN_MS)}:{' '}
          <button type="button" data-testid="eta-use-quick" onClick={() => apply(quick)}>
            use the {quick.label} preset
          </button>
        </>
      )}
    </p>
  );
}

/** The preset buttons and the estimate of the form's run. */
export function QuickPresets() {
  return (
    <>
      <PresetButtons />
      <RunEstimate />
    </>
  );
}

function PresetButtons() {
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
