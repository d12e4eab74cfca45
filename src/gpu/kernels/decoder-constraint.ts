/**
 * Host wrapper for shaders/decoder-constraint.wgsl, the unit-norm decoder constraint of Gemma Scope §3.2
 * (seed 004_5e13fcf757174fc0.txt): project the component of each ∂W_dec row parallel to its W_dec row out
 * before Adam, renormalise each W_dec row after. CPU twins: src/reference/decoder-constraint.ts.
 */
import decoderConstraintWgsl from '../../../shaders/decoder-constraint.wgsl?raw';
import type { Gpu, ShaderSource } from '../device';
import { grid1d, needBuffer, oneShot, positiveInt, wgSize } from './common';

export const decoderConstraintShader: ShaderSource = {
  name: 'decoder-constraint',
  code: decoderConstraintWgsl,
};

/** The two decoder-constraint dispatches for W_dec [S, D]. */
export interface DecoderConstraintKernel {
  /** Record ∂W_dec[s] ← ∂W_dec[s] − (⟨∂W_dec[s], W_dec[s]⟩/‖W_dec[s]‖²)·W_dec[s]. */
  encodeProject(pass: GPUComputePassEncoder, bufs: { wDec: GPUBuffer; gWdec: GPUBuffer }): void;
  /** Record W_dec[s] ← W_dec[s]/‖W_dec[s]‖. */
  encodeNormalize(pass: GPUComputePassEncoder, bufs: { wDec: GPUBuffer }): void;
  destroy(): void;
}

/** @throws GpuError on a non-positive size. */
export function createDecoderConstraint(
  gpu: Gpu,
  shape: { dSae: number; dModel: number },
  label = 'decoder-constraint',
): DecoderConstraintKernel {
  const { dSae: S, dModel: D } = shape;
  positiveInt(label, 'd_sae', S);
  positiveInt(label, 'd_model', D);
  const wg = wgSize(gpu, 64);
  const kinds = ['uniform', 'storage', 'storage'] as const;
  const pProject = gpu.pipeline(decoderConstraintShader, 'decoder_project', kinds, { WG: wg });
  const pNormalize = gpu.pipeline(decoderConstraintShader, 'decoder_normalize', kinds, { WG: wg });
  const params = gpu.uniform(`${label}:params`, new Uint32Array([S, D, 0, 0]));
  // decoder_normalize does not read binding 2; a small placeholder fills the shared layout.
  const unused = gpu.storage(`${label}:unused`, 16);
  const grid = grid1d(gpu, label, Math.ceil(S / wg));
  return {
    encodeProject(pass, b) {
      needBuffer(label, 'W_dec', b.wDec, S * D);
      needBuffer(label, '∂W_dec', b.gWdec, S * D);
      gpu.dispatch(pass, pProject, [params, b.wDec, b.gWdec], grid);
    },
    encodeNormalize(pass, b) {
      needBuffer(label, 'W_dec', b.wDec, S * D);
      gpu.dispatch(pass, pNormalize, [params, b.wDec, unused], grid);
    },
    destroy() {
      params.destroy();
      unused.destroy();
    },
  };
}

/** One-shot for tests: the projected gradient and the renormalised W_dec (projection uses the input W_dec). */
export async function decoderConstraintGpu(
  gpu: Gpu,
  wDec: Float32Array,
  gWdec: Float32Array,
  shape: { dSae: number; dModel: number },
): Promise<{ gWdec: Float32Array; wDec: Float32Array }> {
  const kernel = createDecoderConstraint(gpu, shape);
  const n = shape.dSae * shape.dModel;
  const bufs = { wDec: gpu.storage('decoder:w_dec', wDec), gWdec: gpu.storage('decoder:g_w_dec', gWdec) };
  return oneShot(
    gpu,
    'decoder-constraint',
    Object.values(bufs),
    (pass) => {
      kernel.encodeProject(pass, bufs);
      kernel.encodeNormalize(pass, bufs);
    },
    async () => ({ gWdec: await gpu.readF32(bufs.gWdec, n), wDec: await gpu.readF32(bufs.wDec, n) }),
    () => kernel.destroy(),
  );
}
