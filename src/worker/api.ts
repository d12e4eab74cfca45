/**
 * The one interface between the UI thread and the lab worker (which owns the GPUDevice). Declared once,
 * implemented by src/worker/lab-worker.ts, called through `Comlink.wrap<LabApi>()`.
 */
import type { AdapterSummary } from '../gpu/device';
import type { SelfCheckResult } from '../gpu/selfcheck';

/** Outcome of asking the worker for a GPU: the adapter, or why there is none. */
export type GpuStatus = { ok: true; adapter: AdapterSummary } | { ok: false; error: string };

export interface LabApi {
  /** Create the worker's GPUDevice if needed and describe the adapter; never throws. */
  gpuStatus(): Promise<GpuStatus>;
  /** Run the matmul self-check on the worker's device. @throws if WebGPU is unavailable. */
  selfCheck(): Promise<SelfCheckResult>;
}
