/**
 * Checks of a run's shape against the adapter's limits, before the run (so the largest d_sae does not fail 11 s
 * later with a raw buffer-size error), and an estimate of the GPU memory the run needs.
 *
 * Buffers of a training step (f32 = 4 bytes; B = batch size, D = d_model, S = d_sae):
 *   [B, S]: pre-activations; the dense step path (every architecture without a fixed k, and BatchTopK's
 *           fallback) adds the latents z and their gradient: up to 3 buffers of B·S
 *   [D, S] and [S, D]: W_enc, W_dec, each with its Adam moments m, v and its gradient: 8 buffers of D·S
 *   [S], [D], [B, D]: biases, θ, counters, x, x̂ (small; counted)
 * One binding may not exceed maxStorageBufferBindingSize and one buffer not maxBufferSize; the largest is
 * max(B·S, D·S)·4 bytes. The estimate counts the worst case (dense path) and the evaluation chunk (another
 * [B, S] pre-activation and latent buffer).
 *
 * The fast CPU engine (src/cpu/sae-engine.ts) keeps the same arrays (parameters, Adam moments, gradients, scratch) in
 * one WebAssembly memory instead: no per-buffer limit, but the total must fit a wasm32 memory (4 GiB). The form
 * checks the run against the engine that will run it ({@link checkEngineLimits}).
 */

/** The adapter limits the check needs (AdapterSummary.limits of src/gpu/device.ts). */
export interface BufferLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** Sizes of a run. */
export interface RunSize {
  batchSize: number;
  dModel: number;
  dSae: number;
}

/** One problem, keyed by the form field to show it next to. */
export interface LimitProblem {
  field: 'dSae' | 'batchSize' | 'expansionFactor';
  message: string;
}

/** Bytes of the largest single buffer of a step: max(B·S, D·S) f32. */
export function largestBufferBytes(s: RunSize): number {
  return Math.max(s.batchSize * s.dSae, s.dModel * s.dSae) * 4;
}

/**
 * Estimated GPU memory of a run in bytes (worst case over step paths, see the module comment):
 *   4·(5·B·S + 8·D·S + 6·S + 6·D + 3·B·D).
 */
export function estimateGpuBytes(s: RunSize): number {
  const { batchSize: B, dModel: D, dSae: S } = s;
  return 4 * (5 * B * S + 8 * D * S + 6 * S + 6 * D + 3 * B * D);
}

/** "12.3 MB" (decimal megabytes, like the browser's storage estimates); bytes below 1 kB as "N bytes". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n < 1000) return `${Math.round(n)} bytes`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/**
 * Whether a run of size `s` fits the adapter. @returns the problems (empty = fits): the field that makes the
 * largest buffer too big (d_sae when D·S dominates or equals, else batch size), with bytes needed and the limit.
 */
export function checkLimits(
  s: RunSize,
  limits: BufferLimits,
  dSaeField: 'dSae' | 'expansionFactor' = 'dSae',
): LimitProblem[] {
  const need = largestBufferBytes(s);
  const limit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  if (need <= limit) return [];
  const field = s.batchSize > s.dModel ? 'batchSize' : dSaeField;
  const which =
    s.batchSize > s.dModel
      ? `pre-activations [batch ${s.batchSize}, d_sae ${s.dSae}]`
      : `W_enc [d_model ${s.dModel}, d_sae ${s.dSae}]`;
  const name = limit === limits.maxStorageBufferBindingSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  const maxDSae = Math.floor(limit / 4 / Math.max(s.batchSize, s.dModel));
  return [
    {
      field,
      message:
        `${which} needs ${formatBytes(need)}, over this GPU's ${name} (${formatBytes(limit)}); ` +
        `use d_sae ≤ ${maxDSae}${s.batchSize > s.dModel ? ' or a smaller batch' : ''}`,
    },
  ];
}

/** Largest memory of the CPU engine: a wasm32 memory has at most 65,536 pages of 64 KiB (4 GiB). */
export const CPU_ENGINE_MEMORY_BYTES = 65_536 * 65_536;

/**
 * Whether a run of size `s` fits the CPU engine's memory: {@link estimateGpuBytes} (the same arrays, in one wasm
 * memory) against `limitBytes`. @returns the problems (empty = fits): the field whose term dominates (batch size when
 * 5·B > 8·D, else d_sae), with the bytes needed, the limit and the largest d_sae that fits.
 */
export function checkCpuMemory(
  s: RunSize,
  dSaeField: 'dSae' | 'expansionFactor' = 'dSae',
  limitBytes: number = CPU_ENGINE_MEMORY_BYTES,
): LimitProblem[] {
  const need = estimateGpuBytes(s);
  if (need <= limitBytes) return [];
  const { batchSize: B, dModel: D } = s;
  const byBatch = 5 * B > 8 * D;
  // 4·(S·(5B + 8D + 6) + 6D + 3BD) ≤ limit
  const maxDSae = Math.max(0, Math.floor((limitBytes / 4 - 6 * D - 3 * B * D) / (5 * B + 8 * D + 6)));
  return [
    {
      field: byBatch ? 'batchSize' : dSaeField,
      message:
        `this run needs about ${formatBytes(need)} of memory on the CPU engine, over its limit of ` +
        `${formatBytes(limitBytes)} (one WebAssembly memory); use d_sae ≤ ${maxDSae}${byBatch ? ' or a smaller batch' : ''}`,
    },
  ];
}

/**
 * Check a run against the engine that will train it: the GPU engine against the adapter's buffer limits
 * ({@link checkLimits}; nothing to check without an adapter), the CPU engine against its memory ({@link checkCpuMemory}).
 */
export function checkEngineLimits(
  engine: 'gpu' | 'cpu',
  s: RunSize,
  gpuLimits: BufferLimits | null,
  dSaeField: 'dSae' | 'expansionFactor' = 'dSae',
): LimitProblem[] {
  if (engine === 'cpu') return checkCpuMemory(s, dSaeField);
  return gpuLimits ? checkLimits(s, gpuLimits, dSaeField) : [];
}
