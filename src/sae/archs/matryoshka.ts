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
 * Prefix widths: the config field `matryoshkaWidths`, fractions of d_sae (default 1/16, 1/8, 1/4, 1/2, 1: each
 * prefix twice the last, like SAELens' examples of nested widths ×4 at a larger d_sae). SAELens'
 * `matryoshka_widths` are the same prefixes in latents ({@link matryoshkaPrefixEnds}).
 */
import * as v from 'valibot';
import type { SaeArch } from '../types';
import { batchtopk } from './batchtopk';
import { TOPK_LIKE_FIELDS } from './fields';
import type { ArchFieldSpec, ArchSpec } from './spec';

/** The default prefix widths as fractions of d_sae, strictly increasing, the last 1 (the whole dictionary). */
export const MATRYOSHKA_WIDTHS: readonly number[] = [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1];

/** Most prefixes the kernels take (shaders/matryoshka.wgsl keeps one residual per group in registers). */
export const MAX_MATRYOSHKA_GROUPS = 8;

/**
 * What is wrong with a list of prefix widths, or null when it is valid: 1 to {@link MAX_MATRYOSHKA_GROUPS} finite
 * numbers in (0, 1], strictly increasing, the last exactly 1.
 */
export function matryoshkaWidthsProblem(widths: readonly number[]): string | null {
  const what = 'Matryoshka prefix widths';
  if (widths.length < 1 || widths.length > MAX_MATRYOSHKA_GROUPS)
    return `${what}: give 1 to ${MAX_MATRYOSHKA_GROUPS} values, got ${widths.length}`;
  const bad = widths.find((w) => !(Number.isFinite(w) && w > 0 && w <= 1));
  if (bad !== undefined) return `${what}: every value must be a fraction of d_sae in (0, 1], got ${bad}`;
  for (let m = 1; m < widths.length; m++)
    if (!(widths[m] > widths[m - 1]))
      return `${what} must be strictly increasing (${widths[m - 1]} then ${widths[m]})`;
  if (widths.at(-1) !== 1)
    return `${what}: the last must be 1 (the whole dictionary, d_sae), got ${widths.at(-1)}`;
  return null;
}

/**
 * The end (exclusive) of each nested prefix: e_m = round(d_sae·width_m), at least one latent per group (prefixes
 * that round onto the previous one at a small d_sae are merged), the last end = d_sae.
 * @param widths fractions of d_sae (see {@link matryoshkaWidthsProblem})
 * @returns u32 [M] strictly increasing prefix ends, M ≤ min(widths.length, d_sae)
 * @throws RangeError with {@link matryoshkaWidthsProblem}'s message for invalid widths.
 */
export function matryoshkaPrefixEnds(dSae: number, widths: readonly number[]): Uint32Array {
  const problem = matryoshkaWidthsProblem(widths);
  if (problem) throw new RangeError(problem);
  const ends: number[] = [];
  for (const w of widths.slice(0, -1)) {
    const e = Math.round(dSae * w);
    if (e > (ends.at(-1) ?? 0) && e < dSae) ends.push(e);
  }
  ends.push(dSae);
  return Uint32Array.from(ends);
}

/** The prefix ends of a resolved architecture (its matryoshkaWidths) at d_sae. @throws RangeError as above. */
export function matryoshkaEndsOf(arch: Pick<SaeArch, 'matryoshkaWidths'>, dSae: number): Uint32Array {
  return matryoshkaPrefixEnds(dSae, arch.matryoshkaWidths);
}

/** The config field of the prefix widths (a list field: numbers separated by commas in the form). */
export const MATRYOSHKA_WIDTHS_FIELD: ArchFieldSpec = {
  field: 'matryoshkaWidths',
  default: MATRYOSHKA_WIDTHS,
  schema: v.pipe(
    v.array(v.number('Matryoshka prefix widths must be numbers'), 'Matryoshka prefix widths must be a list'),
    v.rawCheck(({ dataset, addIssue }) => {
      const problem = dataset.typed ? matryoshkaWidthsProblem(dataset.value) : null;
      if (problem) addIssue({ message: problem });
    }),
  ),
  label: 'prefix widths',
  help: 'Nested prefixes as fractions of d_sae, comma-separated, increasing, ending at 1 (1–8 prefixes).',
  kind: 'list',
  advanced: false,
  step: 'any',
};

export const matryoshka = {
  id: 'matryoshka',
  label: 'Matryoshka BatchTopK',
  pickerHelp: 'Matryoshka BatchTopK (nested prefixes of the dictionary)',
  fields: [
    ...TOPK_LIKE_FIELDS,
    ...batchtopk.fields.filter((f) => f.field === 'thresholdEmaRate'),
    MATRYOSHKA_WIDTHS_FIELD,
  ],
  sparsityCoefficient: null,
  auxk: true,
  // BatchTopK's selection, activation and running θ; only the loss (the step path) differs.
  step: { ...batchtopk.step, path: 'matryoshka' },
  charts: {
    ...batchtopk.charts,
    l0Note:
      'Matryoshka BatchTopK keeps k·B per training batch; held-out uses its running threshold (JumpReLU).',
  },
  summary: batchtopk.summary,
  saeLens: {
    ...batchtopk.saeLens,
    labExtra: (arch: SaeArch, dSae: number) => ({ matryoshka_widths: [...matryoshkaEndsOf(arch, dSae)] }),
    training: {
      cls: 'MatryoshkaBatchTopKTrainingSAEConfig',
      kwargs: (c, dSae) => [
        ...batchtopk.saeLens.training.kwargs(c),
        [
          'matryoshka_widths',
          `[${matryoshkaPrefixEnds(dSae, c.matryoshkaWidths).join(', ')}]`,
          `the nested prefixes of the browser run (fractions ${c.matryoshkaWidths.join(', ')} of d_sae)`,
        ],
      ],
    },
  },
  collapse: { fixedK: true, hasThreshold: true },
  // SAELens saves a trained Matryoshka SAE as `jumprelu` + threshold, which the JumpReLU spec reads.
  imports: { saeLens: [], sparsify: false, gemmaScope: false },
} as const satisfies ArchSpec<'matryoshka'>;
