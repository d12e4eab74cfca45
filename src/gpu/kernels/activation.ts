/**
 * Host wrapper for shaders/activation.wgsl: the dense activations of the BatchTopK, JumpReLU and ReLU SAEs
 * (forward, per-latent counts for evaluation) and their backward pass with the sparsity terms (JumpReLU's
 * rectangle-kernel STE for log θ, the L1 term λ·Σ z·‖W_dec‖). CPU twin: src/reference/activation.ts.
 *
 * Shape legend: R = rows, S = d_sae, D = d_model. The "col" buffer is u32 [4·S] in four planes:
 * fire counts | Σ_r z (f32 bits) | ‖W_dec,s‖ (f32 bits) | ∂L/∂log θ (f32 bits). Its first plane is what the stats
 * and eval-reduce kernels read as per-latent counts.
 */
import activationWgsl from '../../../shaders/activation.wgsl?raw';
import type { ActivationBackwardResult, BackwardMode, ForwardMode } from '../../sae/kernel-types';
import type { Gpu, ShaderSource } from '../device';
import { f32Bits, fitsBinding, grid1d, needBuffer, oneShot, positiveInt, wgSize } from './common';

export const activationShader: ShaderSource = { name: 'activation', code: activationWgsl };

/** u32 words of the col buffer per latent (four planes). */
export const COL_PLANES = 4;

const FORWARD_MODES: Record<ForwardMode, number> = { relu: 0, threshold: 1 };
const BACKWARD_MODES: Record<BackwardMode, number> = { masked: 0, relu: 1, jumprelu: 2 };

/** Shape of the dense activation kernels. */
export interface ActivationShape {
  rows: number;
  dSae: number;
  dModel: number;
}

/** Buffers of the forward pass. */
export interface ActivationForwardBuffers {
  /** f32 [R, S]. */
  pre: GPUBuffer;
  /** f32 [S] θ (mode 'threshold'), or null. */
  threshold: GPUBuffer | null;
  /** f32 [R, S], written. */
  z: GPUBuffer;
}

/** Buffers of the backward pass. */
export interface ActivationBackwardBuffers {
  /** f32 [R, S]. */
  pre: GPUBuffer;
  /** f32 [S] θ (jumprelu), or null. */
  threshold: GPUBuffer | null;
  /** f32 [R, S]. */
  z: GPUBuffer;
  /** f32 [R, S]: ∂z in, ∂pre out. */
  grad: GPUBuffer;
  /** f32 [S, D]. */
  wDec: GPUBuffer;
  /** f32 [S, D]: the decoder's gradient, += the L1 term (relu). */
  gWdec: GPUBuffer;
  /** f32 [S], written. */
  gBenc: GPUBuffer;
  /** u32 [4·S], written. */
  col: GPUBuffer;
}

/** The activation kernels of a fixed shape. */
export interface ActivationKernel {
  readonly shape: Readonly<ActivationShape>;
  /** Write the forward or backward mode and the scalars λ' = λ/(R·D) and ε (queue.writeBuffer). */
  setForward(mode: ForwardMode): void;
  encodeForward(pass: GPUComputePassEncoder, bufs: ActivationForwardBuffers): void;
  /** Record counts[s] = #{r : z ≠ 0} into the first plane of `col` (evaluation). */
  encodeCount(pass: GPUComputePassEncoder, bufs: { z: GPUBuffer; col: GPUBuffer }): void;
  setBackward(mode: BackwardMode, lambdaScaled: number, bandwidth: number): void;
  encodeBackward(pass: GPUComputePassEncoder, bufs: ActivationBackwardBuffers): void;
  destroy(): void;
}

/**
 * Build the activation kernels. The forward and backward passes use two uniform buffers, so both can be recorded
 * into one compute pass.
 * @throws GpuError on a non-positive size or an oversized [R, S] tensor.
 */
export function createActivation(gpu: Gpu, shape: ActivationShape, label = 'activation'): ActivationKernel {
  const { rows: R, dSae: S, dModel: D } = shape;
  positiveInt(label, 'rows', R);
  positiveInt(label, 'd_sae', S);
  positiveInt(label, 'd_model', D);
  fitsBinding(gpu, label, 'latents [rows, d_sae]', R * S);
  const wg = wgSize(gpu, 64);
  const ro = 'read-only-storage' as const;
  const rw = 'storage' as const;
  const kinds = ['uniform', ro, ro, rw, rw, ro, rw, rw, rw] as const;
  const pipe = (entry: string) => gpu.pipeline(activationShader, entry, kinds, { WG: wg });
  const pForward = pipe('activation_forward');
  const pCount = pipe('activation_count');
  const pBackward = pipe('activation_backward');
  const words = (mode: number, lambda: number, eps: number) =>
    new Uint32Array([R, S, D, mode, f32Bits(lambda), f32Bits(eps), 0, 0]);
  const fwdParams = gpu.uniform(`${label}:params-forward`, words(0, 0, 1));
  const bwdParams = gpu.uniform(`${label}:params-backward`, words(0, 0, 1));
  // Unused bindings get private dummies (never two writable bindings on one buffer).
  const dummies = [0, 1, 2, 3, 4].map((i) => gpu.storage(`${label}:unused${i}`, 16));
  const [dRo, d1, d2, d3, d4] = dummies;
  const elemGrid = grid1d(gpu, label, Math.ceil((R * S) / wg));
  const latentGrid = grid1d(gpu, label, Math.ceil(S / wg));
  let forwardMode: ForwardMode = 'relu';
  let backwardMode: BackwardMode = 'masked';
  return {
    shape: { ...shape },
    setForward(mode) {
      forwardMode = mode;
      gpu.write(fwdParams, words(FORWARD_MODES[mode], 0, 1));
    },
    encodeForward(pass, b) {
      needBuffer(label, 'pre', b.pre, R * S);
      needBuffer(label, 'z', b.z, R * S);
      if (forwardMode === 'threshold') {
        if (!b.threshold) throw new Error(`${label}: mode "threshold" needs θ`);
        needBuffer(label, 'threshold', b.threshold, S);
      }
      const th = b.threshold ?? dRo;
      gpu.dispatch(pass, pForward, [fwdParams, b.pre, th, b.z, d1, dRo, d2, d3, d4], elemGrid);
    },
    encodeCount(pass, b) {
      needBuffer(label, 'z', b.z, R * S);
      needBuffer(label, 'col', b.col, S);
      gpu.dispatch(pass, pCount, [fwdParams, dRo, dRo, b.z, d1, dRo, d2, d3, b.col], latentGrid);
    },
    setBackward(mode, lambdaScaled, bandwidth) {
      backwardMode = mode;
      gpu.write(bwdParams, words(BACKWARD_MODES[mode], lambdaScaled, bandwidth));
    },
    encodeBackward(pass, b) {
      for (const [what, buf, n] of [
        ['pre', b.pre, R * S],
        ['z', b.z, R * S],
        ['∂z', b.grad, R * S],
        ['W_dec', b.wDec, S * D],
        ['∂W_dec', b.gWdec, S * D],
        ['∂b_enc', b.gBenc, S],
        ['col', b.col, 4 * S],
      ] as const) {
        needBuffer(label, what, buf, n);
      }
      if (backwardMode === 'jumprelu') {
        if (!b.threshold) throw new Error(`${label}: mode "jumprelu" needs θ`);
        needBuffer(label, 'threshold', b.threshold, S);
      }
      gpu.dispatch(
        pass,
        pBackward,
        [bwdParams, b.pre, b.threshold ?? dRo, b.z, b.grad, b.wDec, b.gWdec, b.gBenc, b.col],
        latentGrid,
      );
    },
    destroy() {
      for (const buf of [fwdParams, bwdParams, ...dummies]) buf.destroy();
    },
  };
}

/** One-shot forward for tests: z f32 [R, S]. */
export async function activationForwardGpu(
  gpu: Gpu,
  pre: Float32Array,
  threshold: Float32Array | null,
  mode: ForwardMode,
  shape: ActivationShape,
): Promise<Float32Array> {
  const kernel = createActivation(gpu, shape);
  kernel.setForward(mode);
  const n = shape.rows * shape.dSae;
  const bufs = {
    pre: gpu.storage('activation:pre', pre),
    threshold: threshold ? gpu.storage('activation:threshold', threshold) : null,
    z: gpu.storage('activation:z', n * 4),
  };
  const all = [bufs.pre, bufs.z, ...(bufs.threshold ? [bufs.threshold] : [])];
  return oneShot(
    gpu,
    'activation-forward',
    all,
    (pass) => kernel.encodeForward(pass, bufs),
    () => gpu.readF32(bufs.z, n),
    () => kernel.destroy(),
  );
}

/** One-shot backward for tests: the per-latent outputs and the updated ∂W_dec. */
export async function activationBackwardGpu(
  gpu: Gpu,
  inp: {
    pre: Float32Array;
    z: Float32Array;
    gz: Float32Array;
    threshold: Float32Array | null;
    wDec: Float32Array;
    gWdec: Float32Array;
  },
  mode: BackwardMode,
  h: { lambdaScaled: number; bandwidth: number },
  shape: ActivationShape,
): Promise<ActivationBackwardResult & { gWdec: Float32Array; counts: Uint32Array }> {
  const { rows: R, dSae: S, dModel: D } = shape;
  const kernel = createActivation(gpu, shape);
  kernel.setBackward(mode, h.lambdaScaled, h.bandwidth);
  const bufs = {
    pre: gpu.storage('activation:pre', inp.pre),
    threshold: inp.threshold ? gpu.storage('activation:threshold', inp.threshold) : null,
    z: gpu.storage('activation:z', inp.z),
    grad: gpu.storage('activation:grad', inp.gz),
    wDec: gpu.storage('activation:w_dec', inp.wDec),
    gWdec: gpu.storage('activation:g_w_dec', inp.gWdec),
    gBenc: gpu.storage('activation:g_b_enc', S * 4),
    col: gpu.storage('activation:col', COL_PLANES * S * 4),
  };
  const countCol = gpu.storage('activation:count', S * 4);
  const all = [...Object.values(bufs).filter((b): b is GPUBuffer => b !== null), countCol];
  return oneShot(
    gpu,
    'activation-backward',
    all,
    (pass) => {
      kernel.encodeBackward(pass, bufs);
      kernel.encodeCount(pass, { z: bufs.z, col: countCol });
    },
    async () => {
      const col = await gpu.readU32(bufs.col, COL_PLANES * S);
      const f = new Float32Array(col.buffer);
      return {
        gPre: await gpu.readF32(bufs.grad, R * S),
        gBenc: await gpu.readF32(bufs.gBenc, S),
        fireCounts: col.slice(0, S),
        zSum: f.slice(S, 2 * S),
        decNorm: f.slice(2 * S, 3 * S),
        gLogThreshold: f.slice(3 * S, 4 * S),
        gWdec: await gpu.readF32(bufs.gWdec, S * D),
        counts: await gpu.readU32(countCol, S),
      };
    },
    () => kernel.destroy(),
  );
}
