/**
 * Content fingerprint of a dataset: SHA-256 (FIPS 180-4) of its stored float32 rows, in row order, as their
 * little-endian bytes (the byte order of typed arrays on every platform browsers run on) — 4·d_model bytes per
 * row, nothing else (no header, no shape). Two datasets with the same rows have the same fingerprint whatever
 * file format, dtype or shard size they came from.
 *
 * The hash is streamed (hash-wasm's WebAssembly SHA-256): the importer feeds each shard as it is written, so the
 * fingerprint costs one pass over bytes already in memory.
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import { type DatasetSource, shardRowCount } from './types';

/**
 * A streaming fingerprint: feed whole rows in order with `update`, then `digest` (64 hex digits). `update` may
 * return a promise (a fingerprint hashed in another worker applies back-pressure that way); the caller awaits it
 * before the next update and may reuse the rows afterwards.
 */
export interface Fingerprinter {
  update(rows: Float32Array): void | Promise<void>;
  digest(): string | Promise<string>;
  /** Release resources without a digest (a failed import). */
  dispose?(): void;
}

/** A streaming fingerprint hashed on the calling thread. */
export class RowFingerprint implements Fingerprinter {
  private constructor(private readonly hasher: IHasher) {}

  /** A fresh hash. */
  static async create(): Promise<RowFingerprint> {
    const h = await createSHA256();
    h.init();
    return new RowFingerprint(h);
  }

  /** Add rows: a Float32Array of whole rows [n, d_model] (any n ≥ 0). */
  update(rows: Float32Array): void {
    if (rows.length === 0) return;
    this.hasher.update(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
  }

  /** The fingerprint: 64 lowercase hex digits. The object must not be used afterwards. */
  digest(): string {
    return this.hasher.digest('hex');
  }
}

/** True for a well-formed fingerprint (64 lowercase hex digits). */
export function isFingerprint(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
}

/**
 * Fingerprint of a stored dataset, read shard by shard (for datasets imported before fingerprints existed).
 * @throws Error when a shard is missing or has the wrong length.
 */
export async function fingerprintSource(source: DatasetSource): Promise<string> {
  const m = source.manifest;
  const fp = await RowFingerprint.create();
  for (let i = 0; i < m.shardCount; i++) {
    const rows = await source.readShard(i);
    const want = shardRowCount(m, i) * m.dModel;
    if (rows.length !== want)
      throw new Error(`dataset "${m.name}": shard ${i} holds ${rows.length} values, expected ${want}`);
    fp.update(rows);
  }
  return fp.digest();
}
