/**
 * Host wrapper for shaders/matryoshka.wgsl: the nested-prefix reconstructions of Matryoshka BatchTopK and their
 * gradients on dense latents z [R, S] (the math and the f32 order: src/reference/matryoshka.ts, the CPU twin).
 *
 *   encodeResidual  x̂ [R, D] (the full dictionary's) and G [M, R, D] = scale·Σ_{m' ≥ m} (x̂_m' − x)
 *   encodeGradZ     ∂z [R, S] = ⟨G[grp(s), r], W_dec[s]⟩ where z ≠ 0, else 0
 *   encodeGradWdec  ∂W_dec [S, D] = Σ_r z[r, s]·G[grp(s), r]
 *   encodeGradBdec  ∂b_dec [D] = Σ_r G[0, r] − W_enc·∂b_enc
 *
 * Shape legend: R = rows, D = d_model, S = d_sae, M = prefixes (≤ 8).
 */
import matryoshkaWgsl from '../../../shaders/matryoshka.wgsl?raw';
import { MAX_MATRYOSHKA_GROUPS } from '../../sae/archs/matryoshka';
import type { Gpu, ShaderSource } from '../device';
import { GpuError } from '../device';
import {
  f32Bits,
  fitsBinding,
  grid1d,
  needBuffers,
  oneShot,
  positiveInt,
  storageSet,
  wgSize,
} from './common';

export const matryoshkaShader: ShaderSource = { name: 'matryoshka', code: matryoshkaWgsl };

/** Sizes of a Matryoshka kernel. */
export interface MatryoshkaShape {
  rows: number;
  dModel: number;
  dSae: number;
}

/** The Matryoshka kernels of a fixed shape and prefix layout; owns G. */
export interface MatryoshkaKernel {
  /** f32 [M, R, D]: the suffix-summed residual gradients G, written by encodeResidual. */
  readonly groupGrads: GPUBuffer;
  /** x f32 [R, D], z f32 [R, S], W_dec f32 [S, D], b_dec f32 [D] → x̂ f32 [R, D] and G. */
  encodeResidual(
    pass: GPUComputePassEncoder,
    b: { x: GPUBuffer; z: GPUBuffer; wDec: GPUBuffer; bDec: GPUBuffer; xHat: GPUBuffer },
  ): void;
  /** G, z, W_dec → ∂z f32 [R, S]. */
  encodeGradZ(pass: GPUComputePassEncoder, b: { z: GPUBuffer; wDec: GPUBuffer; gradZ: GPUBuffer }): void;
  /** G, z → ∂W_dec f32 [S, D]. */
  encodeGradWdec(pass: GPUComputePassEncoder, b: { z: GPUBuffer; gWdec: GPUBuffer }): void;
  /** G, W_enc f32 [D, S], ∂b_enc f32 [S] → ∂b_dec f32 [D]. */
  encodeGradBdec(
    pass: GPUComputePassEncoder,
    b: { wEnc: GPUBuffer; gBenc: GPUBuffer; gBdec: GPUBuffer },
  ): void;
  destroy(): void;
}

/**
 * @param ends u32 [M] prefix ends, strictly increasing, the last = d_sae (src/sae/archs/matryoshka.ts
 *   matryoshkaPrefixEnds); @param scale f32 factor of G (2/(R·D) for the engine's loss)
 * @throws GpuError on a bad size, bad prefix ends, or a tensor over maxStorageBufferBindingSize.
 */
export function createMatryoshka(
  gpu: Gpu,
  shape: MatryoshkaShape,
  ends: Uint32Array,
  scale: number,
  label = 'matryoshka',
): MatryoshkaKernel {
  const { rows: R, dModel: D, dSae: S } = shape;
  positiveInt(label, 'rows', R);
  positiveInt(label, 'd_model', D);
  positiveInt(label, 'd_sae', S);
  const M = ends.length;
  if (
    M < 1 ||
    M > MAX_MATRYOSHKA_GROUPS ||
    ends[M - 1] !== S ||
    ends.some((e, m) => m > 0 && e <= ends[m - 1])
  )
    throw new GpuError(
      `${label}: prefix ends must be 1 to ${MAX_MATRYOSHKA_GROUPS} increasing values ending at d_sae=${S}, got [${ends.join(', ')}]`,
    );
  fitsBinding(gpu, label, 'G [prefixes, rows, d_model]', M * R * D);
  fitsBinding(gpu, label, 'z [rows, d_sae]', R * S);
  const wg = wgSize(gpu, 64);
  const ro = 'read-only-storage' as const;
  const kinds = ['uniform', ro, ro, ro, ro, 'storage', 'storage'] as const;
  const pipe = (entry: string) => gpu.pipeline(matryoshkaShader, entry, kinds, { WG: wg });
  const pResidual = pipe('matryoshka_residual');
  const pGradZ = pipe('matryoshka_grad_z');
  const pGradWdec = pipe('matryoshka_grad_w_dec');
  const pGradBdec = pipe('matryoshka_grad_b_dec');
  const words = new Uint32Array(16);
  words.set([R, D, S, M, f32Bits(scale), 0, 0, 0]);
  words.set(ends, 8);
  const params = gpu.uniform(`${label}:params`, words);
  const groupGrads = gpu.storage(`${label}:group_grads`, M * R * D * 4);
  // Unused slots of an entry point are bound to these (a slot never aliases a written buffer).
  const spareIn = gpu.storage(`${label}:spare-in`, 16);
  const spareOut = gpu.storage(`${label}:spare-out`, 16);
  const grid = (n: number) => grid1d(gpu, label, Math.ceil(n / wg));
  const need = (items: [string, GPUBuffer, number][]) => needBuffers(label, items);
  return {
    groupGrads,
    encodeResidual(pass, b) {
      need([
        ['x', b.x, R * D],
        ['z', b.z, R * S],
        ['W_dec', b.wDec, S * D],
        ['b_dec', b.bDec, D],
        ['x̂', b.xHat, R * D],
      ]);
      gpu.dispatch(pass, pResidual, [params, b.x, b.z, b.wDec, b.bDec, b.xHat, groupGrads], grid(R * D));
    },
    encodeGradZ(pass, b) {
      need([
        ['z', b.z, R * S],
        ['W_dec', b.wDec, S * D],
        ['∂z', b.gradZ, R * S],
      ]);
      gpu.dispatch(pass, pGradZ, [params, groupGrads, b.z, b.wDec, spareIn, b.gradZ, spareOut], grid(R * S));
    },
    encodeGradWdec(pass, b) {
      need([
        ['z', b.z, R * S],
        ['∂W_dec', b.gWdec, S * D],
      ]);
      gpu.dispatch(
        pass,
        pGradWdec,
        [params, groupGrads, b.z, spareIn, spareIn, b.gWdec, spareOut],
        grid(S * D),
      );
    },
    encodeGradBdec(pass, b) {
      need([
        ['W_enc', b.wEnc, D * S],
        ['∂b_enc', b.gBenc, S],
        ['∂b_dec', b.gBdec, D],
      ]);
      gpu.dispatch(
        pass,
        pGradBdec,
        [params, groupGrads, b.wEnc, b.gBenc, spareIn, b.gBdec, spareOut],
        grid(D),
      );
    },
    destroy() {
      params.destroy();
      groupGrads.destroy();
      spareIn.destroy();
      spareOut.destroy();
    },
  };
}

/** What {@link matryoshkaGpu} returns (f32, the shapes of src/reference/matryoshka.ts). */
export interface MatryoshkaGpuResult {
  xHat: Float32Array;
  groupGrads: Float32Array;
  gradZ: Float32Array;
  gWdec: Float32Array;
  gBdec: Float32Array;
}

/** One-shot for tests: all four entry points on uploaded inputs (∂b_enc given). */
export async function matryoshkaGpu(
  gpu: Gpu,
  inputs: {
    x: Float32Array;
    z: Float32Array;
    wDec: Float32Array;
    bDec: Float32Array;
    wEnc: Float32Array;
    gBenc: Float32Array;
  },
  ends: Uint32Array,
  scale: number,
  shape: MatryoshkaShape,
): Promise<MatryoshkaGpuResult> {
  const { rows: R, dModel: D, dSae: S } = shape;
  const kernel = createMatryoshka(gpu, shape, ends, scale);
  const b = storageSet(gpu, 'matryoshka', {
    ...inputs,
    xHat: R * D,
    gradZ: R * S,
    gWdec: S * D,
    gBdec: D,
  });
  return oneShot(
    gpu,
    'matryoshka',
    Object.values(b),
    (pass) => {
      kernel.encodeResidual(pass, b);
      kernel.encodeGradZ(pass, b);
      kernel.encodeGradWdec(pass, b);
      kernel.encodeGradBdec(pass, b);
    },
    async () => ({
      xHat: await gpu.readF32(b.xHat, R * D),
      groupGrads: await gpu.readF32(kernel.groupGrads, ends.length * R * D),
      gradZ: await gpu.readF32(b.gradZ, R * S),
      gWdec: await gpu.readF32(b.gWdec, S * D),
      gBdec: await gpu.readF32(b.gBdec, D),
    }),
    () => kernel.destroy(),
  );
}
