/**
 * Storage quota: a write refused with a QuotaExceededError becomes a {@link StorageFull} report (bytes needed,
 * used and allowed) so the run can pause instead of failing, and the UI can say what to delete.
 */
import type { Checkpoint } from './checkpoint';

/** What the storage banner shows. Plain data. */
export interface StorageFull {
  /** Which write failed. */
  what: 'checkpoint' | 'import' | 'export';
  /** Bytes the write needed (estimate). */
  neededBytes: number;
  /** Bytes this origin uses and may use (navigator.storage.estimate()); null when unknown. */
  usageBytes: number | null;
  quotaBytes: number | null;
  /** Step of the run when a checkpoint failed (null otherwise). */
  step: number | null;
}

/** Thrown by writers that ran out of quota; carries the {@link StorageFull} report. */
export class StorageFullError extends Error {
  readonly report: StorageFull;
  constructor(report: StorageFull) {
    super(storageMessage(report));
    this.name = 'StorageFullError';
    this.report = report;
  }
}

/** True for a DOMException (or look-alike) named QuotaExceededError, including ones with an empty message. */
export function isQuotaError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: string }).name === 'QuotaExceededError';
}

/** Bytes of the typed arrays in a value (walks objects and arrays; other leaves count 8 bytes). */
export function approxBytes(v: unknown, seen = new Set<unknown>()): number {
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (typeof v !== 'object' || v === null) return 8;
  if (seen.has(v)) return 0;
  seen.add(v);
  let n = 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) n += approxBytes(x, seen);
  return n;
}

/** Bytes a checkpoint needs in IndexedDB (its arrays; ignores IndexedDB's own overhead). */
export function checkpointBytes(cp: Checkpoint): number {
  return approxBytes(cp);
}

/** The origin's usage and quota, or nulls where navigator.storage.estimate is missing or fails. */
export async function storageEstimate(): Promise<{ usageBytes: number | null; quotaBytes: number | null }> {
  try {
    const est = await (globalThis.navigator as Navigator | undefined)?.storage?.estimate?.();
    return { usageBytes: est?.usage ?? null, quotaBytes: est?.quota ?? null };
  } catch {
    return { usageBytes: null, quotaBytes: null };
  }
}

function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** "Storage is full: saving the checkpoint needs 1.2 MB; this site uses 4.9 MB of 5.0 MB allowed. Delete …". */
export function storageMessage(r: StorageFull): string {
  const what =
    r.what === 'checkpoint'
      ? `saving the checkpoint${r.step !== null ? ` at step ${r.step}` : ''}`
      : r.what === 'import'
        ? 'importing the dataset'
        : 'preparing the export';
  const used =
    r.usageBytes !== null && r.quotaBytes !== null
      ? `this site uses ${mb(r.usageBytes)} of ${mb(r.quotaBytes)} allowed`
      : 'the browser did not say how much is used';
  return (
    `Storage is full: ${what} needs ${mb(r.neededBytes)}; ${used}. ` +
    'Delete datasets or runs you no longer need (library below), then press Resume.'
  );
}
