/**
 * Dataset types shared by the importer (src/data/), the IndexedDB store and the trainer.
 *
 * A dataset is N float32 rows of width d_model ("tokens"), stored in fixed-size shards: shard i holds rows
 * [i·shardRows, min((i+1)·shardRows, nTokens)), row-major, float32. The manifest is written last, so a
 * dataset is visible only once all its shards are stored.
 */
import type { LmProvenance } from '../lm/provenance';

/** One file that went into a dataset. */
export interface SourceFile {
  /** File name as the user dropped it. */
  name: string;
  /** File size in bytes. */
  bytes: number;
  /** Element type in the file, e.g. "<f4", "F16", "bf16". */
  dtype: string;
  /** Shape as stored in the file, e.g. [81790, 64] or [batch, seq, d_model]. */
  shape: number[];
  /** For safetensors: the tensor name that was imported. */
  tensor?: string;
  /** Container format: 'npy', 'safetensors' or 'raw'. */
  format?: string;
  /** Remark about the conversion, e.g. float64 rounded to float32 or Fortran order. */
  note?: string;
  /** For safetensors: that file's `__metadata__`. */
  metadata?: Record<string, string>;
}

/** Everything known about a stored dataset. Plain data (structured-cloneable, JSON-safe). */
export interface DatasetManifest {
  /** Unique id (also the key prefix of its shards). */
  id: string;
  /** Display name (user-editable). */
  name: string;
  /** Width of each row. */
  dModel: number;
  /** Number of rows (tokens). */
  nTokens: number;
  /** Rows per shard (the last shard may hold fewer). */
  shardRows: number;
  /** Number of shards = ceil(nTokens / shardRows). */
  shardCount: number;
  /** Files imported into this dataset, in order. */
  sources: SourceFile[];
  /** Creation time, ms since the epoch. */
  createdAt: number;
  /** Per-dimension mean over all rows [d_model]. */
  mean: number[];
  /** Mean over rows of ‖x‖² (used for the activation normalisation factor). */
  meanSquaredNorm: number;
  /**
   * Per-dimension mean of squares E[x_j²] over all rows [d_model] (with `mean`, each column's variance). Absent for
   * datasets imported before it existed, and after adding files to one of those.
   */
  columnMeanSquares?: number[];
  /**
   * Columns of (near) zero variance, ascending (src/data/importer.ts zeroVarianceColumns); [] when none. Absent when
   * unknown (no columnMeanSquares).
   */
  zeroVarianceColumns?: number[];
  /** safetensors `__metadata__`, when there was one. */
  metadata?: Record<string, string>;
  /** True for the built-in demo dataset. */
  builtin?: boolean;
  /** The language model, hook and text the activations were harvested from (src/lm/provenance.ts). */
  lm?: LmProvenance;
  /**
   * Tokenizer attached to an imported dataset (src/lm/dataset-tokenizer.ts): its format, file name, vocabulary size
   * and the store key of its bytes (`{ bytes: Uint8Array }`). The feature dashboard decodes token ids with it.
   */
  tokenizer?: { kind: 'llama2c' | 'hf'; name: string; vocabSize: number; key: string };
  /** Token ids of an imported dataset whose model is not the built-in one: file name and store key (`{ tokens }`). */
  tokenIds?: { name: string; key: string };
  /**
   * Content fingerprint: SHA-256 of the stored float32 rows in order, 64 hex digits (src/data/fingerprint.ts),
   * computed while importing. Absent for datasets imported before fingerprints existed.
   */
  fingerprint?: string;
  /**
   * IndexedDB keys of the shards, in shard order (length shardCount). Written by src/data/store.ts; when absent
   * the keys are `shard/<id>/0/<index>`. Consumers read shards through {@link DatasetSource}, not by key.
   */
  shardKeys?: string[];
  /** Ground truth of a generated dataset (src/data/synthetic.ts); absent for imported activations. */
  synthetic?: SyntheticTruth;
}

/** The known answer of a synthetic dataset, stored in its manifest. Plain data (JSON-safe). */
export interface SyntheticTruth {
  /** The generator's spec (src/data/synthetic.ts `SyntheticSpec`). */
  spec: import('./synthetic').SyntheticSpec;
  /** True unit directions [n_features · d_model], row-major (row i = feature i). */
  features: number[];
  /** Firing probability of each feature [n_features]. */
  probabilities: number[];
  /** Mean number of firing features per row, as drawn. */
  meanActive: number;
}

/** Read access to one dataset's rows, shard by shard. Implemented by the IndexedDB store and in tests. */
export interface DatasetSource {
  readonly manifest: DatasetManifest;
  /**
   * Rows of shard `index`: Float32Array [rowsInShard · d_model].
   * @throws RangeError for an index outside [0, shardCount); Error when the shard is missing.
   */
  readShard(index: number): Promise<Float32Array>;
}

/** Rows in shard `index` of a manifest. */
export function shardRowCount(m: Pick<DatasetManifest, 'nTokens' | 'shardRows'>, index: number): number {
  return Math.max(0, Math.min(m.shardRows, m.nTokens - index * m.shardRows));
}
