/**
 * Banners for the conditions that stop or endanger training: no WebGPU, a lost GPU device, a run error (with
 * "resume at η/2" after a divergence, "resume" after a crash), a full storage, an interrupted run, another tab
 * training on the same GPU.
 */
import { useLab } from '../state/lab-store';
import { formatInt } from './format';

/** "Run R was interrupted at step N (checkpoint at M): Resume · Discard". */
function InterruptedBanner() {
  const interrupted = useLab((s) => s.interrupted);
  const status = useLab((s) => s.status);
  const resumeCheckpoint = useLab((s) => s.resumeCheckpoint);
  const discard = useLab((s) => s.discardInterrupted);
  if (!interrupted) return null;
  const m = interrupted.meta;
  const busy = status === 'running' || status === 'paused' || status === 'starting';
  return (
    <div className="banner warning" role="alert" data-testid="interrupted-banner" data-run-id={m.runId}>
      Run <strong>{m.runId}</strong> ({m.datasetName}) was interrupted at step{' '}
      {formatInt(interrupted.lastStep)} (checkpoint at {formatInt(m.step)}):{' '}
      <button
        type="button"
        data-testid="resume-interrupted"
        disabled={busy}
        onClick={() => void resumeCheckpoint(m.runId)}
      >
        Resume from step {formatInt(m.step)}
      </button>{' '}
      ·{' '}
      <button type="button" data-testid="discard-interrupted" disabled={busy} onClick={() => void discard()}>
        Discard
      </button>
    </div>
  );
}

/** The run's error, and what can be done about it. */
function RunErrorBanner() {
  const error = useLab((s) => s.error);
  const divergence = useLab((s) => s.divergence);
  const status = useLab((s) => s.status);
  const run = useLab((s) => s.run);
  const checkpoints = useLab((s) => s.checkpoints);
  const resumeAtHalfLr = useLab((s) => s.resumeAtHalfLr);
  const resumeCheckpoint = useLab((s) => s.resumeCheckpoint);
  if (!error) return null;
  const cp = run && status === 'error' ? checkpoints.find((c) => c.runId === run.runId) : undefined;
  return (
    <div className="banner error" role="alert" data-testid="run-error">
      {error}{' '}
      {divergence && (
        <button
          type="button"
          data-testid="resume-half-lr"
          disabled={status === 'starting'}
          onClick={() => void resumeAtHalfLr()}
        >
          {divergence.checkpointStep === null
            ? `Start again at η/2 = ${divergence.lr / 2}`
            : `Resume from step ${formatInt(divergence.checkpointStep)} at η/2 = ${divergence.lr / 2}`}
        </button>
      )}
      {!divergence && cp && (
        <button
          type="button"
          data-testid="resume-after-error"
          onClick={() => void resumeCheckpoint(cp.runId)}
        >
          Resume from checkpoint (step {formatInt(cp.step)})
        </button>
      )}
    </div>
  );
}

/** The banners (render nothing when all is well). */
export function Banners() {
  const gpu = useLab((s) => s.gpu);
  const engine = useLab((s) => s.engine);
  const deviceLost = useLab((s) => s.deviceLost);
  const error = useLab((s) => s.error);
  const storage = useLab((s) => s.storage);
  const otherTabRuns = useLab((s) => s.otherTabRuns);
  const run = useLab((s) => s.run);
  const status = useLab((s) => s.status);
  const checkpoints = useLab((s) => s.checkpoints);
  const resumeCheckpoint = useLab((s) => s.resumeCheckpoint);
  const cp = run ? checkpoints.find((c) => c.runId === run.runId) : undefined;
  return (
    <>
      {gpu && !gpu.ok && (
        <div className="banner error" role="alert" data-testid="webgpu-banner">
          <strong>
            WebGPU is unavailable,{' '}
            {engine?.available && engine.engine === 'cpu'
              ? 'so SAE Lab trains on the CPU engine (WebAssembly), slower than a GPU.'
              : 'so SAE Lab cannot train on the GPU here.'}
          </strong>{' '}
          {gpu.error}
          <p>
            Use Chrome or Edge 113+ over https or http://localhost. On Linux, start Chrome with{' '}
            <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>; check <code>chrome://gpu</code> for
            “WebGPU: Hardware accelerated”, and update the GPU driver if it is blocklisted.
          </p>
        </div>
      )}
      {deviceLost && (
        <div className="banner error" role="alert" data-testid="device-lost-banner">
          <strong>The GPU device was lost</strong> ({deviceLost}). This happens after a driver reset, a sleep,
          or when the GPU runs out of memory. Training stopped.{' '}
          {cp ? (
            <button
              type="button"
              data-testid="resume-after-loss"
              disabled={status === 'starting'}
              onClick={() => void resumeCheckpoint(cp.runId)}
            >
              Resume from checkpoint (step {cp.step})
            </button>
          ) : (
            'No checkpoint of this run was saved yet; start it again.'
          )}
        </div>
      )}
      {error && !deviceLost && <RunErrorBanner />}
      {storage && (
        <div className="banner error" role="alert" data-testid="storage-banner">
          {storage.message}
          {storage.importPaused && (
            <>
              {' '}
              <button
                type="button"
                data-testid="resume-import"
                onClick={() => useLab.getState().resumeImport()}
              >
                Resume import
              </button>{' '}
              <button
                type="button"
                data-testid="cancel-paused-import"
                onClick={() => useLab.getState().cancelImport()}
              >
                Cancel import
              </button>
            </>
          )}
        </div>
      )}
      <InterruptedBanner />
      {otherTabRuns.length > 0 && (
        <div className="banner warning" role="status" data-testid="other-tab-banner">
          Another tab is training ({otherTabRuns.map((r) => `${r.runId} on “${r.datasetName}”`).join(', ')}).
          {status === 'running' || status === 'paused' || status === 'starting'
            ? ' Both runs share this GPU, so each is slower.'
            : ' A run started here shares the GPU with it.'}
        </div>
      )}
    </>
  );
}
