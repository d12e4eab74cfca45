/**
 * feature-stats: the feature pass's GPU kernels (shaders/feature-top.wgsl, feature-bands.wgsl) against their CPU
 * twin featureStatsDenseCpu on seeded dense latents — blocks of `rows` rows × d_sae `dSae`, a fraction `density` of
 * entries positive, values quantised to multiples of 1/`ties` when ties > 0 (heavy ties: the lower-token rule and
 * band priorities decide). Every output exact: count, max, top-20 values and tokens (the exact top-k sets in order),
 * histogram, band values and tokens. Padding (token −1) compares as value 0.
 */
import { featurePassGpu } from '../../../src/features/gpu-pass';
import {
  type FeatureStats,
  featurePassCpu,
  featureStatsDenseCpu,
  scatterTopkCpu,
} from '../../../src/features/pass';
import {
  createFeatureScatter,
  createFeatureStats,
  featureScatterGpu,
  featureStatsGpu,
} from '../../../src/gpu/kernels/feature-stats';
import type { InferenceSae } from '../../../src/lm/sae-splice';
import { Rng } from '../../../src/util/rng';
import { type Check, num } from './types';
import { compareExact } from './util';

/** Values where the token is −1 become 0 (−∞ and NaN padding do not compare). */
function padded(values: Float32Array, tokens: Int32Array): Float32Array {
  return values.map((v, j) => (tokens[j] < 0 ? 0 : v));
}

/** Exact reports of every output of two feature passes (padding compared as 0). */
function compareStats(t: string, got: FeatureStats, want: FeatureStats) {
  return [
    compareExact(`${t} count`, got.count, want.count),
    compareExact(`${t} max`, got.maxAct, want.maxAct),
    compareExact(`${t} top tokens`, got.topTokens, want.topTokens),
    compareExact(
      `${t} top values`,
      padded(got.topValues, got.topTokens),
      padded(want.topValues, want.topTokens),
    ),
    compareExact(`${t} histogram`, got.hist, want.hist),
    compareExact(`${t} band tokens`, got.bandTokens, want.bandTokens),
    compareExact(
      `${t} band values`,
      padded(got.bandValues, got.bandTokens),
      padded(want.bandValues, want.bandTokens),
    ),
  ];
}

export const featureStatsCheck: Check = async (gpu, p) => {
  const S = num(p, 'dSae');
  const R = num(p, 'rows');
  const nBlocks = num(p, 'blocks', 3);
  const seed = num(p, 'seed', 1);
  const density = num(p, 'density', 0.2);
  const ties = num(p, 'ties', 0);
  const rng = new Rng(seed);
  const blocks = Array.from({ length: nBlocks }, (_, i) => {
    const rows = i === nBlocks - 1 ? Math.max(1, R - 7) : R; // a shorter last block
    return Float32Array.from({ length: rows * S }, () => {
      if (rng.next() >= density) return rng.next() < 0.5 ? 0 : -rng.next();
      const v = rng.next() * 3 + 1e-3;
      return ties > 0 ? Math.ceil(v * ties) / ties : v;
    });
  });
  // Latent 0 never fires (a dead latent: empty lists on both sides).
  for (const z of blocks) for (let r = 0; r < z.length / S; r++) z[r * S] = 0;
  const got = await featureStatsGpu(gpu, blocks, S, seed);
  const want = featureStatsDenseCpu(blocks, S, seed);
  const t = `feature-stats S=${S} R=${R}×${nBlocks} ties=${ties}`;
  // The kernel object is also built once with a 2-D grid limit check (no dispatch): creation must succeed.
  createFeatureStats(gpu, { dSae: S, maxRows: R, seed }).destroy();
  return compareStats(t, got, want);
};

/** Seeded TopK-like pairs: per row k distinct latent indices u32 [R, k] and normal values f32 [R, k]. */
function seededPairs(R: number, S: number, k: number, seed: number) {
  const rng = new Rng(seed);
  const indices = new Uint32Array(R * k);
  for (let r = 0; r < R; r++) {
    const picked = new Set<number>();
    while (picked.size < k) picked.add(rng.int(S));
    [...picked].forEach((s, j) => {
      indices[r * k + j] = s;
    });
  }
  return { indices, values: rng.normalArray(R * k) };
}

/** feature-scatter: TopK (indices, values) → dense z, exact, at rows × d_sae with k per row (negative values → 0). */
export const featureScatterCheck: Check = async (gpu, p) => {
  const R = num(p, 'rows');
  const S = num(p, 'dSae');
  const k = num(p, 'k');
  const { indices, values } = seededPairs(R, S, k, num(p, 'seed', 1));
  const got = await featureScatterGpu(gpu, indices, values, R, S);
  return [compareExact(`feature-scatter R=${R} S=${S} k=${k}`, got, scatterTopkCpu(indices, values, R, S))];
};

/**
 * feature-unscatter: the feature pass's sparse scatter on a zero z (shaders/feature-scatter.wgsl feature_scatter
 * alone) equals scatterTopkCpu exactly, and feature_unscatter with the same indices leaves z all zero again.
 */
export const featureUnscatterCheck: Check = async (gpu, p) => {
  const R = num(p, 'rows');
  const S = num(p, 'dSae');
  const k = num(p, 'k');
  const { indices, values } = seededPairs(R, S, k, num(p, 'seed', 1));
  const kernel = createFeatureScatter(gpu, { rows: R, dSae: S, k }, 'feature-unscatter');
  const b = {
    indices: gpu.storage('feature-unscatter:indices', indices),
    values: gpu.storage('feature-unscatter:values', values),
    z: gpu.storage('feature-unscatter:z', R * S * 4),
  };
  try {
    await gpu.run('feature-unscatter', (pass) => kernel.encodeSparse(pass, b));
    const scattered = await gpu.readF32(b.z, R * S);
    await gpu.run('feature-unscatter', (pass) => kernel.encodeUnscatter(pass, b));
    const cleared = await gpu.readF32(b.z, R * S);
    const t = `feature-unscatter R=${R} S=${S} k=${k}`;
    return [
      compareExact(`${t} scatter`, scattered, scatterTopkCpu(indices, values, R, S)),
      compareExact(`${t} unscatter`, cleared, new Float32Array(R * S)),
    ];
  } finally {
    kernel.destroy();
    for (const buf of Object.values(b)) buf.destroy();
  }
};

/**
 * feature-pass: the whole GPU pass (encoder → latents → both kernels, src/features/gpu-pass.ts) against
 * featurePassCpu on an SAE whose sums are exact in float32 whatever their order (weights, biases and inputs are
 * small multiples of 1/4), so every output must be equal, ties included. `arch`: topk (k), relu or threshold.
 */
export const featurePassCheck: Check = async (gpu, p) => {
  const D = num(p, 'dModel');
  const S = num(p, 'dSae');
  const T = num(p, 'rows');
  const arch = String(p.arch ?? 'topk');
  const rng = new Rng(num(p, 'seed', 1));
  const q = (n: number, span: number) =>
    Float32Array.from({ length: n }, () => (rng.int(2 * span + 1) - span) / 4);
  const activation: InferenceSae['activation'] =
    arch === 'topk'
      ? { kind: 'topk', k: num(p, 'k') }
      : arch === 'threshold'
        ? { kind: 'threshold', threshold: Float32Array.from({ length: S }, () => rng.int(4) / 4) }
        : { kind: 'relu' };
  const sae: InferenceSae = {
    dIn: D,
    dSae: S,
    wEnc: q(D * S, 3),
    wDec: q(S * D, 3),
    bEnc: q(S, 2),
    bDec: q(D, 2),
    activation,
  };
  const x = q(T * D, 4);
  const reader = { nTokens: T, read: async (a: number, n: number) => x.slice(a * D, (a + n) * D) };
  const blockRows = num(p, 'blockRows', 64);
  // Optional grouping (rows per submit) and cache size (0: pass 2 encodes again); defaults as the app's.
  const tuning = {
    submitRows: p.submitRows === undefined ? undefined : num(p, 'submitRows'),
    cacheBytes: p.cacheBytes === undefined ? undefined : num(p, 'cacheBytes'),
  };
  const got = await featurePassGpu(gpu, sae, reader, { seed: 5, blockRows }, tuning);
  const want = await featurePassCpu(sae, reader, { seed: 5, blockRows });
  const t = `feature-pass ${arch} D=${D} S=${S} T=${T} block=${blockRows} submit=${tuning.submitRows ?? 'default'} cache=${tuning.cacheBytes ?? 'default'}`;
  return compareStats(t, got, want);
};
