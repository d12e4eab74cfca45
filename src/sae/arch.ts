/**
 * Architecture helpers: the defaults of {@link SaeArch}, the resolved k_aux, which architectures carry a threshold.
 * The math of each architecture is at the top of src/sae/types.ts.
 */
import type { Architecture, SaeArch, SaeShape } from './types';

/** Every {@link Architecture}, in the order the UI lists them. */
export const ARCHITECTURES: readonly Architecture[] = ['topk', 'batchtopk', 'jumprelu', 'relu'];

/** Defaults of {@link SaeArch}. */
export const DEFAULT_ARCH: Readonly<SaeArch> = Object.freeze({
  architecture: 'topk',
  thresholdEmaRate: 0.01,
  bandwidth: 0.001,
  thresholdInit: 0.001,
  thresholdLrScale: 1,
  auxk: false,
  kAux: 0,
  auxkAlpha: 1 / 32,
});

/** Largest k_aux (the TopK kernel's per-row limit, MAX_K of src/sae/validate.ts). */
export const MAX_K_AUX = 256;

/**
 * The full architecture of a shape: defaults for missing (or undefined) fields, k_aux resolved to
 * min(k_aux or ⌊d_model/2⌋, d_sae, 256) (≥ 1), AuxK off for architectures other than TopK and BatchTopK.
 */
export function resolveArch(shape: Pick<SaeShape, 'dModel' | 'dSae' | 'arch'>): SaeArch {
  const given = Object.entries(shape.arch ?? {}).filter(([, v]) => v !== undefined);
  const a: SaeArch = { ...DEFAULT_ARCH, ...Object.fromEntries(given) };
  const kAux = a.kAux > 0 ? a.kAux : Math.max(1, Math.floor(shape.dModel / 2));
  a.kAux = Math.min(kAux, shape.dSae, MAX_K_AUX);
  a.auxk = a.auxk && (a.architecture === 'topk' || a.architecture === 'batchtopk');
  return a;
}

/** True when the architecture has a per-latent threshold θ (SaeParams.threshold). */
export function hasThreshold(architecture: Architecture): boolean {
  return architecture === 'jumprelu' || architecture === 'batchtopk';
}
