/** Banners for the conditions that stop training: no WebGPU, a lost GPU device, a run error. */
import { useLab } from '../state/lab-store';

/** The banners (render nothing when all is well). */
export function Banners() {
  const gpu = useLab((s) => s.gpu);
  const engine = useLab((s) => s.engine);
  const deviceLost = useLab((s) => s.deviceLost);
  const error = useLab((s) => s.error);
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
      {error && !deviceLost && (
        <div className="banner error" role="alert" data-testid="run-error">
          {error}
        </div>
      )}
    </>
  );
}
