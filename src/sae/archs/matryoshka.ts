/**
 * Matryoshka BatchTopK SAE (Bussmann et al. 2025, "Learning Multi-Level Features with Matryoshka Sparse
 * Autoencoders"; SAELens v6 `matryoshka_batchtopk`, dictionary_learning MatryoshkaBatchTopKTrainer). The dictionary
 * is split into nested prefixes: latents [0, e_1) ⊂ [0, e_2) ⊂ … ⊂ [0, d_sae). The latents are BatchTopK's
 * (top k·B pre-activations of the batch, a running threshold θ for inference), and each prefix m must reconstruct
 * x on its own:
 *
 *   x̂_m = b_dec + Σ_{s < e_m} z_s·W_dec[s],   loss = Σ_m (1/(B·D)) Σ_{r,d} (x̂_m − x)²
 *
 * so the first latents learn the most general features. Inference is the full dictionary with θ, exported like
 * BatchTopK: SAELens `jumprelu` with `threshold`. The reported MSE / FVU / explained variance are the full
 * dictionary's (x̂ = x̂_M).
 *
 * Groups: d_sae/16, d_sae/16, d_sae/8, d_sae/4, d_sae/2 (prefix widths d_sae/16, /8, /4, /2, 1: each prefix twice
 * the last, like SAELens' examples of nested widths ×4 at a larger d_sae); change MATRYOSHKA_GROUPS to configure.
 */
import { batchtopk } from './batchtopk';
import { TOPK_LIKE_FIELDS } from './fields';
import type { ArchSpec } from './spec';

/** The default group sizes as fractions of d_sae, in dictionary order (sum 1). */
export const MATRYOSHKA_GROUPS: readonly number[] = [1 / 16, 1 / 16, 1 / 8, 1 / 4, 1 / 2];

/** Most groups the kernels take (shaders/matryoshka.wgsl keeps one residual per group in registers). */
export const MAX_MATRYOSHKA_GROUPS = 8;

/**
 * The end (exclusive) of each nested prefix: e_m = round(d_sae·Σ_{j≤m} fraction_j), at least one latent per group
 * (groups that would be empty at a small d_sae are merged into the next), the last end = d_sae.
 * @returns u32 [M] strictly increasing prefix ends, M ≤ min(groups, d_sae)
 * @throws RangeError on no groups, more than MAX_MATRYOSHKA_GROUPS, a fraction ≤ 0, or fractions not summing to 1.
 */
export function matryoshkaPrefixEnds(dSae: number, groups: readonly number[]): Uint32Array {
  if (groups.length < 1 || groups.length > MAX_MATRYOSHKA_GROUPS)
    throw new RangeError(`Matryoshka groups: 1 to ${MAX_MATRYOSHKA_GROUPS} groups, got ${groups.length}`);
  if (groups.some((g) => !(g > 0))) throw new RangeError('Matryoshka groups: every fraction must be > 0');
  const total = groups.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) > 1e-9) throw new RangeError(`Matryoshka groups: fractions sum to ${total}, not 1`);
  const ends: number[] = [];
  let cum = 0;
  for (let m = 0; m < groups.length - 1; m++) {
    cum += groups[m];
    const e = Math.round(dSae * cum);
    if (e > (ends.at(-1) ?? 0) && e < dSae) ends.push(e);
  }
  ends.push(dSae);
  return Uint32Array.from(ends);
}

export const matryoshka = {
  id: 'matryoshka',
  label: 'Matryoshka BatchTopK',
  pickerHelp: 'Matryoshka BatchTopK (nested prefixes d_sae/16 … d_sae)',
  fields: [...TOPK_LIKE_FIELDS, ...batchtopk.fields.filter((f) => f.field === 'thresholdEmaRate')],
  sparsityCoefficient: null,
  auxk: true,
  step: {
    path: 'matryoshka',
    forward: 'threshold',
    backward: 'masked',
    sparsity: 'none',
    threshold: 'running',
    groups: MATRYOSHKA_GROUPS,
  },
  charts: {
    l0Title: (k: number) => `L0 (k = ${k} on average)`,
    l0Note:
      'Matryoshka BatchTopK keeps k·B per training batch; held-out uses its running threshold (JumpReLU).',
    sparsityTitle: null,
  },
  summary: { l0Label: (k: number) => `L0 (k = ${k} per token on average; held-out: threshold θ)` },
  saeLens: batchtopk.saeLens,
  collapse: { fixedK: true, hasThreshold: true },
  // SAELens saves a trained Matryoshka SAE as `jumprelu` + threshold, which the JumpReLU spec reads.
  imports: { saeLens: [], sparsify: false, gemmaScope: false },
} as const satisfies ArchSpec<'matryoshka'>;
