/**
 * The feature pass on the GPU (src/features/pass.ts states the math; featurePassCpu is its twin). Per block of rows:
 * encoder (shaders/encoder.wgsl) → latents (TopK: shaders/topk.wgsl + feature-scatter.wgsl; ReLU / threshold:
 * shaders/activation.wgsl) → pass-1 kernel (shaders/feature-top.wgsl). The per-latent state stays on the GPU for
 * the whole pass; only the maxima are read back between the passes (for the bin scales) and everything at the end.
 * Pass 2 (shaders/feature-bands.wgsl) reuses the block's latents kept on the GPU when they fit in
 * {@link GPU_CACHE_BYTES} (TopK: the sparse (index, value) pairs; dense activations: z), else it encodes again.
 * Work is grouped: up to {@link SUBMIT_ROWS} rows of blocks are recorded into one command encoder (one submit and
 * one wait), each block with its own input buffer and stats uniforms. For TopK the dense z is scattered sparsely
 * (R·k writes) and unscattered after the stats kernel, so it stays zero between blocks instead of being cleared
 * (R·S writes).
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

/** Rows recorded into one submit (whole blocks, at least one): fewer submits and waits, progress still moves. */
export const SUBMIT_ROWS = 8192;

/** How the GPU pass groups its work (results do not depend on it; tests vary it to cover every path). */
export interface GpuPassTuning {
  /** Rows per submit, rounded up to whole blocks (default {@link SUBMIT_ROWS}). */
  submitRows?: number;
  /** Bytes of latents kept between the passes (default {@link GPU_CACHE_BYTES}; 0: pass 2 encodes again). */
  cacheBytes?: number;
}

/**
 * Run the feature pass of `sae` over `rows` on `gpu` (options as featurePassCpu; blockRows default 1024).
 * Several blocks share one command encoder and submit (`tuning.submitRows`).
 * @throws GpuError from the kernels (sizes beyond the device's limits); PassCancelled when cancelled.
 */
export async function featurePassGpu(
  gpu: Gpu,
  sae: InferenceSae,
  rows: RowReader,
  o: PassOptions = {},
  tuning: GpuPassTuning = {},
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
  const pre = buf('pre', B * S * 4);
  const stats = createFeatureStats(gpu, { dSae: S, maxRows: B, seed: o.seed ?? 0 });
  owned.push(stats);
  const perBlock = k > 0 ? B * k * 8 : B * S * 4;
  const nBlocks = Math.ceil(T / B);
  const keep = nBlocks * perBlock <= (tuning.cacheBytes ?? GPU_CACHE_BYTES);
  // Blocks recorded into one command encoder (one submit, one wait): each slot of a group has its own x and
  // stats uniforms, since queue writes all land before the submit runs.
  const G = Math.max(1, Math.min(nBlocks, Math.ceil((tuning.submitRows ?? SUBMIT_ROWS) / B)));
  const slots = Array.from({ length: G }, (_, j) => {
    const blk = stats.block(`slot${j}`);
    owned.push(blk);
    return { x: buf(`x${j}`, B * D * 4), blk };
  });
  // Per block: (indices, values) for TopK or z for the dense activations, kept for pass 2 when `keep`.
  // TopK's dense z is shared and stays zero between blocks (scatter → stats → unscatter).
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
      const encodeAgain = pass === 1 || !keep;
      for (let g0 = 0; g0 < nBlocks; g0 += G) {
        check();
        // Host side of the group first: uploads and uniforms, then one recording of all its blocks.
        const group: { n: number; i: number; slot: (typeof slots)[number] }[] = [];
        for (let i = g0; i < Math.min(nBlocks, g0 + G); i++) {
          const r0 = i * B;
          const n = Math.min(B, T - r0);
          const slot = slots[i - g0];
          if (encodeAgain) gpu.write(slot.x, await rows.read(r0, n));
          check();
          slot.blk.set(n, r0);
          group.push({ n, i, slot });
        }
        await gpu.run(L, (p) => {
          for (const { n, i, slot } of group) {
            const q = kernelsFor(n);
            const l = latentBufs(i);
            if (encodeAgain) {
              q.enc.encode(p, { x: slot.x, wEnc, bEnc, bDec, pre });
              if (q.topk) q.topk.encode(p, { pre, indices: l.indices, values: l.values });
              else q.actK?.encodeForward(p, { pre, threshold, z: l.z });
            }
            q.scatter?.encodeSparse(p, l);
            if (pass === 1) stats.encodeTopBlock(p, l.z, slot.blk);
            else stats.encodeBandsBlock(p, l.z, slot.blk);
            q.scatter?.encodeUnscatter(p, l);
          }
        });
        const last = group[group.length - 1];
        o.progress?.({ pass, rows: last.i * B + last.n, total: T });
      }
      if (pass === 1) stats.setScales(await gpu.readF32(stats.buffers.maxAct, S));
    }
    return await stats.read(T);
  } finally {
    for (const b of owned) b.destroy();
  }
}
