/**
 * The architecture registry: one spec per architecture (src/sae/archs/<name>.ts), in the order the UI lists them.
 * Adding an architecture = one file here plus its step-path code; everything else reads these specs.
 */
import { batchtopk } from './batchtopk';
import { jumprelu } from './jumprelu';
import { matryoshka } from './matryoshka';
import { relu } from './relu';
import type { ArchConfigField, ArchFieldSpec, ArchFieldValue, ArchSpec } from './spec';
import { topk } from './topk';

export type {
  ArchConfigField,
  ArchFieldSpec,
  ArchFieldValue,
  ArchSpec,
  CollapseCapabilities,
  ImportSpec,
  StepPathSpec,
} from './spec';

/** Every architecture, in the order the UI lists them; the first is the default. */
export const ARCH_SPECS = [topk, batchtopk, jumprelu, relu, matryoshka] as const;

/** SAE architecture ids. */
export type Architecture = (typeof ARCH_SPECS)[number]['id'];

/** Every {@link Architecture} id, in the order the UI lists them. */
export const ARCHITECTURES: readonly Architecture[] = ARCH_SPECS.map((s) => s.id);

/** The default architecture of a config (the first of the registry). */
export const DEFAULT_ARCHITECTURE: Architecture = ARCH_SPECS[0].id;

/**
 * The spec of an architecture id; an unknown or missing id gives the default architecture's spec (callers that
 * must reject unknown ids validate first, e.g. src/train/config.ts).
 */
export function archSpec(id: string | undefined | null): ArchSpec<Architecture> {
  return (ARCH_SPECS.find((s) => s.id === id) ?? ARCH_SPECS[0]) as ArchSpec<Architecture>;
}

/** Every architecture config field once (first spec that lists it wins), in registry order. */
export const ARCH_FIELDS: readonly ArchFieldSpec[] = (() => {
  const seen = new Map<ArchConfigField, ArchFieldSpec>();
  for (const s of ARCH_SPECS) for (const f of s.fields) if (!seen.has(f.field)) seen.set(f.field, f);
  return [...seen.values()];
})();

/** The registry's field spec of one architecture config field. @throws Error if no architecture has it. */
export function archField(field: ArchConfigField): ArchFieldSpec {
  const f = ARCH_FIELDS.find((x) => x.field === field);
  if (!f) throw new Error(`architecture registry: no architecture has the config field "${field}"`);
  return f;
}

/** Ids of the architectures whose spec lists `field`. */
export function archsWithField(field: ArchConfigField): Architecture[] {
  return ARCH_SPECS.filter((s) => (s.fields as readonly ArchFieldSpec[]).some((f) => f.field === field)).map(
    (s) => s.id,
  );
}

/** The default of every architecture config field (the registry is the only place they are written). */
export const ARCH_FIELD_DEFAULTS = Object.freeze(
  Object.fromEntries(ARCH_FIELDS.map((f) => [f.field, f.default])),
) as Readonly<Record<ArchConfigField, ArchFieldValue>>;
