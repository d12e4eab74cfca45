import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/rng';
import { bytesSource } from './bytes';
import { fingerprintSource, isFingerprint, RowFingerprint } from './fingerprint';
import { encodeElems, npyBytes } from './fixtures';
import { importDataset } from './importer';
import { DatasetStore, memoryKv } from './store';

/** SHA-256 of the float32 rows' little-endian bytes, by Node's crypto (an independent implementation). */
function nodeSha256(x: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength))
    .digest('hex');
}

describe('dataset fingerprint', () => {
  it('is SHA-256 of the rows, whatever the chunking', async () => {
    const x = new Rng(3).normalArray(37 * 5);
    const fp = await RowFingerprint.create();
    fp.update(x.subarray(0, 7 * 5));
    fp.update(x.subarray(7 * 5, 30 * 5));
    fp.update(x.subarray(30 * 5));
    const hex = fp.digest();
    expect(isFingerprint(hex)).toBe(true);
    expect(hex).toBe(nodeSha256(x));
  });

  it('is computed by the importer over the stored rows, equal for one file and for the same rows appended in parts', async () => {
    const d = 5;
    const x = new Rng(11).normalArray(40 * d);
    const store = new DatasetStore(memoryKv());
    const npy = (name: string, rows: Float32Array) =>
      bytesSource(
        name,
        npyBytes({ descr: '<f4', shape: [rows.length / d, d], data: encodeElems(rows, 'f32') }),
      );
    const opts = { shardBytes: 7 * d * 4, progressIntervalMs: 0 };
    const whole = await importDataset(store, [{ source: npy('a.npy', x) }], { kind: 'new', name: 'a' }, opts);
    expect(whole.fingerprint).toBe(nodeSha256(x));
    const part = await importDataset(
      store,
      [{ source: npy('b1.npy', x.subarray(0, 18 * d)) }],
      { kind: 'new', name: 'b' },
      opts,
    );
    expect(part.fingerprint).toBe(nodeSha256(x.subarray(0, 18 * d)));
    const appended = await importDataset(
      store,
      [{ source: npy('b2.npy', x.subarray(18 * d)) }],
      { kind: 'append', datasetId: part.id },
      opts,
    );
    expect(appended.fingerprint).toBe(whole.fingerprint);
    expect(await fingerprintSource(await store.open(appended.id))).toBe(whole.fingerprint);
  });
});
