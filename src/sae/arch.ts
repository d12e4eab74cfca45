/**
 * Architecture helpers: the defaults of {@link SaeArch} (from the registry, src/sae/archs/), the resolved k_aux,
 * which architectures carry a threshold. The math of each architecture is at the top of src/sae/types.ts.
 */
import { ARCH_FIELD_DEFAULTS, archSpec, DEFAULT_ARCHITECTURE } from './archs';
import { MAX_K_AUX } from './archs/fields';
import type { Architecture, SaeArch, SaeShape } from './types';

export { ARCHITECTURES } from './archs';
export { MAX_K_AUX };

/** Defaults of {@link SaeArch}: the registry's field defaults (the same as a default TrainConfig's). */
export const DEFAULT_ARCH: Readonly<SaeArch> = Object.freeze({
  architecture: DEFAULT_ARCHITECTURE,
  thresholdEmaRate: ARCH_FIELD_DEFAULTS.thresholdEmaRate as number,
  bandwidth: ARCH_FIELD_DEFAULTS.bandwidth as number,
  thresholdInit: ARCH_FIELD_DEFAULTS.thresholdInit as number,
  thresholdLrScale: ARCH_FIELD_DEFAULTS.thresholdLrScale as number,
  auxk: ARCH_FIELD_DEFAULTS.auxk as boolean,
  kAux: ARCH_FIELD_DEFAULTS.kAux as number,
  auxkAlpha: ARCH_FIELD_DEFAULTS.auxkAlpha as number,
  matryoshkaWidths: ARCH_FIELD_DEFAULTS.matryoshkaWidths as readonly number[],
});

/**
 * The full architecture of a shape: defaults for missing (or undefined) fields, k_aux resolved to
 * min(k_aux or ⌊d_model/2⌋, d_sae, 256) (≥ 1), AuxK off for architectures whose spec has no AuxK.
 */
export function resolveArch(shape: Pick<SaeShape, 'dModel' | 'dSae' | 'arch'>): SaeArch {
  const given = Object.entries(shape.arch ?? {}).filter(([, v]) => v !== undefined);
  const a: SaeArch = { ...DEFAULT_ARCH, ...Object.fromEntries(given) };
  const kAux = a.kAux > 0 ? a.kAux : Math.max(1, Math.floor(shape.dModel / 2));
  a.kAux = Math.min(kAux, shape.dSae, MAX_K_AUX);
  a.auxk = a.auxk && archSpec(a.architecture).auxk;
  return a;
}

/** True when the architecture has a per-latent threshold θ (SaeParams.threshold). */
export function hasThreshold(architecture: Architecture): boolean {
  return archSpec(architecture).step.threshold !== 'none';
}
