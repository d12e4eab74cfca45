/**
 * A quick GPU self-check the lab runs at start: a matmul on the GPU against its CPU twin on seeded data.
 * It proves the adapter computes correctly before a user spends minutes training on it.
 */
import { type CompareReport, compareArrays } from '../reference/compare';
import { matmulCpu } from '../reference/matmul';
import { Rng } from '../util/rng';
import type { Gpu } from './device';
import { matmulGpu } from './kernels/matmul';

/** Self-check result: one comparison per shape, plus GPU wall time in ms. */
export interface SelfCheckResult {
  ok: boolean;
  reports: CompareReport[];
  gpuMs: number;
}

/**
 * Run C = A·B + bias at two odd shapes (33×65×17, 128×64×257) and compare with tolerance
 * 1e-5 relative + 1e-6 absolute.
 */
export async function runSelfCheck(gpu: Gpu): Promise<SelfCheckResult> {
  const rng = new Rng(2024);
  const reports: CompareReport[] = [];
  let gpuMs = 0;
  for (const [M, N, K] of [
    [33, 65, 17],
    [128, 64, 257],
  ]) {
    const a = rng.uniformArray(M * K);
    const b = rng.uniformArray(K * N);
    const bias = rng.uniformArray(N);
    const t0 = performance.now();
    const got = await matmulGpu(gpu, a, b, bias, { M, N, K });
    gpuMs += performance.now() - t0;
    reports.push(
      compareArrays(`matmul ${M}×${N}×${K}`, got, matmulCpu(a, b, bias, { M, N, K }), {
        atol: 1e-6,
        rtol: 1e-5,
      }),
    );
  }
  return { ok: reports.every((r) => r.ok), reports, gpuMs };
}
