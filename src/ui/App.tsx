import { useEffect, useState } from 'react';
import { describeAdapter } from '../gpu/device';
import type { SelfCheckResult } from '../gpu/selfcheck';
import type { GpuStatus } from '../worker/api';
import { labWorker } from '../worker/client';
import { DatasetLibrary } from './DatasetLibrary';

/** The lab's shell. For now: which WebGPU adapter the worker got, and the matmul self-check. */
export function App() {
  const [status, setStatus] = useState<GpuStatus | null>(null);
  const [check, setCheck] = useState<SelfCheckResult | { error: string } | null>(null);

  useEffect(() => {
    let live = true;
    void labWorker()
      .gpuStatus()
      .then(async (s) => {
        if (!live) return;
        setStatus(s);
        if (!s.ok) return;
        try {
          const r = await labWorker().selfCheck();
          if (live) setCheck(r);
        } catch (e) {
          if (live) setCheck({ error: (e as Error).message });
        }
      });
    return () => {
      live = false;
    };
  }, []);

  return (
    <main className="app">
      <header>
        <h1>SAE Lab</h1>
        <p className="tagline">Sparse autoencoders, trained in your browser on your GPU.</p>
      </header>
      <DatasetLibrary />
      {status === null && <p aria-busy="true">Looking for a WebGPU adapter…</p>}
      {status && !status.ok && (
        <div className="banner error" role="alert" data-testid="webgpu-banner">
          <strong>WebGPU is unavailable.</strong> {status.error}
          <p>
            Use Chrome or Edge 113+ on http://localhost or https. On Linux, start Chrome with{' '}
            <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>, then check <code>chrome://gpu</code>
            .
          </p>
        </div>
      )}
      {status?.ok && (
        <section aria-label="GPU">
          <h2>GPU</h2>
          <p data-testid="adapter">
            Adapter: <strong>{describeAdapter(status.adapter)}</strong>
          </p>
          <details>
            <summary>Limits and features</summary>
            <pre>{JSON.stringify(status.adapter, null, 2)}</pre>
          </details>
          <h3>Self-check</h3>
          {check === null && <p aria-busy="true">Running matmul self-check…</p>}
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
        </section>
      )}
    </main>
  );
}
