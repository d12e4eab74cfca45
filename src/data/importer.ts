/**
 * The import pipeline: stream one or more files (same d_model) into float32 shards of a new or an existing
 * dataset, computing per-dimension mean and mean squared norm on the way, then write the manifest last.
 *
 * Memory is bounded by a few shards whatever the file size: one chunk being decoded into the current shard
 * buffer, the next chunk being read (prefetch), and at most {@link MAX_PENDING_WRITES} shards being written.
 * Every value is checked: NaN or ±Inf refuses the import, naming the file, row and column.
 * On any failure or cancellation the shards written so far are deleted, so the store is left as it was.
 *
 * Statistics (f64 accumulators over all rows x of the dataset, n rows):
 *   mean[j]         = (1/n) Σ x[j]
 *   meanSquaredNorm = (1/n) Σ ‖x‖²   (used to normalise activations so that E‖x‖² = d_model, as in
 *                      the Gemma Scope report / SAELens; see the trainer)
 *   columnMeanSquares[j] = (1/n) Σ x[j]²  (with mean[j], column j's variance; (near) zero-variance columns are
 *                      reported, see zeroVarianceColumns)
 * When appending, the old dataset's mean, meanSquaredNorm and columnMeanSquares are multiplied back into sums (n_old · mean).
 */

import type { LmProvenance } from '../lm/provenance';
import type { ByteSource } from './bytes';
import { readExact } from './bytes';
import { withDatasetExclusive } from './dataset-lock';
import { decodeToF32, ITEM_SIZE } from './dtype';
import { ImportCancelled, ImportError } from './errors';
import { type Fingerprinter, RowFingerprint } from './fingerprint';
import { type FileChoice, inspectSource, resolveLayout } from './inspect';
import type { TensorLayout } from './layout';
import { type DatasetStore, newDatasetId, shardGeneration, shardKey, shardKeysOf } from './store';
import type { DatasetManifest, SourceFile } from './types';

/** Target size of one shard in bytes (rows per shard = max(1, floor(SHARD_BYTES / (4 · d_model)))). */
export const SHARD_BYTES = 4 * 2 ** 20;
/** Shards whose IndexedDB write may be in flight at once. */
export const MAX_PENDING_WRITES = 2;
/** Columns read concurrently from a Fortran-order file. */
const FORTRAN_READ_BATCH = 32;

/** One file to import and the user's choices for it. */
export interface ImportFile {
  source: ByteSource;
  choice?: FileChoice;
}

/** Where imported rows go. */
export type ImportTarget =
  | {
      kind: 'new';
      /** Display name. */
      name: string;
      /** Fixed id (the demo dataset); default: a fresh UUID. */
      id?: string;
      builtin?: boolean;
      /** Provenance to record (src/lm/provenance.ts). */
      lm?: LmProvenance;
      /** Ground truth of a generated dataset, written into the manifest (src/data/synthetic.ts). */
      synthetic?: DatasetManifest['synthetic'];
    }
  | { kind: 'append'; datasetId: string };

/** Progress of a running import. Plain data (crosses comlink). */
export interface ImportProgress {
  phase: 'checking' | 'importing' | 'done';
  /** File being read. */
  file: string;
  /** 0-based index of that file, and the number of files. */
  fileIndex: number;
  fileCount: number;
  /** Source data bytes read so far / in total (headers excluded). */
  bytesDone: number;
  bytesTotal: number;
  /** Rows (tokens) stored so far / in total. */
  rowsDone: number;
  rowsTotal: number;
  /** Milliseconds since the import started. */
  elapsedMs: number;
  /** Source bytes per second so far (0 at the start). */
  bytesPerSecond: number;
  /** Estimated seconds left, null while unknown. */
  etaSeconds: number | null;
  /** JS heap in use in the importing context, when the browser tells (Chromium `performance.memory`). */
  heapBytes?: number;
}

/** Storage estimate, as navigator.storage.estimate() returns it. */
export interface StorageEstimateLike {
  usage?: number;
  quota?: number;
}

/** Options of {@link importDataset}. */
export interface ImportOptions {
  onProgress?: (p: ImportProgress) => void;
  /** Cancellation flag (an AbortSignal fits); checked between chunks. */
  signal?: { readonly aborted: boolean };
  /** Storage estimate; default navigator.storage.estimate() when it exists. */
  estimate?: () => Promise<StorageEstimateLike>;
  /**
   * Compute the dataset's content fingerprint (SHA-256 of the stored rows, src/data/fingerprint.ts). Default true;
   * false only for measuring its cost (the import bench).
   */
  fingerprint?: boolean;
  /** Creates the fingerprint hasher. Default: {@link RowFingerprint} (on this thread). */
  fingerprinter?: () => Promise<Fingerprinter>;
  /** Target shard size in bytes (tests use small shards). Default {@link SHARD_BYTES}. */
  shardBytes?: number;
  /** Minimum ms between two progress reports. Default 100. */
  progressIntervalMs?: number;
}

/** A file's bytes per row. */
function rowBytes(l: TensorLayout): number {
  return l.dModel * ITEM_SIZE[l.elem.kind];
}

function mb(bytes: number): string {
  if (bytes < 100 * 1024) return `${Math.round(bytes)} bytes`;
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

function heapBytes(): number | undefined {
  const m = (globalThis.performance as unknown as { memory?: { usedJSHeapSize?: number } } | undefined)
    ?.memory;
  return typeof m?.usedJSHeapSize === 'number' ? m.usedJSHeapSize : undefined;
}

function defaultEstimate(): Promise<StorageEstimateLike> | undefined {
  const s = (globalThis.navigator as Navigator | undefined)?.storage;
  return s?.estimate ? s.estimate() : undefined;
}

/** Name for a new dataset made of `files`: the first file's stem, "+N" when there are more. */
export function defaultDatasetName(files: string[]): string {
  const stem = (files[0] ?? 'dataset').replace(/\.[^.]+$/, '');
  return files.length > 1 ? `${stem} +${files.length - 1}` : stem;
}

/**
 * Scan `rows` rows of width `d` at `buf[start..]`: refuse the first non-finite value and add the rows into the
 * running sums (Σx_j in `sum`, Σ‖x‖² in `sq`, Σx_j² in `sqCol`). @returns [row, column] of the first NaN/±Inf, or null.
 */
function scanRows(
  buf: Float32Array,
  start: number,
  rows: number,
  d: number,
  sum: Float64Array,
  sq: { v: number },
  sqCol: Float64Array,
): [number, number] | null {
  let s2 = 0;
  for (let r = 0; r < rows; r++) {
    const base = start + r * d;
    for (let j = 0; j < d; j++) {
      const v = buf[base + j];
      if (v - v !== 0) return [r, j];
      const v2 = v * v;
      sum[j] += v;
      sqCol[j] += v2;
      s2 += v2;
    }
  }
  sq.v += s2;
  return null;
}

/**
 * Import `files` into `target`.
 *
 * Steps: resolve each file's layout (headers only) and check that all share one d_model (and the target
 * dataset's, when appending); check the storage estimate; stream rows into shards; write the manifest last.
 * @returns the committed manifest.
 * @throws ImportError naming the file for every format error (see npy.ts, safetensors.ts, raw.ts), a d_model
 *   mismatch, a non-finite value, a storage quota that is too small, or a failed write;
 *   ImportCancelled when `signal` was aborted. In every error case nothing new remains in the store.
 */
export async function importDataset(
  store: DatasetStore,
  files: ImportFile[],
  target: ImportTarget,
  opts: ImportOptions = {},
): Promise<DatasetManifest> {
  if (files.length === 0) throw new Error('importDataset: no files given');
  const write = () => store.withWriteLock(() => runImport(store, files, target, opts));
  if (target.kind !== 'append') return write();
  // Adding files to a dataset a run is reading is refused (src/data/dataset-lock.ts).
  const base = await store.get(target.datasetId);
  return withDatasetExclusive(target.datasetId, base?.name ?? target.datasetId, write);
}

async function runImport(
  store: DatasetStore,
  files: ImportFile[],
  target: ImportTarget,
  opts: ImportOptions,
): Promise<DatasetManifest> {
  const t0 = performance.now();
  const signal = opts.signal;
  const checkCancel = () => {
    if (signal?.aborted) throw new ImportCancelled();
  };

  // 1. Headers and choices → layouts; one d_model.
  const layouts: TensorLayout[] = [];
  for (const f of files) {
    checkCancel();
    layouts.push(resolveLayout(await inspectSource(f.source), f.choice));
  }
  let base: DatasetManifest | undefined;
  if (target.kind === 'append') {
    base = await store.get(target.datasetId);
    if (!base) throw new Error(`dataset "${target.datasetId}" not found`);
    if (base.builtin)
      throw new ImportError(base.name, 'is the built-in demo dataset; import into a new dataset instead');
  }
  const dModel = base?.dModel ?? layouts[0].dModel;
  for (const l of layouts) {
    if (l.dModel !== dModel)
      throw new ImportError(
        l.file,
        `d_model mismatch: it has d_model ${l.dModel} (shape [${l.shape.join(', ')}]) but ${
          base ? `dataset "${base.name}"` : `"${layouts[0].file}"`
        } has d_model ${dModel}; all files of a dataset must share d_model`,
      );
  }
  layouts.forEach((l, i) => {
    if (l.order === 'F' && !files[i].source.randomAccess)
      throw new ImportError(l.file, 'Fortran-order data needs random access; save it in C order');
  });

  // 2. Geometry, quota.
  const shardRows =
    base?.shardRows ?? Math.max(1, Math.floor((opts.shardBytes ?? SHARD_BYTES) / (4 * dModel)));
  const rowsTotal = layouts.reduce((a, l) => a + l.nTokens, 0);
  const bytesTotal = layouts.reduce((a, l) => a + l.dataBytes, 0);
  const baseRows = base?.nTokens ?? 0;
  const carried = baseRows % shardRows; // rows of a partial last shard that are rewritten
  const needBytes = (rowsTotal + carried) * dModel * 4;
  const est = await (opts.estimate ? opts.estimate() : defaultEstimate());
  if (est && typeof est.quota === 'number' && typeof est.usage === 'number') {
    const free = est.quota - est.usage;
    if (needBytes > free)
      throw new ImportError(
        layouts.map((l) => l.file).join('", "'),
        `over quota: storing ${rowsTotal} rows × ${dModel} as float32 needs ${mb(needBytes)}, but the browser ` +
          `allows only ${mb(Math.max(0, free))} more (${mb(est.usage)} used of ${mb(est.quota)}). ` +
          'Delete a dataset or free disk space.',
      );
  }

  // 3. Stream.
  const id = base?.id ?? (target.kind === 'new' && target.id ? target.id : newDatasetId());
  if (id.includes('/')) throw new Error(`dataset id "${id}" must not contain '/'`);
  const baseKeys = base ? shardKeysOf(base) : [];
  const gen = base ? Math.max(0, ...baseKeys.map(shardGeneration)) + 1 : 0;
  const written: string[] = [];
  const shardKeys = baseKeys.slice(0, Math.floor(baseRows / shardRows));
  const replacedKey = carried > 0 ? baseKeys[shardKeys.length] : undefined;
  const sum = new Float64Array(dModel);
  const sq = { v: 0 };
  const sqCol = new Float64Array(dModel);
  // Per-column squares are known unless the base dataset predates them.
  const columnsKnown = !base || base.columnMeanSquares?.length === dModel;
  if (base) {
    for (let j = 0; j < dModel; j++) sum[j] = base.mean[j] * baseRows;
    sq.v = base.meanSquaredNorm * baseRows;
    for (let j = 0; j < dModel && columnsKnown; j++)
      sqCol[j] = (base.columnMeanSquares as number[])[j] * baseRows;
  }
  // Fingerprint of every stored row in order (src/data/fingerprint.ts): the base's full shards first when appending.
  const fingerprint: Fingerprinter | null =
    opts.fingerprint === false ? null : await (opts.fingerprinter ?? RowFingerprint.create)();
  for (const key of fingerprint ? shardKeys : []) {
    const rows = await store.kv.get<Float32Array>(key);
    if (!(rows instanceof Float32Array) || rows.length !== shardRows * dModel)
      throw new Error(`dataset "${base?.name}": its shard ${key} is missing or damaged`);
    await fingerprint?.update(rows);
  }
  const shardFloats = shardRows * dModel;
  let buf = new Float32Array(shardFloats);
  let rowsInShard = 0;
  let shardIndex = shardKeys.length;
  let pending: Promise<void>[] = [];
  let writeError: unknown = null;

  let bytesDone = 0;
  let rowsDone = 0;
  let lastReport = -Infinity;
  const interval = opts.progressIntervalMs ?? 100;
  const report = (phase: ImportProgress['phase'], fileIndex: number, force = false) => {
    if (!opts.onProgress) return;
    const now = performance.now();
    if (!force && now - lastReport < interval) return;
    lastReport = now;
    const elapsedMs = now - t0;
    const rate = elapsedMs > 0 ? (bytesDone * 1000) / elapsedMs : 0;
    const p: ImportProgress = {
      phase,
      file: layouts[Math.min(fileIndex, layouts.length - 1)].file,
      fileIndex,
      fileCount: layouts.length,
      bytesDone,
      bytesTotal,
      rowsDone,
      rowsTotal,
      elapsedMs,
      bytesPerSecond: rate,
      etaSeconds: rate > 0 && bytesDone > 0 ? (bytesTotal - bytesDone) / rate : null,
    };
    const h = heapBytes();
    if (h !== undefined) p.heapBytes = h;
    opts.onProgress(p);
  };

  const flush = async () => {
    const data = rowsInShard === shardRows ? buf : buf.slice(0, rowsInShard * dModel);
    const key = shardKey(id, gen, shardIndex);
    written.push(key);
    shardKeys.push(key);
    shardIndex++;
    rowsInShard = 0;
    await fingerprint?.update(data);
    buf = new Float32Array(shardFloats); // the old buffer is owned by the pending write
    while (pending.length >= MAX_PENDING_WRITES) await Promise.race(pending);
    if (writeError) throw writeError;
    const p: Promise<void> = store.putShard(key, data).then(
      () => {
        pending = pending.filter((x) => x !== p);
      },
      (e) => {
        writeError ??= e;
        pending = pending.filter((x) => x !== p);
      },
    );
    pending.push(p);
  };

  try {
    report('checking', 0, true);
    if (replacedKey) {
      const old = await store.kv.get<Float32Array>(replacedKey);
      if (!(old instanceof Float32Array) || old.length !== carried * dModel)
        throw new Error(`dataset "${base?.name}": its last shard (${replacedKey}) is missing or damaged`);
      buf.set(old);
      rowsInShard = carried;
    }
    for (let fi = 0; fi < layouts.length; fi++) {
      const l = layouts[fi];
      const src = files[fi].source;
      const rb = rowBytes(l);
      // Chunks: rows [r, r + n) of this file that fit in the current shard.
      const chunkAt = (r: number, inShard: number) => Math.min(l.nTokens - r, shardRows - inShard);
      const readC = (r: number, n: number) =>
        readExact(src, l.dataOffset + r * rb, n * rb, `rows ${r}..${r + n}`);
      let r = 0;
      let next: Promise<Uint8Array> | null = l.order === 'C' ? readC(0, chunkAt(0, rowsInShard)) : null;
      next?.catch(() => {});
      while (r < l.nTokens) {
        checkCancel();
        const n = chunkAt(r, rowsInShard);
        const at = rowsInShard * dModel;
        if (l.order === 'C') {
          const bytes = await (next as Promise<Uint8Array>);
          const after = r + n;
          // Prefetch the next chunk (its size depends on where this one leaves the shard).
          next = after < l.nTokens ? readC(after, chunkAt(after, (rowsInShard + n) % shardRows)) : null;
          next?.catch(() => {}); // handled when awaited; a failed import may never await it
          decodeToF32(bytes, l.elem, buf, at);
        } else {
          await readFortranRows(src, l, r, n, buf, at, checkCancel);
        }
        const bad = scanRows(buf, at, n, dModel, sum, sq, sqCol);
        if (bad) {
          const v = buf[at + bad[0] * dModel + bad[1]];
          throw new ImportError(
            l.file,
            `row ${r + bad[0]} (0-based), column ${bad[1]} is ${v}: NaN and ±Inf values are refused` +
              (l.elem.kind === 'f64' ? ' (a float64 value outside the float32 range becomes ±Inf)' : '') +
              '; nothing was stored',
          );
        }
        r += n;
        rowsInShard += n;
        rowsDone += n;
        bytesDone += n * rb;
        if (rowsInShard === shardRows) await flush();
        report('importing', fi);
      }
    }
    if (rowsInShard > 0) await flush();
    await Promise.all(pending);
    if (writeError) throw writeError;
    checkCancel();

    // 4. Manifest last.
    const n = baseRows + rowsTotal;
    refuseConstantRows(
      layouts.map((l) => l.file).join('", "'),
      sum.map((x) => x / n),
      sq.v / n,
    );
    const sources: SourceFile[] = [...(base?.sources ?? [])];
    let metadata = base?.metadata;
    for (let i = 0; i < layouts.length; i++) {
      const l = layouts[i];
      const s: SourceFile = {
        name: l.file,
        bytes: files[i].source.size,
        dtype: l.dtype,
        shape: l.shape,
        format: l.format,
      };
      if (l.tensor !== undefined) s.tensor = l.tensor;
      if (l.note) s.note = l.note;
      if (l.metadata) {
        s.metadata = l.metadata;
        metadata = { ...(metadata ?? {}), ...l.metadata };
      }
      sources.push(s);
    }
    let name = target.kind === 'new' ? target.name : (base as DatasetManifest).name;
    if (base) {
      const now = await store.get(base.id);
      if (!now || now.nTokens !== base.nTokens || shardKeysOf(now).join() !== baseKeys.join())
        throw new ImportError(base.name, 'was changed or deleted during the import; nothing was added');
      name = now.name;
    }
    const manifest: DatasetManifest = {
      id,
      name,
      dModel,
      nTokens: n,
      shardRows,
      shardCount: shardKeys.length,
      sources,
      createdAt: base?.createdAt ?? Date.now(),
      mean: Array.from(sum, (s) => s / n),
      meanSquaredNorm: sq.v / n,
      shardKeys,
    };
    if (columnsKnown) {
      manifest.columnMeanSquares = Array.from(sqCol, (s) => s / n);
      manifest.zeroVarianceColumns = zeroVarianceColumns(
        manifest.mean,
        manifest.columnMeanSquares,
        manifest.meanSquaredNorm,
      );
    }
    if (fingerprint) manifest.fingerprint = await fingerprint.digest();
    if (metadata) manifest.metadata = metadata;
    if (target.kind === 'new' && target.builtin) manifest.builtin = true;
    if (target.kind === 'new' && target.lm) manifest.lm = target.lm;
    if (target.kind === 'new' && target.synthetic) manifest.synthetic = target.synthetic;
    await store.commit(manifest);
    if (replacedKey) await store.deleteKeys([replacedKey]).catch(() => {});
    report('done', layouts.length - 1, true);
    return manifest;
  } catch (e) {
    fingerprint?.dispose?.();
    await Promise.allSettled(pending);
    await store.deleteKeys(written).catch(() => {});
    if (e instanceof ImportError || e instanceof ImportCancelled) throw e;
    const err = e as Error;
    if (err?.name === 'QuotaExceededError') {
      const after = await Promise.resolve(opts.estimate ? opts.estimate() : defaultEstimate()).catch(
        () => null,
      );
      const used =
        after && typeof after.usage === 'number' && typeof after.quota === 'number'
          ? `this site uses ${mb(after.usage)} of ${mb(after.quota)} allowed`
          : 'the browser did not say how much is used';
      throw new ImportError(
        layouts.map((l) => l.file).join('", "'),
        `over quota (QuotaExceededError${err.message ? `: ${err.message}` : ''}): storing ${rowsTotal} rows × ${dModel} as float32 needs ` +
          `${mb(needBytes)}; ${used}. Delete a dataset or a run and import again; nothing was stored`,
      );
    }
    throw e;
  }
}

/**
 * Read rows [r, r+n) of a 2-D Fortran-order tensor into `out[at..]` (row-major): one strided read per column.
 * Element (row, col) of an [N, d] Fortran array is at dataOffset + (col·N + row)·itemSize.
 */
async function readFortranRows(
  src: ByteSource,
  l: TensorLayout,
  r: number,
  n: number,
  out: Float32Array,
  at: number,
  checkCancel: () => void,
): Promise<void> {
  const item = ITEM_SIZE[l.elem.kind];
  for (let c0 = 0; c0 < l.dModel; c0 += FORTRAN_READ_BATCH) {
    checkCancel();
    const cols = Array.from({ length: Math.min(FORTRAN_READ_BATCH, l.dModel - c0) }, (_, i) => c0 + i);
    const parts = await Promise.all(
      cols.map((c) => readExact(src, l.dataOffset + (c * l.nTokens + r) * item, n * item, `column ${c}`)),
    );
    parts.forEach((bytes, i) => {
      decodeToF32(bytes, l.elem, out, at + cols[i], l.dModel);
    });
  }
}

/** Rows whose variance about their mean is below this share of their mean squared norm count as constant. */
export const CONSTANT_ROWS_REL_VARIANCE = 1e-8;

/**
 * Refuse a dataset whose rows are (nearly) all the same: total variance Σ_j Var(x_j) = E‖x‖² − ‖E x‖² at most
 * {@link CONSTANT_ROWS_REL_VARIANCE} · E‖x‖² (all-zero rows included). An SAE has nothing to learn there, and the
 * normalisation would divide by zero.
 * @throws ImportError naming `file`.
 */
export function refuseConstantRows(file: string, mean: ArrayLike<number>, meanSquaredNorm: number): void {
  let meanNorm2 = 0;
  for (let j = 0; j < mean.length; j++) meanNorm2 += mean[j] * mean[j];
  const variance = meanSquaredNorm - meanNorm2;
  if (!(meanSquaredNorm > 0) || !(variance > CONSTANT_ROWS_REL_VARIANCE * meanSquaredNorm)) {
    throw new ImportError(
      file,
      `every row is (nearly) the same: the variance about the mean row is ${variance.toPrecision(3)} ` +
        `(mean squared norm ${meanSquaredNorm.toPrecision(3)}); an SAE cannot learn from constant activations`,
    );
  }
}

/** A column counts as (near) zero variance when its variance is at most this share of E‖x‖² / d_model. */
export const ZERO_VARIANCE_REL = 1e-8;

/**
 * Columns of (near) zero variance: Var_j = E[x_j²] − (E x_j)² ≤ {@link ZERO_VARIANCE_REL} · E‖x‖² / d_model, i.e.
 * tiny next to an average column's second moment (an all-zero or constant dimension). Such datasets import (an SAE
 * can still learn the other columns); the import message and the dataset row say which.
 * @param mean E x_j [d_model]; @param columnMeanSquares E[x_j²] [d_model]; @param meanSquaredNorm E‖x‖²
 * @returns the column indices (0-based), ascending
 */
export function zeroVarianceColumns(
  mean: ArrayLike<number>,
  columnMeanSquares: ArrayLike<number>,
  meanSquaredNorm: number,
): number[] {
  const d = mean.length;
  const floor = (ZERO_VARIANCE_REL * meanSquaredNorm) / d;
  const out: number[] = [];
  for (let j = 0; j < d; j++) {
    if (columnMeanSquares[j] - mean[j] * mean[j] <= floor) out.push(j);
  }
  return out;
}

/** Indices listed before "…" in {@link zeroVarianceText}. */
export const ZERO_VARIANCE_SHOWN = 8;

/**
 * "2 of 64 columns have (near) zero variance: 3, 17" (the first {@link ZERO_VARIANCE_SHOWN} indices, then "…"),
 * or null when there are none or it is unknown.
 */
export function zeroVarianceText(m: Pick<DatasetManifest, 'dModel' | 'zeroVarianceColumns'>): string | null {
  const cols = m.zeroVarianceColumns;
  if (!cols || cols.length === 0) return null;
  const shown = cols.slice(0, ZERO_VARIANCE_SHOWN).join(', ');
  const more = cols.length > ZERO_VARIANCE_SHOWN ? ', …' : '';
  const verb = cols.length === 1 ? 'has' : 'have';
  return `${cols.length} of ${m.dModel} columns ${verb} (near) zero variance: ${shown}${more}`;
}
