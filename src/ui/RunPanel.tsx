/**
 * The run panel: dataset picker (the demo preselected), the config form with per-field validation messages,
 * Train / Pause / Resume / Stop, and the list of checkpointed runs that can be resumed.
 */
import { useEffect, useId, useRef } from 'react';
import { archSpec } from '../sae/archs';
import { FIELD_SPECS, type FieldSpec, fieldApplies } from '../state/config-form';
import { useLab } from '../state/lab-store';
import { resolveDSae } from '../train/config';
import { CPU_ENGINE_MEMORY_BYTES, estimateGpuBytes, formatBytes } from '../train/limits';
import { formatInt } from './format';
import { QuickPresets } from './QuickPresets';

function Field({ spec }: { spec: FieldSpec }) {
  const value = useLab((s) => s.form[spec.field]);
  const error = useLab((s) => s.formErrors[spec.field]);
  // Cross-field problems show next to the field just edited too (their own field may sit in a closed section).
  const related = useLab((s) =>
    s.lastEdited === spec.field
      ? Object.entries(s.formErrors)
          .filter(([f]) => f !== spec.field)
          .map(([, m]) => m)
          .join('; ')
      : '',
  );
  const setField = useLab((s) => s.setField);
  const busy = useLab((s) => s.status === 'running' || s.status === 'paused' || s.status === 'starting');
  const id = useId();
  const helpId = `${id}-help`;
  const errId = `${id}-err`;
  const common = {
    id,
    'data-testid': `cfg-${spec.field}`,
    disabled: busy,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': error ? `${errId} ${helpId}` : helpId,
  };
  return (
    <div className={`field${spec.kind === 'checkbox' ? ' checkbox' : ''}`}>
      <label htmlFor={id}>{spec.label}</label>
      {(spec.kind === 'number' || spec.kind === 'list') && (
        // Text, not type="number": letters must reach validation as an error, not arrive as '' (a silent fallback).
        <input
          {...common}
          type="text"
          inputMode={spec.kind === 'list' ? 'text' : spec.step === '1' ? 'numeric' : 'decimal'}
          autoComplete="off"
          step={spec.step}
          value={value}
          onChange={(e) => setField(spec.field, e.target.value)}
        />
      )}
      {spec.kind === 'select' && (
        <select {...common} value={value} onChange={(e) => setField(spec.field, e.target.value)}>
          {spec.options?.map((o) => (
            <option key={o} value={o}>
              {spec.optionLabels?.[o] ?? o}
            </option>
          ))}
        </select>
      )}
      {spec.kind === 'checkbox' && (
        <input
          {...common}
          type="checkbox"
          checked={value === 'true'}
          onChange={(e) => setField(spec.field, String(e.target.checked))}
        />
      )}
      <small id={helpId} className="help">
        {spec.help}
      </small>
      {error && (
        <small id={errId} className="error" role="alert" data-testid={`cfg-error-${spec.field}`}>
          {error}
        </small>
      )}
      {related && (
        <small className="error" role="alert" data-testid="cfg-error-related">
          {related}
        </small>
      )}
    </div>
  );
}

function DatasetPicker() {
  const datasets = useLab((s) => s.datasets);
  const datasetId = useLab((s) => s.datasetId);
  const demoStatus = useLab((s) => s.demoStatus);
  const datasetsError = useLab((s) => s.datasetsError);
  const select = useLab((s) => s.selectDataset);
  const busy = useLab((s) => s.status === 'running' || s.status === 'paused' || s.status === 'starting');
  const id = useId();
  const m = datasets.find((d) => d.id === datasetId);
  return (
    <div className="field">
      <label htmlFor={id}>dataset</label>
      <select
        id={id}
        data-testid="dataset-picker"
        value={datasetId ?? ''}
        disabled={busy || datasets.length === 0}
        onChange={(e) => select(e.target.value)}
      >
        {datasets.length === 0 && (
          <option value="">{demoStatus === 'preparing' ? 'preparing the demo…' : 'no dataset'}</option>
        )}
        {datasets.map((d) => (
          <option key={d.id} value={d.id}>
            {d.name}
          </option>
        ))}
      </select>
      {m && (
        <small className="help" data-testid="dataset-picker-shape">
          {formatInt(m.nTokens)} tokens × d_model {m.dModel}
          {m.createdAt === 0 && ' · imported into this browser when you press Train'}
        </small>
      )}
      {demoStatus === 'preparing' && (
        <small className="help" aria-busy="true">
          Importing the built-in demo dataset into this browser (once)…
        </small>
      )}
      {datasetsError && (
        <small className="error" role="alert">
          {datasetsError}
        </small>
      )}
    </div>
  );
}

function Controls() {
  const status = useLab((s) => s.status);
  const formErrors = useLab((s) => s.formErrors);
  const hasErrors = Object.keys(formErrors).length > 0;
  const ready = useLab((s) => s.datasetId !== null && s.engine?.available === true);
  const { pause, resume, stop } = useLab.getState();
  const running = status === 'running';
  const paused = status === 'paused';
  const busy = running || paused || status === 'starting';
  const pauseRef = useRef<HTMLButtonElement>(null);
  const wasRunning = useRef(false);
  useEffect(() => {
    // Keyboard users land on Pause when training starts.
    if (running && !wasRunning.current) pauseRef.current?.focus();
    wasRunning.current = running;
  }, [running]);
  const labels = Object.fromEntries(FIELD_SPECS.map((f) => [f.field, f.label]));
  return (
    <>
      <fieldset className="controls" aria-label="Run controls">
        {/* A submit button: Enter in any field starts the run when the form is valid. */}
        <button type="submit" data-testid="train" disabled={busy || hasErrors || !ready}>
          Train
        </button>
        <button
          ref={pauseRef}
          type="button"
          data-testid="pause"
          disabled={!running}
          onClick={() => void pause()}
        >
          Pause
        </button>
        <button type="button" data-testid="resume" disabled={!paused} onClick={() => void resume()}>
          Resume
        </button>
        <button type="button" data-testid="stop" disabled={!running && !paused} onClick={() => void stop()}>
          Stop
        </button>
      </fieldset>
      {hasErrors && !busy && (
        <p className="error form-error" role="alert" data-testid="cfg-error-train">
          Train needs:{' '}
          {Object.entries(formErrors)
            .map(([f, m]) => `${labels[f] ?? f}: ${m}`)
            .join('; ')}
        </p>
      )}
    </>
  );
}

function Checkpoints() {
  const list = useLab((s) => s.checkpoints);
  const status = useLab((s) => s.status);
  const currentRun = useLab((s) => s.run?.runId);
  const { resumeCheckpoint, deleteCheckpoint } = useLab.getState();
  const busy = status === 'running' || status === 'paused' || status === 'starting';
  const resumable = list.filter(
    (c) => c.status !== 'done' && c.status !== 'stopped' && !(busy && c.runId === currentRun),
  );
  if (resumable.length === 0) return null;
  return (
    <section aria-label="Resumable runs" className="checkpoints" data-testid="checkpoints">
      <h3>Resumable runs</h3>
      <ul>
        {resumable.map((c) => (
          <li key={c.runId} data-testid="checkpoint" data-run-id={c.runId} data-step={c.step}>
            <span>
              {c.datasetName}: {archSpec(c.config.architecture).label}, d_sae {c.dSae}
              {archSpec(c.config.architecture).fields.some((f) => f.field === 'k') ? `, k ${c.config.k}` : ''}
              , step {formatInt(c.step)} / {formatInt(c.totalSteps)} ({c.status}, saved{' '}
              {new Date(c.savedAt).toLocaleTimeString()})
            </span>{' '}
            <button
              type="button"
              data-testid="resume-checkpoint"
              disabled={busy}
              onClick={() => void resumeCheckpoint(c.runId)}
            >
              Resume from step {formatInt(c.step)}
            </button>{' '}
            {/* Deletes the run with its weights (also from the run library), see src/runs/delete-run.ts. */}
            <button
              type="button"
              disabled={busy}
              aria-label={`Delete run ${c.runId} and its weights`}
              onClick={() => void deleteCheckpoint(c.runId)}
            >
              Delete run
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The left-hand panel of the lab. */
export function RunPanel() {
  const dSaeText = useLab((s) => {
    const m = s.datasets.find((d) => d.id === s.datasetId);
    if (!m) return null;
    const dSae =
      s.form.dSae.trim() === ''
        ? resolveDSae({ dSae: null, expansionFactor: Number(s.form.expansionFactor) }, m.dModel)
        : Number(s.form.dSae);
    if (!Number.isFinite(dSae)) return null;
    const batch = Number(s.form.batchSize);
    const bytes = formatBytes(estimateGpuBytes({ batchSize: batch, dModel: m.dModel, dSae }));
    // The limits of the engine that will run (src/train/limits.ts checkEngineLimits).
    const mem = !Number.isFinite(batch)
      ? ''
      : s.engine?.engine === 'cpu'
        ? ` · memory ≈ ${bytes} (CPU engine limit ${formatBytes(CPU_ENGINE_MEMORY_BYTES)})`
        : ` · GPU memory ≈ ${bytes}` +
          (s.gpu?.ok
            ? ` (largest buffer limit ${formatBytes(Math.min(s.gpu.adapter.limits.maxStorageBufferBindingSize, s.gpu.adapter.limits.maxBufferSize))})`
            : '');
    return `d_sae = ${formatInt(dSae)} latents${mem}`;
  });
  const architecture = useLab((s) => s.form.architecture);
  const shown = FIELD_SPECS.filter((f) => fieldApplies(f, architecture));
  const basic = shown.filter((f) => !f.advanced);
  const advanced = shown.filter((f) => f.advanced);
  return (
    <section aria-label="Run" className="run-panel">
      <h2>Run</h2>
      <QuickPresets />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void useLab.getState().train();
        }}
        noValidate
      >
        <DatasetPicker />
        {basic.map((f) => (
          <Field key={f.field} spec={f} />
        ))}
        {dSaeText && (
          <p className="help" data-testid="memory-estimate">
            {dSaeText}
          </p>
        )}
        <details>
          <summary>Advanced</summary>
          {advanced.map((f) => (
            <Field key={f.field} spec={f} />
          ))}
        </details>
        <Controls />
      </form>
      <Checkpoints />
    </section>
  );
}
