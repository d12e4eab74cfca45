/**
 * CPU twin of shaders/nonfinite.wgsl: whether any element of a float32 tensor is NaN or ±Inf (its exponent bits
 * all ones). The engines OR this over the loss terms and every parameter after each step into a sticky flag
 * ({@link StepStats.nonFinite}), so a divergence is caught at the next readback even when steps are not read.
 */
import type { SaeParams } from '../sae/types';

/** True when some element of `data` (f32) is NaN or ±Inf. */
export function hasNonFiniteCpu(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) return true;
  }
  return false;
}

/** True when some parameter (W_enc, W_dec, b_enc, b_dec, θ when present) holds a NaN or ±Inf. */
export function paramsNonFinite(p: SaeParams): boolean {
  return (
    hasNonFiniteCpu(p.wEnc) ||
    hasNonFiniteCpu(p.wDec) ||
    hasNonFiniteCpu(p.bEnc) ||
    hasNonFiniteCpu(p.bDec) ||
    (p.threshold !== undefined && hasNonFiniteCpu(p.threshold))
  );
}
