/**
 * How a run names its dataset portably (share links, reports, the run library): the built-in demo by its id;
 * any other dataset by name, shape, dtype and content fingerprint (SHA-256 of the stored float32 rows in order,
 * src/data/fingerprint.ts). A reference is matched against the stored datasets by id (demo) or fingerprint.
 */
import type { DatasetManifest } from '../data/types';

/** A dataset reference. Plain data (JSON-safe). */
export type DatasetRef =
  | {
      kind: 'demo';
      /** The demo's fixed dataset id (src/data/demo.ts DEMO.id). */
      id: string;
    }
  | {
      kind: 'file';
      /** Display name at the time of the run (a hint for the user; not used for matching). */
      name: string;
      /** Rows (tokens). */
      nTokens: number;
      /** Width of a row. */
      dModel: number;
      /** Element type of the stored rows (always float32). */
      dtype: 'f32';
      /** SHA-256 of the stored float32 rows, 64 hex digits. */
      fingerprint: string;
    };

/**
 * The reference of a stored dataset, or null when it has no fingerprint yet (imported before fingerprints
 * existed; compute one with fingerprintSource).
 */
export function datasetRefOf(m: DatasetManifest, fingerprint = m.fingerprint): DatasetRef | null {
  if (m.builtin) return { kind: 'demo', id: m.id };
  if (!fingerprint) return null;
  return { kind: 'file', name: m.name, nTokens: m.nTokens, dModel: m.dModel, dtype: 'f32', fingerprint };
}

/** The stored dataset a reference points at (demo by id, others by fingerprint and shape), if any. */
export function findDataset(
  ref: DatasetRef,
  stored: readonly DatasetManifest[],
): DatasetManifest | undefined {
  if (ref.kind === 'demo') return stored.find((m) => m.id === ref.id);
  return stored.find(
    (m) => m.fingerprint === ref.fingerprint && m.nTokens === ref.nTokens && m.dModel === ref.dModel,
  );
}

/** One line describing a reference, e.g. `acts.npy — [81790, 64] f32, sha256 3fa4…`. */
export function describeRef(ref: DatasetRef): string {
  if (ref.kind === 'demo') return `the built-in demo (${ref.id})`;
  return `"${ref.name}" — [${ref.nTokens}, ${ref.dModel}] float32, sha256 ${ref.fingerprint}`;
}
