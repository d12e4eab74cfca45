/**
 * Host wrapper for shaders/auxk.wgsl, auxk-pairs.wgsl and auxk-latents.wgsl: the AuxK loss for dead latents and its gradients, added to a step's main
 * gradients (Gao et al. 2024 §A.2, seed 000_03f50111ba1a6c62.txt). Reuses shaders/topk.wgsl (TopK_{k_aux} of the
 * masked pre-activations), shaders/decode.wgsl (ê without b_dec, per-row ‖ê − e‖²) and shaders/bucket.wgsl
 * (latent → aux pairs, sorted). CPU twin: src/reference/auxk.ts (auxkCpu), same order.
 *
 * Shape legend: R = rows, D = d_model, S = d_sae, k_aux. Owns: aux (index, value) [R, k_aux], e, ê (then ρ) [R, D],
 * aux row sums [R, 4], a zero b_dec [D], scalars f32 [8] = (loss, coef, n_dead, SSE_aux, SST_e, SST_x, 0, 0),
 * pairs [R, k_aux, 2], the aux buckets. Work ∝ R·S (mask, TopK) + R·k_aux·D; nothing dense in S·D except the
 * latents that fired in the aux picks.
 */
import auxkWgsl from '../../../shaders/auxk.wgsl?raw';
import auxkLatentsWgsl from '../../../shaders/auxk-latents.wgsl?raw';
import auxkPairsWgsl from '../../../shaders/auxk-pairs.wgsl?raw';
import { ROW_STATS, type SaeGrads, type TopKResult } from '../../sae/kernel-types';
import { type Gpu, GpuError, type ShaderSource } from '../device';
import { type Buckets, createBuckets } from './bucket';
import { f32Bits, fitsBinding, grid1d, needBuffer, oneShot, positiveInt, wgSize } from './common';
import { createDecode, type DecodeKernel } from './decode';
import { createTopK, type TopKKernel } from './topk';

export const auxkShader: ShaderSource = { name: 'auxk', code: auxkWgsl };
export const auxkPairsShader: ShaderSource = { name: 'auxk-pairs', code: auxkPairsWgsl };
export const auxkLatentsShader: ShaderSource = { name: 'auxk-latents', code: auxkLatentsWgsl };

/** f32 words of the AuxK scalars buffer. */
export const AUXK_SCALARS = 8;

/** Shape of the AuxK kernels. */
export interface AuxkShape {
  rows: number;
  dModel: number;
  dSae: number;
  /** k_aux ≤ min(d_sae, 256). */
  kAux: number;
}

/** Buffers AuxK reads and updates. */
export interface AuxkBuffers {
  /** f32 [R, D]. */
  x: GPUBuffer;
  /** f32 [R, D] the main reconstruction. */
  xHat: GPUBuffer;
  /** f32 [R, S] pre-activations — overwritten (masked) in place. */
  pre: GPUBuffer;
  /** u32 [S] counters before this step's update. */
  stepsSinceFired: GPUBuffer;
  /** Current W_enc [D, S], W_dec [S, D], b_dec [D]. */
  wEnc: GPUBuffer;
  wDec: GPUBuffer;
  bDec: GPUBuffer;
  /** Gradients, updated in place (+=): ∂W_enc [D, S], ∂W_dec [S, D], ∂b_enc [S], ∂b_dec [D]. */
  gWenc: GPUBuffer;
  gWdec: GPUBuffer;
  gBenc: GPUBuffer;
  gBdec: GPUBuffer;
}

/** The AuxK kernels of a fixed shape with their scratch buffers. */
export interface AuxkKernel {
  readonly shape: Readonly<AuxkShape>;
  /** f32 [8]: loss, coef, n_dead, SSE_aux, SST_e, SST_x. */
  readonly scalars: GPUBuffer;
  /** u32 [R, k_aux] and f32 [R, k_aux]: the aux picks. */
  readonly indices: GPUBuffer;
  readonly values: GPUBuffer;
  /** f32 [R, k_aux, 2]: (z, ∂pre) per aux pair. */
  readonly pairs: GPUBuffer;
  /** Write the dead window (steps) for work submitted afterwards. */
  setWindow(steps: number): void;
  encode(pass: GPUComputePassEncoder, bufs: AuxkBuffers): void;
  destroy(): void;
}

/** @throws GpuError on a bad size, k_aux > min(d_sae, 256), or an oversized tensor. */
export function createAuxk(gpu: Gpu, shape: AuxkShape, alpha: number, label = 'auxk'): AuxkKernel {
  const { rows: R, dModel: D, dSae: S, kAux } = shape;
  for (const [n, v] of Object.entries({ rows: R, d_model: D, d_sae: S, k_aux: kAux }))
    positiveInt(label, n, v);
  if (!(alpha >= 0)) throw new GpuError(`${label}: α must be ≥ 0, got ${alpha}`);
  fitsBinding(gpu, label, 'pre-activations [rows, d_sae]', R * S);
  const topk: TopKKernel = createTopK(gpu, { rows: R, dSae: S, k: kAux }, `${label}:topk`);
  const decode: DecodeKernel = createDecode(gpu, { rows: R, dModel: D, dSae: S, k: kAux }, `${label}:decode`);
  const buckets: Buckets = createBuckets(gpu, { rows: R, dSae: S, k: kAux }, `${label}:bucket`);
  const wg = wgSize(gpu, 64);
  const ro = 'read-only-storage' as const;
  const rw = 'storage' as const;
  const auxKinds = ['uniform', ro, ro, ro, ro, rw, rw, rw, rw] as const;
  const pairKinds = ['uniform', ro, ro, ro, ro, ro, rw, rw] as const;
  const latentKinds = ['uniform', ro, ro, ro, ro, ro, rw, rw, rw] as const;
  const pMask = gpu.pipeline(auxkShader, 'auxk_mask', auxKinds, { WG: wg });
  const pResidual = gpu.pipeline(auxkShader, 'auxk_residual', auxKinds, { WG: wg });
  const pScale = gpu.pipeline(auxkShader, 'auxk_scale', auxKinds, { WG: wg });
  const pRho = gpu.pipeline(auxkShader, 'auxk_rho', auxKinds, { WG: wg });
  const pPairs = gpu.pipeline(auxkPairsShader, 'auxk_pairs', pairKinds, { WG: wg });
  const pBdec = gpu.pipeline(auxkPairsShader, 'auxk_bdec', pairKinds, { WG: wg });
  const pLatents = gpu.pipeline(auxkLatentsShader, 'auxk_latents', latentKinds, { WG: wg });
  const words = (window: number) => new Uint32Array([R, D, S, kAux, window, f32Bits(alpha), 0, 0]);
  const params = gpu.uniform(`${label}:params`, words(1));
  const indices = gpu.storage(`${label}:indices`, R * kAux * 4);
  const values = gpu.storage(`${label}:values`, R * kAux * 4);
  const e = gpu.storage(`${label}:e`, R * D * 4);
  const eHat = gpu.storage(`${label}:e_hat`, R * D * 4);
  const rowStats = gpu.storage(`${label}:row_stats`, R * ROW_STATS * 4);
  const zeroBdec = gpu.storage(`${label}:zero_b_dec`, D * 4);
  const scalars = gpu.storage(`${label}:scalars`, AUXK_SCALARS * 4);
  const pairs = gpu.storage(`${label}:pairs`, R * kAux * 2 * 4);
  const owned = [params, indices, values, e, eHat, rowStats, zeroBdec, scalars, pairs];
  const gridRS = grid1d(gpu, label, Math.ceil((R * S) / wg));
  const gridRD = grid1d(gpu, label, Math.ceil((R * D) / wg));
  const gridPairs = grid1d(gpu, label, Math.ceil((R * kAux) / wg));
  const gridS = grid1d(gpu, label, S);
  const gridD = grid1d(gpu, label, D);
  return {
    shape: { ...shape },
    scalars,
    indices,
    values,
    pairs,
    setWindow(steps) {
      gpu.write(params, words(Math.min(Math.max(Math.ceil(steps), 1), 0xffffffff)));
    },
    encode(pass, b) {
      for (const [what, buf, n] of [
        ['x', b.x, R * D],
        ['x̂', b.xHat, R * D],
        ['pre', b.pre, R * S],
        ['steps_since_fired', b.stepsSinceFired, S],
        ['W_enc', b.wEnc, D * S],
        ['W_dec', b.wDec, S * D],
        ['b_dec', b.bDec, D],
        ['∂W_enc', b.gWenc, D * S],
        ['∂W_dec', b.gWdec, S * D],
        ['∂b_enc', b.gBenc, S],
        ['∂b_dec', b.gBdec, D],
      ] as const) {
        needBuffer(label, what, buf, n);
      }
      const aux = (p: typeof pMask, grid: readonly [number, number?]) =>
        gpu.dispatch(
          pass,
          p,
          [params, b.x, b.xHat, b.stepsSinceFired, rowStats, b.pre, e, eHat, scalars],
          grid,
        );
      aux(pMask, gridRS);
      topk.encode(pass, { pre: b.pre, indices, values });
      aux(pResidual, gridRD);
      decode.encode(pass, { x: e, indices, values, wDec: b.wDec, bDec: zeroBdec, xHat: eHat, rowStats });
      aux(pScale, [1]);
      aux(pRho, gridRD); // ρ = coef·(ê − e), over ê
      const pairBufs = [params, eHat, indices, values, b.wDec, b.wEnc, pairs, b.gBdec];
      gpu.dispatch(pass, pPairs, pairBufs, gridPairs);
      buckets.encodeBuild(pass, { indices, values });
      gpu.dispatch(
        pass,
        pLatents,
        [params, b.x, eHat, b.bDec, pairs, buckets.buckets, b.gWdec, b.gWenc, b.gBenc],
        gridS,
      );
      gpu.dispatch(pass, pBdec, pairBufs, gridD);
    },
    destroy() {
      for (const buf of owned) buf.destroy();
      topk.destroy();
      decode.destroy();
      buckets.destroy();
    },
  };
}

/** Result of {@link auxkGpu}. */
export interface AuxkGpuResult {
  /** The gradients after AuxK added its terms. */
  grads: SaeGrads;
  /** loss, coef, n_dead, SSE_aux, SST_e, SST_x. */
  scalars: Float32Array;
  picks: TopKResult;
  /** ∂pre per aux pair [R, k_aux]. */
  gradPre: Float32Array;
}

/**
 * One-shot AuxK for tests. `grads` are the main gradients (AuxK adds to them); `pre` is not modified.
 * @param window dead window in steps
 */
export async function auxkGpu(
  gpu: Gpu,
  inp: {
    x: Float32Array;
    xHat: Float32Array;
    pre: Float32Array;
    stepsSinceFired: Uint32Array;
    params: { wEnc: Float32Array; wDec: Float32Array; bDec: Float32Array };
  },
  grads: SaeGrads,
  h: { kAux: number; alpha: number; deadWindowSteps: number },
  shape: { rows: number; dModel: number; dSae: number },
): Promise<AuxkGpuResult> {
  const { rows: R, dModel: D, dSae: S } = shape;
  const kernel = createAuxk(gpu, { ...shape, kAux: h.kAux }, h.alpha);
  kernel.setWindow(h.deadWindowSteps);
  const bufs = {
    x: gpu.storage('auxk:x', inp.x),
    xHat: gpu.storage('auxk:x_hat', inp.xHat),
    pre: gpu.storage('auxk:pre', inp.pre),
    stepsSinceFired: gpu.storage('auxk:ssf', inp.stepsSinceFired),
    wEnc: gpu.storage('auxk:w_enc', inp.params.wEnc),
    wDec: gpu.storage('auxk:w_dec', inp.params.wDec),
    bDec: gpu.storage('auxk:b_dec', inp.params.bDec),
    gWenc: gpu.storage('auxk:g_w_enc', grads.wEnc),
    gWdec: gpu.storage('auxk:g_w_dec', grads.wDec),
    gBenc: gpu.storage('auxk:g_b_enc', grads.bEnc),
    gBdec: gpu.storage('auxk:g_b_dec', grads.bDec),
  };
  const n = R * h.kAux;
  return oneShot(
    gpu,
    'auxk',
    Object.values(bufs),
    (pass) => kernel.encode(pass, bufs),
    async () => {
      const pairs = await gpu.readF32(kernel.pairs, 2 * n);
      return {
        grads: {
          wEnc: await gpu.readF32(bufs.gWenc, D * S),
          wDec: await gpu.readF32(bufs.gWdec, S * D),
          bEnc: await gpu.readF32(bufs.gBenc, S),
          bDec: await gpu.readF32(bufs.gBdec, D),
        },
        scalars: await gpu.readF32(kernel.scalars, AUXK_SCALARS),
        picks: { indices: await gpu.readU32(kernel.indices, n), values: await gpu.readF32(kernel.values, n) },
        gradPre: Float32Array.from({ length: n }, (_, p) => pairs[2 * p + 1]),
      };
    },
    () => kernel.destroy(),
  );
}
