/** The lab's compute worker: owns the GPUDevice; the UI talks to it only through {@link LabApi}. */
import * as Comlink from 'comlink';
import { Gpu } from '../gpu/device';
import { runSelfCheck } from '../gpu/selfcheck';
import type { GpuStatus, LabApi } from './api';

let gpuPromise: Promise<Gpu> | null = null;
function gpu(): Promise<Gpu> {
  gpuPromise ??= Gpu.create();
  return gpuPromise;
}

const api: LabApi = {
  async gpuStatus(): Promise<GpuStatus> {
    try {
      return { ok: true, adapter: (await gpu()).adapter };
    } catch (e) {
      gpuPromise = null;
      return { ok: false, error: (e as Error).message };
    }
  },
  async selfCheck() {
    return runSelfCheck(await gpu());
  },
};

Comlink.expose(api);
