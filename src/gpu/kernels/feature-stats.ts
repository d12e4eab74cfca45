/**
 * Host wrapper of the feature pass's GPU kernels (src/features/pass.ts is the math): shaders/feature-top.wgsl (pass 1:
 * count, max, top-20 per latent) and shaders/feature-bands.wgsl (pass 2: 50-bin histogram, 10 quantile bands × 5
 * seeded samples). Both read a block of dense latents z [R, S] and update per-latent state that lives on the GPU
 * for the whole pass. CPU twin: featureStatsDenseCpu (src/features/pass.ts).
 */
import featureBandsWgsl from '../../../shaders/feature-bands.wgsl?raw';
import featureScatterWgsl from '../../../shaders/feature-scatter.wgsl?raw';
import featureTopWgsl from '../../../shaders/feature-top.wgsl?raw';
import { BANDS, BINS, binScales, emptyStats, type FeatureStats, PER_BAND, TOP_N } from '../../features/pass';
import type { Gpu, ShaderSource } from '../device';
import { fitsBinding, grid1d, needBuffer, oneShot, positiveInt } from './common';

export const featureTopShader: ShaderSource = { name: 'feature-top', code: featureTopWgsl };
export const featureBandsShader: ShaderSource = { name: 'feature-bands', code: featureBandsWgsl };

/** Workgroup size of both kernels (one invocation per latent). */
const WG = 64;

/** The per-latent state of a pass on the GPU (see {@link FeatureStats} for shapes; padding token −1, value 0). */
export interface FeatureStatsBuffers {
  count: GPUBuffer;
  maxAct: GPUBuffer;
  topValues: GPUBuffer;
  topTokens: GPUBuffer;
  hist: GPUBuffer;
  bandValues: GPUBuffer;
  bandTokens: GPUBuffer;
  histScale: GPUBuffer;
  bandScale: GPUBuffer;
}

/** A block's own parameters (rows, first dataset row), so several blocks can share one submit. */
export interface FeatureStatsBlock {
  readonly rows: number;
  /** Write new (rows, row0) into this block's uniforms (before the submit that uses them). */
  set(rows: number, row0: number): void;
  destroy(): void;
}

/** The two kernels for d_sae latents and blocks of at most maxRows rows. */
export interface FeatureStatsKernel {
  readonly buffers: FeatureStatsBuffers;
  /** Set the block's row count and first dataset row (write before the submit that uses them). */
  setBlock(rows: number, row0: number): void;
  /** Record pass 1 on z [rows, S]. */
  encodeTop(pass: GPUComputePassEncoder, z: GPUBuffer): void;
  /** Upload pass 2's scales from the maxima read back after pass 1. */
  setScales(maxAct: Float32Array): void;
  /** Record pass 2 on z [rows, S]. */
  encodeBands(pass: GPUComputePassEncoder, z: GPUBuffer): void;
  /** Uniforms of one block, for {@link encodeTopBlock} / {@link encodeBandsBlock} (caller destroys it). */
  block(label: string): FeatureStatsBlock;
  /** Record pass 1 on z [block.rows, S] with the block's own parameters. */
  encodeTopBlock(pass: GPUComputePassEncoder, z: GPUBuffer, block: FeatureStatsBlock): void;
  /** Record pass 2 on z [block.rows, S] with the block's own parameters. */
  encodeBandsBlock(pass: GPUComputePassEncoder, z: GPUBuffer, block: FeatureStatsBlock): void;
  /** Read the state back as {@link FeatureStats} (padding as the CPU twin's: −∞ / NaN values, token −1). */
  read(nTokens: number): Promise<FeatureStats>;
  destroy(): void;
}

/**
 * Create the kernels and their state buffers (cleared: counts 0, lists empty).
 * @throws GpuError on a non-positive size or a buffer beyond the device's binding limit.
 */
export function createFeatureStats(
  gpu: Gpu,
  shape: { dSae: number; maxRows: number; seed: number },
  label = 'feature-stats',
): FeatureStatsKernel {
  const { dSae: S, maxRows, seed } = shape;
  positiveInt(label, 'd_sae', S);
  positiveInt(label, 'rows', maxRows);
  fitsBinding(gpu, label, 'z', maxRows * S);
  fitsBinding(gpu, label, 'band lists', S * BANDS * PER_BAND);
  const ro = 'read-only-storage' as const;
  const rw = 'storage' as const;
  const top = gpu.pipeline(featureTopShader, 'feature_top', ['uniform', ro, rw, rw, rw, rw], { WG });
  const bands = gpu.pipeline(featureBandsShader, 'feature_bands', ['uniform', ro, ro, ro, rw, rw, rw], {
    WG,
  });
  const [gx, gy] = grid1d(gpu, label, Math.ceil(S / WG));
  const stride = gx * WG;
  const empty = emptyStats(S, seed);
  const b: FeatureStatsBuffers = {
    count: gpu.storage(`${label}:count`, empty.count),
    maxAct: gpu.storage(`${label}:max_act`, empty.maxAct),
    topValues: gpu.storage(`${label}:top_values`, new Float32Array(S * TOP_N)),
    topTokens: gpu.storage(`${label}:top_tokens`, empty.topTokens),
    hist: gpu.storage(`${label}:hist`, empty.hist),
    bandValues: gpu.storage(`${label}:band_values`, new Float32Array(S * BANDS * PER_BAND)),
    bandTokens: gpu.storage(`${label}:band_tokens`, empty.bandTokens),
    histScale: gpu.storage(`${label}:hist_scale`, S * 4),
    bandScale: gpu.storage(`${label}:band_scale`, S * 4),
  };
  const topParams = gpu.uniform(`${label}:top_params`, new Uint32Array([1, S, 0, stride]));
  const bandParams = gpu.uniform(
    `${label}:band_params`,
    new Uint32Array([1, S, 0, seed >>> 0, stride, 0, 0, 0]),
  );
  let rows = 0;
  const writeParams = (top: GPUBuffer, band: GPUBuffer, r: number, row0: number) => {
    positiveInt(label, 'rows', r);
    if (r > maxRows) throw new RangeError(`${label}: a block of ${r} rows exceeds ${maxRows}`);
    gpu.write(top, new Uint32Array([r, S, row0, stride]));
    gpu.write(band, new Uint32Array([r, S, row0, seed >>> 0, stride, 0, 0, 0]));
  };
  const blocks = new WeakMap<FeatureStatsBlock, { top: GPUBuffer; band: GPUBuffer }>();
  const own = (blk: FeatureStatsBlock) => {
    const u = blocks.get(blk);
    if (!u) throw new RangeError(`${label}: a block of another kernel`);
    return u;
  };
  return {
    buffers: b,
    setBlock(r, row0) {
      writeParams(topParams, bandParams, r, row0);
      rows = r;
    },
    block(blockLabel) {
      const u = {
        top: gpu.uniform(`${label}:${blockLabel}:top_params`, new Uint32Array(4)),
        band: gpu.uniform(`${label}:${blockLabel}:band_params`, new Uint32Array(8)),
      };
      let blockRows = 0;
      const blk: FeatureStatsBlock = {
        get rows() {
          return blockRows;
        },
        set(r, row0) {
          writeParams(u.top, u.band, r, row0);
          blockRows = r;
        },
        destroy() {
          u.top.destroy();
          u.band.destroy();
        },
      };
      blocks.set(blk, u);
      return blk;
    },
    encodeTopBlock(pass, z, blk) {
      needBuffer(label, 'z', z, blk.rows * S);
      const u = own(blk);
      gpu.dispatch(pass, top, [u.top, z, b.count, b.maxAct, b.topValues, b.topTokens], [gx, gy]);
    },
    encodeBandsBlock(pass, z, blk) {
      needBuffer(label, 'z', z, blk.rows * S);
      const u = own(blk);
      gpu.dispatch(
        pass,
        bands,
        [u.band, z, b.histScale, b.bandScale, b.hist, b.bandValues, b.bandTokens],
        [gx, gy],
      );
    },
    encodeTop(pass, z) {
      needBuffer(label, 'z', z, rows * S);
      gpu.dispatch(pass, top, [topParams, z, b.count, b.maxAct, b.topValues, b.topTokens], [gx, gy]);
    },
    setScales(maxAct) {
      gpu.write(b.histScale, binScales(maxAct, BINS));
      gpu.write(b.bandScale, binScales(maxAct, BANDS));
    },
    encodeBands(pass, z) {
      needBuffer(label, 'z', z, rows * S);
      gpu.dispatch(
        pass,
        bands,
        [bandParams, z, b.histScale, b.bandScale, b.hist, b.bandValues, b.bandTokens],
        [gx, gy],
      );
    },
    async read(nTokens) {
      const st = emptyStats(S, seed);
      st.nTokens = nTokens;
      st.count = await gpu.readU32(b.count, S);
      st.maxAct = await gpu.readF32(b.maxAct, S);
      st.topTokens = await gpu.readI32(b.topTokens, S * TOP_N);
      st.topValues = await gpu.readF32(b.topValues, S * TOP_N);
      st.hist = await gpu.readU32(b.hist, S * BINS);
      st.bandTokens = await gpu.readI32(b.bandTokens, S * BANDS * PER_BAND);
      st.bandValues = await gpu.readF32(b.bandValues, S * BANDS * PER_BAND);
      st.topTokens.forEach((t, j) => {
        if (t < 0) st.topValues[j] = Number.NEGATIVE_INFINITY;
      });
      st.bandTokens.forEach((t, j) => {
        if (t < 0) st.bandValues[j] = Number.NaN;
      });
      return st;
    },
    destroy() {
      for (const buf of [...Object.values(b), topParams, bandParams]) buf.destroy();
    },
  };
}

/**
 * Both passes on the GPU over blocks of dense latents (block i [R_i, S] follows block i − 1), one submit per block
 * and pass; pass 2's scales come from pass 1's maxima read back in between. For tests and the bench; the twin is
 * featureStatsDenseCpu.
 */
export async function featureStatsGpu(
  gpu: Gpu,
  blocks: readonly Float32Array[],
  dSae: number,
  seed: number,
): Promise<FeatureStats> {
  const maxRows = Math.max(...blocks.map((z) => z.length / dSae));
  const k = createFeatureStats(gpu, { dSae, maxRows, seed });
  const zs = blocks.map((z, i) => gpu.storage(`feature-stats:z${i}`, z));
  try {
    const run = async (encode: (pass: GPUComputePassEncoder, z: GPUBuffer) => void) => {
      let row0 = 0;
      for (const [i, z] of zs.entries()) {
        const rows = blocks[i].length / dSae;
        k.setBlock(rows, row0);
        await gpu.run('feature-stats', (pass) => encode(pass, z));
        row0 += rows;
      }
      return row0;
    };
    const n = await run((pass, z) => k.encodeTop(pass, z));
    k.setScales(await gpu.readF32(k.buffers.maxAct, dSae));
    await run((pass, z) => k.encodeBands(pass, z));
    return await k.read(n);
  } finally {
    for (const z of zs) z.destroy();
    k.destroy();
  }
}

export const featureScatterShader: ShaderSource = { name: 'feature-scatter', code: featureScatterWgsl };

/** Buffers of one scatter. */
export interface FeatureScatterBuffers {
  /** u32 [R, k] and f32 [R, k] from the TopK kernel. */
  indices: GPUBuffer;
  values: GPUBuffer;
  /** f32 [R, S], written. */
  z: GPUBuffer;
}

/** TopK (indices, values) → dense z, of fixed shape (shaders/feature-scatter.wgsl). */
export interface FeatureScatterKernel {
  /** z = 0, then the pairs written (R·S + R·k writes). */
  encode(pass: GPUComputePassEncoder, b: FeatureScatterBuffers): void;
  /** Only the pairs written (R·k writes): z must be zero elsewhere (a new buffer, or after {@link encodeUnscatter}). */
  encodeSparse(pass: GPUComputePassEncoder, b: FeatureScatterBuffers): void;
  /** z[r, indices[r, j]] = 0 (R·k writes): a zero z again after {@link encodeSparse} with the same indices. */
  encodeUnscatter(pass: GPUComputePassEncoder, b: FeatureScatterBuffers): void;
  destroy(): void;
}

/** @throws GpuError on a non-positive size or a z beyond the binding limit. */
export function createFeatureScatter(
  gpu: Gpu,
  shape: { rows: number; dSae: number; k: number },
  label = 'feature-scatter',
): FeatureScatterKernel {
  const { rows: R, dSae: S, k } = shape;
  for (const [n, v] of Object.entries({ rows: R, d_sae: S, k })) positiveInt(label, n, v);
  fitsBinding(gpu, label, 'z', R * S);
  const ro = 'read-only-storage' as const;
  const bindings = ['uniform', ro, ro, 'storage'] as const;
  const clear = gpu.pipeline(featureScatterShader, 'feature_clear', bindings, { WG });
  const scatter = gpu.pipeline(featureScatterShader, 'feature_scatter', bindings, { WG });
  const unscatter = gpu.pipeline(featureScatterShader, 'feature_unscatter', bindings, { WG });
  const [cx, cy] = grid1d(gpu, label, Math.ceil((R * S) / WG));
  const [sx, sy] = grid1d(gpu, label, Math.ceil((R * k) / WG));
  const clearParams = gpu.uniform(`${label}:clear_params`, new Uint32Array([R, S, k, cx * WG]));
  const scatterParams = gpu.uniform(`${label}:scatter_params`, new Uint32Array([R, S, k, sx * WG]));
  const need = (b: FeatureScatterBuffers) => {
    needBuffer(label, 'indices', b.indices, R * k);
    needBuffer(label, 'values', b.values, R * k);
    needBuffer(label, 'z', b.z, R * S);
    return [scatterParams, b.indices, b.values, b.z];
  };
  return {
    encode(pass, b) {
      need(b);
      gpu.dispatch(pass, clear, [clearParams, b.indices, b.values, b.z], [cx, cy]);
      gpu.dispatch(pass, scatter, [scatterParams, b.indices, b.values, b.z], [sx, sy]);
    },
    encodeSparse(pass, b) {
      gpu.dispatch(pass, scatter, need(b), [sx, sy]);
    },
    encodeUnscatter(pass, b) {
      gpu.dispatch(pass, unscatter, need(b), [sx, sy]);
    },
    destroy() {
      clearParams.destroy();
      scatterParams.destroy();
    },
  };
}

/** One-shot scatter for tests: dense z f32 [R, S]. */
export async function featureScatterGpu(
  gpu: Gpu,
  indices: Uint32Array,
  values: Float32Array,
  rows: number,
  dSae: number,
): Promise<Float32Array> {
  const k = indices.length / rows;
  const kernel = createFeatureScatter(gpu, { rows, dSae, k });
  const b = {
    indices: gpu.storage('feature-scatter:indices', indices),
    values: gpu.storage('feature-scatter:values', values),
    z: gpu.storage(
      'feature-scatter:z',
      Float32Array.from({ length: rows * dSae }, () => 7),
    ),
  };
  return oneShot(
    gpu,
    'feature-scatter',
    Object.values(b),
    (pass) => kernel.encode(pass, b),
    () => gpu.readF32(b.z, rows * dSae),
    () => kernel.destroy(),
  );
}
