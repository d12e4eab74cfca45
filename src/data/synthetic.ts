/**
 * Synthetic activations with a known answer (the "toy model of superposition" setting; SAELens ships the same
 * idea): n_features true unit directions f_i in d_model, each firing independently with its own probability
 * p_i and a random magnitude a ≥ 0, plus optional Gaussian noise:
 *
 *   x_t = Σ_i [fires_{t,i}] · a_{t,i} · f_i + σ·ε_t,   ε_t ~ N(0, I_{d_model})
 *
 * Shapes: features [n_features, d_model] (row i = f_i, unit norm), probabilities [n_features], rows
 * [n_tokens, d_model]; all float32, row-major. Everything is drawn from one seeded {@link Rng}, so the same spec
 * gives the same bytes in the page, a worker and Node.
 *
 * The dataset is stored through the normal import path (importDataset over an in-memory .npy, manifest last),
 * with the truth (features + probabilities) in the manifest's `synthetic` field; a trained SAE is then scored with
 * `featureRecovery` (src/sae/metrics.ts).
 */
import { Rng } from '../util/rng';
import { bytesSource } from './bytes';
import { npyBytes } from './fixtures';
import { importDataset } from './importer';
import type { DatasetStore } from './store';
import type { DatasetManifest, SyntheticTruth } from './types';

/** How often each true feature fires. */
export type FiringSpec =
  /** Every feature fires with p = meanActive / n_features. */
  | { kind: 'uniform'; meanActive: number }
  /** p_i ∝ (i + 1)^(−exponent), scaled so Σ p_i = meanActive (each p_i capped at 1). */
  | { kind: 'zipf'; exponent: number; meanActive: number };

/** Magnitude a of a firing feature. */
export type MagnitudeSpec =
  /** a ~ U[min, max). */
  | { kind: 'uniform'; min: number; max: number }
  /** a ~ Exp(1 / mean) (mean `mean`). */
  | { kind: 'exponential'; mean: number };

/** Everything that defines a synthetic dataset. Plain data (JSON-safe); stored in the manifest. */
export interface SyntheticSpec {
  /** Width of each row. */
  dModel: number;
  /** Number of true features (may exceed d_model: superposition). */
  nFeatures: number;
  /** Number of rows (tokens). */
  nTokens: number;
  /** Seed of every draw. */
  seed: number;
  /**
   * Controlled pairwise overlap ρ ∈ [0, 1): f_i = normalise(√(1−ρ)·g_i + √ρ·c) with g_i and one shared c random
   * unit vectors, so the expected pairwise cosine is ≈ ρ (exact as d_model → ∞). 0 = independent random
   * directions (pairwise |cos| ~ 1/√d_model). Default 0.
   */
  overlap?: number;
  firing: FiringSpec;
  magnitude: MagnitudeSpec;
  /**
   * Correlated groups: features are cut into consecutive groups of `size`; within a group, each feature's firing
   * draw reuses the group's shared uniform with probability `correlation` (else its own), which keeps every
   * marginal p_i and makes features of a group co-fire. Default none.
   */
  groups?: { size: number; correlation: number };
  /** Standard deviation σ of the added Gaussian noise per dimension. Default 0. */
  noiseStd?: number;
}

/** The generated rows and their ground truth. */
export interface SyntheticData {
  /** Rows [n_tokens · d_model], float32. */
  rows: Float32Array;
  /** True directions [n_features · d_model], unit rows. */
  features: Float32Array;
  /** Firing probabilities [n_features]. */
  probabilities: Float64Array;
  /** Mean number of firing features per row actually drawn. */
  meanActive: number;
}

/**
 * Check a spec; every problem is one sentence naming the field.
 * @returns the problems (empty when the spec is valid).
 */
export function validateSyntheticSpec(s: SyntheticSpec): string[] {
  const e: string[] = [];
  const posInt = (v: number, name: string, max: number) => {
    if (!Number.isInteger(v) || v < 1 || v > max)
      e.push(`${name} must be an integer in [1, ${max}] (got ${v})`);
  };
  posInt(s.dModel, 'd_model', 4096);
  posInt(s.nFeatures, 'n_features', 65536);
  posInt(s.nTokens, 'n_tokens', 4_000_000);
  if (!Number.isInteger(s.seed)) e.push(`seed must be an integer (got ${s.seed})`);
  const ov = s.overlap ?? 0;
  if (!(ov >= 0 && ov < 1)) e.push(`overlap must be in [0, 1) (got ${ov})`);
  const f = s.firing;
  if (!(f.meanActive > 0 && f.meanActive <= s.nFeatures))
    e.push(`mean active features must be in (0, n_features] (got ${f.meanActive})`);
  if (f.kind === 'zipf' && !(f.exponent >= 0 && f.exponent <= 5))
    e.push(`Zipf exponent must be in [0, 5] (got ${f.exponent})`);
  const m = s.magnitude;
  if (m.kind === 'uniform' && !(m.min >= 0 && m.max > m.min))
    e.push(`magnitudes need 0 ≤ min < max (got ${m.min}, ${m.max})`);
  if (m.kind === 'exponential' && !(m.mean > 0)) e.push(`mean magnitude must be > 0 (got ${m.mean})`);
  if (s.groups) {
    if (!Number.isInteger(s.groups.size) || s.groups.size < 1)
      e.push(`group size must be an integer ≥ 1 (got ${s.groups.size})`);
    if (!(s.groups.correlation >= 0 && s.groups.correlation <= 1))
      e.push(`group correlation must be in [0, 1] (got ${s.groups.correlation})`);
  }
  const noise = s.noiseStd ?? 0;
  if (!(noise >= 0 && Number.isFinite(noise))) e.push(`noise σ must be ≥ 0 (got ${noise})`);
  return e;
}

/**
 * Firing probabilities [n_features] of a spec (see {@link FiringSpec}). Zipf: p_i = min(1, c·(i+1)^(−s)) with c
 * found by bisection so that Σ p_i = meanActive.
 */
export function firingProbabilities(nFeatures: number, firing: FiringSpec): Float64Array {
  const p = new Float64Array(nFeatures);
  if (firing.kind === 'uniform') {
    p.fill(firing.meanActive / nFeatures);
    return p;
  }
  const w = Array.from({ length: nFeatures }, (_, i) => (i + 1) ** -firing.exponent);
  const total = (c: number) => w.reduce((a, x) => a + Math.min(1, c * x), 0);
  let lo = 0;
  let hi = 1;
  while (total(hi) < firing.meanActive && hi < 1e12) hi *= 2;
  for (let it = 0; it < 100; it++) {
    const mid = (lo + hi) / 2;
    if (total(mid) < firing.meanActive) lo = mid;
    else hi = mid;
  }
  for (let i = 0; i < nFeatures; i++) p[i] = Math.min(1, hi * w[i]);
  return p;
}

/** Normalise row r of `m` [rows · d] in place to unit norm (a zero row gets e_0). */
function normaliseRow(m: Float32Array, r: number, d: number): void {
  let n2 = 0;
  for (let j = 0; j < d; j++) n2 += m[r * d + j] ** 2;
  const n = Math.sqrt(n2);
  if (n === 0) {
    m[r * d] = 1;
    return;
  }
  for (let j = 0; j < d; j++) m[r * d + j] /= n;
}

/**
 * Generate a synthetic dataset (see the module comment for the model).
 * @throws Error listing the problems of an invalid spec.
 */
export function generateSynthetic(spec: SyntheticSpec): SyntheticData {
  const problems = validateSyntheticSpec(spec);
  if (problems.length) throw new Error(`synthetic dataset: ${problems.join('; ')}`);
  const { dModel: d, nFeatures: n, nTokens } = spec;
  const rng = new Rng(spec.seed);
  // Directions.
  const features = rng.normalArray(n * d);
  for (let i = 0; i < n; i++) normaliseRow(features, i, d);
  const rho = spec.overlap ?? 0;
  if (rho > 0) {
    const c = rng.normalArray(d);
    normaliseRow(c, 0, d);
    const a = Math.sqrt(1 - rho);
    const b = Math.sqrt(rho);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) features[i * d + j] = a * features[i * d + j] + b * c[j];
      normaliseRow(features, i, d);
    }
  }
  const probabilities = firingProbabilities(n, spec.firing);
  const groupSize = spec.groups?.size ?? 1;
  const corr = spec.groups?.correlation ?? 0;
  const nGroups = Math.ceil(n / groupSize);
  const shared = new Float64Array(nGroups);
  const mag = spec.magnitude;
  const noise = spec.noiseStd ?? 0;
  const rows = new Float32Array(nTokens * d);
  let active = 0;
  for (let t = 0; t < nTokens; t++) {
    const o = t * d;
    if (corr > 0) for (let g = 0; g < nGroups; g++) shared[g] = rng.next();
    for (let i = 0; i < n; i++) {
      const u = corr > 0 && rng.next() < corr ? shared[Math.floor(i / groupSize)] : rng.next();
      if (u >= probabilities[i]) continue;
      active++;
      const a = mag.kind === 'uniform' ? rng.uniform(mag.min, mag.max) : -mag.mean * Math.log(1 - rng.next());
      for (let j = 0; j < d; j++) rows[o + j] += a * features[i * d + j];
    }
    if (noise > 0) for (let j = 0; j < d; j++) rows[o + j] += noise * rng.normal();
  }
  return { rows, features, probabilities, meanActive: active / nTokens };
}

/** A short default name for a spec, e.g. "synthetic 64 features in d_model 32 (Zipf 1.1)". */
export function syntheticName(s: SyntheticSpec): string {
  const firing = s.firing.kind === 'zipf' ? `Zipf ${s.firing.exponent}` : 'uniform';
  return `synthetic · ${s.nFeatures} features in d_model ${s.dModel} (${firing}, seed ${s.seed})`;
}

/** Options of {@link storeSyntheticDataset}. */
export interface StoreSyntheticOptions {
  /** Display name; default {@link syntheticName}. */
  name?: string;
  /** Fixed dataset id (lessons use one so that a second visit reuses the data); default a fresh UUID. */
  id?: string;
}

/**
 * Generate `spec` and store it as a normal dataset through the importer (shards first, manifest last, nothing
 * left behind on failure), with the ground truth in `manifest.synthetic`.
 * @returns the committed manifest.
 * @throws Error for an invalid spec; ImportError for a storage failure (quota), the store then unchanged.
 */
export async function storeSyntheticDataset(
  store: DatasetStore,
  spec: SyntheticSpec,
  opts: StoreSyntheticOptions = {},
): Promise<DatasetManifest> {
  const data = generateSynthetic(spec);
  const file = `synthetic-${spec.nFeatures}x${spec.dModel}-seed${spec.seed}.npy`;
  const bytes = npyBytes({
    descr: '<f4',
    shape: [spec.nTokens, spec.dModel],
    data: new Uint8Array(data.rows.buffer, data.rows.byteOffset, data.rows.byteLength),
  });
  const truth: SyntheticTruth = {
    spec,
    features: Array.from(data.features),
    probabilities: Array.from(data.probabilities),
    meanActive: data.meanActive,
  };
  return importDataset(store, [{ source: bytesSource(file, bytes) }], {
    kind: 'new',
    name: opts.name ?? syntheticName(spec),
    ...(opts.id ? { id: opts.id } : {}),
    synthetic: truth,
  });
}
