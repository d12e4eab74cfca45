/** Adapter details and the matmul self-check, in a collapsed section. */
import { useEffect, useState } from 'react';
import { describeAdapter } from '../gpu/device';
import type { SelfCheckResult } from '../gpu/selfcheck';
import { useLab } from '../state/lab-store';
import { labWorker } from '../worker/client';

/** GPU adapter, limits and the self-check (run once the adapter is known). */
export function GpuDetails() {
  const gpu = useLab((s) => s.gpu);
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
  if (!gpu?.ok) return null;
  return (
    <details className="gpu-details">
      <summary>
        GPU: <span data-testid="adapter">{describeAdapter(gpu.adapter)}</span>
        {check && 'reports' in check && (
          <span className={check.ok ? 'ok' : 'error'}> · self-check {check.ok ? 'PASS' : 'FAIL'}</span>
        )}
      </summary>
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
