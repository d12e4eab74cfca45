/** One line of run status: state, step / total, tokens/s, elapsed, ETA, adapter. */
import { describeAdapter } from '../gpu/device';
import { useLab } from '../state/lab-store';
import { formatDuration, formatInt } from './format';

/** The status line under the header. */
export function StatusLine() {
  const status = useLab((s) => s.status);
  const progress = useLab((s) => s.progress);
  const run = useLab((s) => s.run);
  const gpu = useLab((s) => s.gpu);
  const engine = useLab((s) => s.engine);
  const checkpointStep = useLab((s) => s.lastCheckpointStep);
  const warned = useLab((s) => (s.summary?.warnings?.length ?? 0) > 0);
  const liveWarnings = useLab((s) => s.liveWarnings);
  const adapter = gpu?.ok ? describeAdapter(gpu.adapter) : gpu ? 'no WebGPU adapter' : 'looking for a GPU…';
  const total = run?.totalSteps ?? null;
  const step = progress?.step ?? null;
  const tps = progress?.tokensPerSec ?? 0;
  const remainingTokens = run && step !== null ? (run.totalSteps - step) * run.shape.batchSize : 0;
  const eta = status === 'running' && tps > 0 ? formatDuration((remainingTokens / tps) * 1000) : '—';
  const stepMs = tps > 0 && run ? (run.shape.batchSize / tps) * 1000 : null;
  return (
    <p
      className={`status-line status-${status}`}
      data-testid="status"
      data-status={status}
      data-step={step ?? ''}
      data-total={total ?? ''}
      aria-live="polite"
    >
      <strong data-testid="status-text">{status === 'done' && warned ? 'done with warnings' : status}</strong>
      {status === 'running' && liveWarnings.length > 0 && (
        <span className="error" data-testid="live-warning">
          {' '}
          · collapse warning: {liveWarnings.map((w) => w.message).join('; ')}
        </span>
      )}
      {run && step !== null && (
        <>
          {' · '}step <span data-testid="step">{formatInt(step)}</span> / {formatInt(run.totalSteps)}
          {' · '}
          {formatInt(tps)} tokens/s{stepMs !== null && ` (${stepMs.toFixed(stepMs < 10 ? 1 : 0)} ms/step)`}
          {' · '}elapsed {formatDuration(progress?.wallMs ?? 0)}
          {' · '}ETA {eta}
          {checkpointStep !== null && <> · checkpoint at step {formatInt(checkpointStep)}</>}
        </>
      )}
      {' · '}
      <span data-testid="adapter-name">{adapter}</span>
      {engine && <span data-testid="engine-name"> · {engine.engine.toUpperCase()} engine</span>}
    </p>
  );
}
