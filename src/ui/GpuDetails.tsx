/** Adapter details, the training engine (GPU or CPU) with its override, and the matmul self-check, collapsed. */
import { useEffect, useState } from 'react';
import { ENGINE_LABEL, type EngineOverride } from '../cpu/engine-choice';
import { describeAdapter } from '../gpu/device';
import type { SelfCheckResult } from '../gpu/selfcheck';
import { useLab } from '../state/lab-store';
import { labWorker } from '../worker/client';

/** Which engine trains and why, and the control that overrides the start-up choice. */
function EngineControl() {
  const engine = useLab((s) => s.engine);
  const status = useLab((s) => s.status);
  const setEngine = useLab((s) => s.setEngine);
  if (!engine) return <p aria-busy="true">Choosing the training engine…</p>;
  const busy = status === 'running' || status === 'paused' || status === 'starting';
  return (
    <div className="engine-choice">
      <p data-testid="engine-reason" data-engine={engine.engine} data-available={String(engine.available)}>
        Training engine: <strong>{ENGINE_LABEL[engine.engine]}</strong>
        {engine.override === 'auto' ? ', chosen at start-up' : ''} — {engine.reason}
        {!engine.available && ' Training is off until another engine is chosen.'}
      </p>
      <label>
        Engine{' '}
        <select
          data-testid="engine-select"
          value={engine.override}
          disabled={busy}
          onChange={(e) => void setEngine(e.target.value as EngineOverride)}
        >
          <option value="auto">Auto (the fastest on this machine)</option>
          <option value="gpu">GPU (WebGPU)</option>
          <option value="cpu">CPU (WebAssembly SIMD)</option>
        </select>
      </label>{' '}
      <small className="help">
        Also as a URL parameter: <code>?engine=gpu</code> or <code>?engine=cpu</code>. Both engines give the
        same results and checkpoints.
      </small>
    </div>
  );
}

/** GPU adapter, limits, the engine choice and the self-check (run once the adapter is known). */
export function GpuDetails() {
  const gpu = useLab((s) => s.gpu);
  const engine = useLab((s) => s.engine);
  const [check, setCheck] = useState<SelfCheckResult | { error: string } | null>(null);
  useEffect(() => {
    if (!gpu?.ok) return;
    let live = true;
    labWorker()
      .selfCheck()
      .then(
        (r) => live && setCheck(r),
        (e: Error) => live && setCheck({ error: e.message }),
      );
    return () => {
      live = false;
    };
  }, [gpu]);
  if (!gpu) return null;
  if (!gpu.ok)
    return (
      <details className="gpu-details">
        <summary>
          GPU: none
          {engine && (
            <>
              {' · '}engine: <span data-testid="engine">{ENGINE_LABEL[engine.engine]}</span>
            </>
          )}
        </summary>
        <EngineControl />
      </details>
    );
  return (
    <details className="gpu-details">
      <summary>
        GPU: <span data-testid="adapter">{describeAdapter(gpu.adapter)}</span>
        {check && 'reports' in check && (
          <span className={check.ok ? 'ok' : 'error'}> · self-check {check.ok ? 'PASS' : 'FAIL'}</span>
        )}
        {engine && (
          <>
            {' · '}engine: <span data-testid="engine">{ENGINE_LABEL[engine.engine]}</span>
          </>
        )}
      </summary>
      <EngineControl />
      {check === null && <p aria-busy="true">Running the matmul self-check…</p>}
      {check && 'error' in check && (
        <p className="error" role="alert">
          Self-check failed to run: {check.error}
        </p>
      )}
      {check && 'reports' in check && (
        <div data-testid="selfcheck" data-ok={String(check.ok)}>
          <p className={check.ok ? 'ok' : 'error'}>
            {check.ok ? 'PASS' : 'FAIL'}: GPU matmul {check.ok ? 'matches' : 'does not match'} the CPU
            reference ({check.gpuMs.toFixed(1)} ms on the GPU).
          </p>
          <ul>
            {check.reports.map((r) => (
              <li key={r.summary}>{r.summary}</li>
            ))}
          </ul>
        </div>
      )}
      <pre>{JSON.stringify(gpu.adapter, null, 2)}</pre>
    </details>
  );
}
