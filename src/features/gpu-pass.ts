/**
 * The feature pass on the GPU (src/features/pass.ts states the math; featurePassCpu is its twin). Per block of rows:
 * encoder (shaders/encoder.wgsl) → latents (TopK: shaders/topk.wgsl + feature-scatter.wgsl; ReLU / threshold:
 * shaders/activation.wgsl) → pass-1 kernel (shaders/feature-top.wgsl). The per-latent state stays on the GPU for
 * the whole pass; only the maxima are read back between the passes (for the bin scales) and everything at the end.
 * Pass 2 (shaders/feature-bands.wgsl) reuses the block's latents kept on the GPU when they fit in
 * {@link GPU_CACHE_BYTES} (TopK: the sparse (index, value) pairs; dense activations: z), else it encodes again.
 *
 * The encoder's float sums may round differently from the CPU's, so a latent whose value ties another within
 * rounding can rank differently from featurePassCpu; the kernels themselves equal their CPU twin exactly
 * (e2e/harness/checks/features.ts).
 */
import type { Gpu } from '../gpu/device';
import { createActivation } from '../gpu/kernels/activation';
import { createEncoder } from '../gpu/kernels/encoder';
import { createFeatureScatter, createFeatureStats } from '../gpu/kernels/feature-stats';
import { createTopK } from '../gpu/kernels/topk';
import type { InferenceSae } from '../lm/sae-splice';
import { type FeatureStats, PassCancelled, type PassOptions, type RowReader } from './pass';

/** GPU memory the pass may keep between its passes. */
export const GPU_CACHE_BYTES = 256 * 2 ** 20;

/**
 * Run the feature pass of `sae` over `rows` on `gpu` (options as featurePassCpu; blockRows default 1024).
 * @throws GpuError from the kernels (sizes beyond the device's limits); PassCancelled when cancelled.
 */
export async function featurePassGpu(
  gpu: Gpu,
  sae: InferenceSae,
  rows: RowReader,
  o: PassOptions = {},
): Promise<FeatureStats> {
  const T = Math.min(rows.nTokens, o.maxTokens ?? rows.nTokens);
  const B = Math.min(o.blockRows ?? 1024, Math.max(T, 1));
  const { dIn: D, dSae: S, activation: act } = sae;
  const k = act.kind === 'topk' ? Math.min(act.k, S) : 0;
  const L = 'feature-pass';
  const owned: { destroy(): void }[] = [];
  const buf = (label: string, data: number | Float32Array) => {
    const b = gpu.storage(`${L}:${label}`, data);
    owned.push(b);
    return b;
  };
  const wEnc = buf('W_enc', sae.wEnc);
  const bEnc = buf('b_enc', sae.bEnc);
  const bDec = buf('b_dec', sae.bDec);
  const threshold = act.kind === 'threshold' ? buf('threshold', act.threshold) : null;
  const x = buf('x', B * D * 4);
  const pre = buf('pre', B * S * 4);
  const stats = createFeatureStats(gpu, { dSae: S, maxRows: B, seed: o.seed ?? 0 });
  owned.push(stats);
  const perBlock = k > 0 ? B * k * 8 : B * S * 4;
  const nBlocks = Math.ceil(T / B);
  const keep = nBlocks * perBlock <= GPU_CACHE_BYTES;
  // Per block: (indices, values) for TopK or z for the dense activations, kept for pass 2 when `keep`.
  const latents: { indices: GPUBuffer; values: GPUBuffer; z: GPUBuffer }[] = [];
  const zShared = buf('z', B * S * 4);
  const latentBufs = (i: number) => {
    if (!keep && latents[0]) return latents[0];
    if (latents[i]) return latents[i];
    const l =
      k > 0
        ? { indices: buf(`indices${i}`, B * k * 4), values: buf(`values${i}`, B * k * 4), z: zShared }
        : { indices: zShared, values: zShared, z: buf(`z${i}`, B * S * 4) };
    latents[keep ? i : 0] = l;
    return l;
  };
  // Kernels of a fixed row count: the full blocks and the last one.
  const kernels = new Map<number, ReturnType<typeof makeKernels>>();
  function makeKernels(n: number) {
    const enc = createEncoder(gpu, { rows: n, dModel: D, dSae: S }, `${L}:encoder`);
    const topk = k > 0 ? createTopK(gpu, { rows: n, dSae: S, k }, `${L}:topk`) : null;
    const scatter = k > 0 ? createFeatureScatter(gpu, { rows: n, dSae: S, k }, `${L}:scatter`) : null;
    const actK = k > 0 ? null : createActivation(gpu, { rows: n, dSae: S, dModel: D }, `${L}:activation`);
    actK?.setForward(act.kind === 'threshold' ? 'threshold' : 'relu');
    owned.push(enc, ...[topk, scatter, actK].filter((q) => q !== null));
    return { enc, topk, scatter, actK };
  }
  const kernelsFor = (n: number) => {
    let q = kernels.get(n);
    if (!q) {
      q = makeKernels(n);
      kernels.set(n, q);
    }
    return q;
  };
  const check = () => {
    if (o.cancelled?.()) throw new PassCancelled();
  };
  try {
    for (let pass = 1 as 1 | 2; pass <= 2; pass++) {
      for (let i = 0, r0 = 0; r0 < T; i++, r0 += B) {
        check();
        const n = Math.min(B, T - r0);
        const q = kernelsFor(n);
        const l = latentBufs(i);
        const encodeAgain = pass === 1 || !keep;
        if (encodeAgain) gpu.write(x, await rows.read(r0, n));
        stats.setBlock(n, r0);
        await gpu.run(L, (p) => {
          if (encodeAgain) {
            q.enc.encode(p, { x, wEnc, bEnc, bDec, pre });
            if (q.topk) q.topk.encode(p, { pre, indices: l.indices, values: l.values });
            else q.actK?.encodeForward(p, { pre, threshold, z: l.z });
          }
          if (q.scatter) q.scatter.encode(p, { indices: l.indices, values: l.values, z: l.z });
          if (pass === 1) stats.encodeTop(p, l.z);
          else stats.encodeBands(p, l.z);
        });
        o.progress?.({ pass, rows: r0 + n, total: T });
      }
      if (pass === 1) stats.setScales(await gpu.readF32(stats.buffers.maxAct, S));
    }
    return await stats.read(T);
  } finally {
    for (const b of owned) b.destroy();
  }
}
