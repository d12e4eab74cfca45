/**
 * A sweep's grid: architectures × d_sae × (k or λ) × learning rate over one base config, expanded into the configs
 * of its runs. The sparsity axis of each architecture comes from the registry (src/sae/archs/): its
 * `sparsityCoefficient` field (λ: l0Coefficient for JumpReLU, l1Coefficient for ReLU + L1) when it has one, else
 * `k` when its fields include k. Every other field (batch size, steps, seed, split, normalisation) is the base
 * config's, so all runs of a sweep cut the same batches in the same order.
 */
import { ARCH_SPECS, type Architecture, archSpec } from '../sae/archs';
import { type DatasetFacts, type TrainConfig, validateConfig } from '../train/config';

/** TrainConfig fields that can be a sweep's sparsity axis. */
export type SparsityAxis = 'k' | 'l0Coefficient' | 'l1Coefficient';

/** The grid of a sweep. Plain data (JSON-safe). */
export interface SweepGrid {
  /** Architecture ids of the registry, in the order to train. */
  architectures: Architecture[];
  /** d_sae values (latents). */
  dSaes: number[];
  /** Values of each sparsity axis; an architecture uses the axis {@link sparsityAxisOf} names. */
  sparsity: Partial<Record<SparsityAxis, number[]>>;
  /** Peak learning rates. */
  lrs: number[];
}

/** One run of a sweep: its index in the grid and its config. */
export interface SweepMember {
  index: number;
  config: TrainConfig;
}

/**
 * The sparsity axis of an architecture, from its registry spec: its λ field, else 'k' when it has a k field.
 * @returns null for an architecture with neither (then the grid has no sparsity axis for it).
 */
export function sparsityAxisOf(architecture: Architecture): SparsityAxis | null {
  const spec = archSpec(architecture);
  if (spec.sparsityCoefficient) return spec.sparsityCoefficient;
  return spec.fields.some((f) => f.field === 'k') ? 'k' : null;
}

/** Label of a sparsity axis in tables and the form: "k" or "λ (<field>)". */
export function sparsityAxisLabel(axis: SparsityAxis): string {
  return axis === 'k' ? 'k' : 'λ';
}

/** Every sparsity axis some architecture of the registry uses, in registry order. */
export const SPARSITY_AXES: readonly SparsityAxis[] = [
  ...new Set(ARCH_SPECS.map((s) => sparsityAxisOf(s.id)).filter((a): a is SparsityAxis => a !== null)),
];

/** Number of runs the grid gives. */
export function gridSize(g: SweepGrid): number {
  let n = 0;
  for (const a of g.architectures) {
    const axis = sparsityAxisOf(a);
    const values = axis ? (g.sparsity[axis] ?? []).length : 1;
    n += g.dSaes.length * values * g.lrs.length;
  }
  return n;
}

/**
 * Expand the grid into validated configs, in order architecture → d_sae → sparsity → lr.
 * @throws Error naming the grid entry and the field for an empty axis or a config that fails validation.
 */
export function expandGrid(base: TrainConfig, g: SweepGrid, data?: DatasetFacts): SweepMember[] {
  if (g.architectures.length === 0) throw new Error('Sweep grid: choose at least one architecture.');
  if (g.dSaes.length === 0) throw new Error('Sweep grid: give at least one d_sae.');
  if (g.lrs.length === 0) throw new Error('Sweep grid: give at least one learning rate.');
  const out: SweepMember[] = [];
  for (const architecture of g.architectures) {
    const axis = sparsityAxisOf(architecture);
    const values: (number | null)[] = axis ? (g.sparsity[axis] ?? []) : [null];
    if (values.length === 0) {
      throw new Error(`Sweep grid: ${archSpec(architecture).label} needs at least one value of ${axis}.`);
    }
    for (const dSae of g.dSaes) {
      for (const value of values) {
        for (const lr of g.lrs) {
          const candidate: TrainConfig = { ...base, architecture, dSae, lr };
          if (axis && value !== null) candidate[axis] = value;
          const v = validateConfig(candidate, data);
          if (!v.ok) {
            const what = `${archSpec(architecture).label}, d_sae ${dSae}${axis ? `, ${axis} ${value}` : ''}, lr ${lr}`;
            throw new Error(
              `Sweep grid: run ${out.length + 1} (${what}) is invalid: ${Object.entries(v.errors)
                .map(([k, m]) => `${k}: ${m}`)
                .join('; ')}`,
            );
          }
          out.push({ index: out.length, config: v.config });
        }
      }
    }
  }
  return out;
}

/** The sparsity value of a run's config (k or λ, per its architecture), or null. */
export function sparsityValue(c: TrainConfig): number | null {
  const axis = sparsityAxisOf(c.architecture);
  return axis ? c[axis] : null;
}

/** Parse a comma/space-separated list of positive numbers ("4, 8 16"). @throws Error naming `what` and the entry. */
export function parseNumberList(text: string, what: string, integer = false): number[] {
  const parts = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const out: number[] = [];
  for (const p of parts) {
    const x = Number(p);
    if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x))) {
      throw new Error(`${what}: "${p}" is not a positive ${integer ? 'whole number' : 'number'}`);
    }
    if (!out.includes(x)) out.push(x);
  }
  return out;
}
