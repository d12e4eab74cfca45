/**
 * Import bench: throughput of the streamed import (file → import worker → float32 shards in IndexedDB) for a
 * generated 256 MB float16 .npy, and the peak JS heap of the page meanwhile (Chromium's `performance.memory`;
 * null elsewhere). The import itself runs in its worker, whose heap Chromium does not expose: measure the
 * renderer's RSS from outside for that. The dataset is deleted afterwards.
 *
 * The dataset fingerprint (SHA-256 of the stored float32 rows, src/data/fingerprint.ts, hashed in its own worker
 * in parallel with the import) is part of every import. Its cost is measured two ways: each run also imports the
 * same file without it (`wall_s_no_fingerprint`; `fingerprint_added` = wall_s / wall_s_no_fingerprint − 1), and
 * the same bytes are hashed alone on one thread (`fingerprint_alone_s`, the work the parallel worker hides).
 */
import { RowFingerprint } from '../../src/data/fingerprint';
import { encodeElems, npyBytes } from '../../src/data/fixtures';
import { startImport } from '../../src/data/import-client';
import { deleteDataset } from '../../src/data/store';
import { Rng } from '../../src/util/rng';

const MiB = 2 ** 20;

/** Options: `mb` file size in MiB (default 256), `dModel` (default 512), `runs` (default 1). */
export async function importBench(options: Record<string, unknown>): Promise<unknown> {
  const mb = Number(options.mb ?? 256);
  const dModel = Number(options.dModel ?? 512);
  const runs = Number(options.runs ?? 1);
  const rowBytes = dModel * 2;
  const nTokens = Math.floor((mb * MiB) / rowBytes);
  // One 4 MiB block of seeded normal float16 values, repeated: the bytes are realistic, generation is cheap.
  const blockRows = Math.max(1, Math.floor((4 * MiB) / rowBytes));
  const block = encodeElems(new Rng(1).normalArray(blockRows * dModel), 'f16');
  const header = npyBytes({ descr: '<f2', shape: [nTokens, dModel], data: new Uint8Array(0) });
  const parts: BlobPart[] = [header];
  for (let left = nTokens; left > 0; left -= blockRows)
    parts.push(left >= blockRows ? block : block.slice(0, left * rowBytes));
  const file = new File(parts, `bench-${mb}MB.f16.npy`);

  const heap = () =>
    (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
  const results = [];
  for (let run = 0; run < runs; run++) {
    let pagePeak = heap() ?? 0;
    const pageStart = pagePeak;
    const timer = setInterval(() => {
      pagePeak = Math.max(pagePeak, heap() ?? 0);
    }, 50);
    // Without the fingerprint first (same file, same path), then the real import.
    const t00 = performance.now();
    const plain = await startImport(
      [{ kind: 'file', file }],
      { kind: 'new', name: 'bench-plain' },
      undefined,
      {
        fingerprint: false,
      },
    ).done;
    const sPlain = (performance.now() - t00) / 1000;
    await deleteDataset(plain.id);
    const t0 = performance.now();
    const job = startImport([{ kind: 'file', file }], { kind: 'new', name: 'bench' });
    try {
      const m = await job.done;
      const s = (performance.now() - t0) / 1000;
      if (!m.fingerprint) throw new Error('import bench: the import wrote no fingerprint');
      results.push({
        file_mib: round(file.size / MiB),
        dtype: '<f2',
        shape: [nTokens, dModel],
        shards: m.shardCount,
        stored_mib: round((m.nTokens * m.dModel * 4) / MiB),
        wall_s: round(s),
        throughput_mib_per_s: round(file.size / MiB / s),
        page_heap_start_mib: heap() === undefined ? null : round(pageStart / MiB),
        page_heap_peak_mib: heap() === undefined ? null : round(pagePeak / MiB),
        wall_s_no_fingerprint: round(sPlain),
        fingerprint_added: round(s / sPlain - 1),
        ...(await fingerprintCost(m.nTokens * m.dModel * 4)),
      });
      await deleteDataset(m.id);
    } finally {
      clearInterval(timer);
    }
  }
  return results;
}

/** Time SHA-256 over `bytes` stored bytes on this thread, fed in 4 MiB float32 blocks. */
async function fingerprintCost(bytes: number): Promise<Record<string, number>> {
  const block = new Rng(2).normalArray(MiB); // 4 MiB of float32
  const fp = await RowFingerprint.create();
  const t0 = performance.now();
  for (let left = bytes; left > 0; left -= block.byteLength)
    fp.update(left >= block.byteLength ? block : block.subarray(0, Math.floor(left / 4)));
  fp.digest();
  const s = (performance.now() - t0) / 1000;
  return {
    fingerprint_alone_s: round(s),
    fingerprint_mib_per_s: round(bytes / MiB / s),
  };
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}
