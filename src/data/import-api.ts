/**
 * The interface of the import worker (src/data/import-worker.ts), called through comlink by
 * src/data/import-client.ts. Everything crossing it is structured-cloneable (File objects are passed by
 * reference, never copied into memory).
 */

import type { HarvestProgress } from '../lm/harvest-store';
import type { ImportProgress, ImportTarget } from './importer';
import type { FileChoice, Inspection } from './inspect';
import type { DatasetManifest } from './types';

/** Result of inspecting one file: what it holds, or why it cannot be imported. */
export type InspectResult = { ok: true; inspection: Inspection } | { ok: false; file: string; error: string };

/** A file (or a URL, for the built-in demo) to import, with the user's choices. */
export type ImportInput =
  | { kind: 'file'; file: File; choice?: FileChoice }
  | {
      kind: 'url';
      /** Absolute URL; fetched and streamed. */
      url: string;
      /** File name shown in messages and the manifest. */
      name: string;
    };

export interface ImportWorkerApi {
  /** Read the headers of `files`; never throws (errors are per file). */
  inspect(files: File[]): Promise<InspectResult[]>;
  /**
   * Import `inputs` into `target` (see importDataset in src/data/importer.ts).
   * @param jobId any unique string; pass it to {@link cancel}.
   * @param onProgress a comlink.proxy callback, called at most every 100 ms.
   * @param options `fingerprint: false` skips the content fingerprint (only the import bench does, to measure it).
   * @throws ImportError (name "ImportError") or a cancellation (name "AbortError"); the store is unchanged.
   */
  import(
    jobId: string,
    inputs: ImportInput[],
    target: ImportTarget,
    onProgress?: (p: ImportProgress) => void,
    options?: { fingerprint?: boolean },
  ): Promise<DatasetManifest>;
  /**
   * Harvest activations from text with a language model into a new dataset (src/lm/harvest-store.ts).
   * @param jobId any unique string; pass it to {@link cancel}.
   * @throws ImportError naming the file, or a cancellation (name "AbortError"); the store is unchanged.
   */
  harvest(
    jobId: string,
    input: HarvestInput,
    onProgress?: (p: HarvestProgress) => void,
  ): Promise<DatasetManifest>;
  /** Cancel job `jobId` (no-op when it is not running); its promise then rejects with an AbortError. */
  cancel(jobId: string): void;
}

/** What to harvest, as the UI picks it: the built-in model and text (files under public/lm/) or dropped files. */
export interface HarvestInput {
  name: string;
  model: { kind: 'builtin' } | { kind: 'files'; checkpoint: File; tokenizer: File };
  text: { kind: 'builtin' } | { kind: 'file'; file: File };
  hook: string;
  ctx: number;
  /** Use only the first N documents of the text (tests; undefined = all). */
  limitDocuments?: number;
}
