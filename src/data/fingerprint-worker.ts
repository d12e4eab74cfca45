/**
 * A worker that computes a dataset fingerprint (src/data/fingerprint.ts) next to the import, so hashing overlaps
 * decoding and IndexedDB writes instead of adding to them. Protocol ({@link ParallelFingerprint}): messages
 * `{type: 'update', bytes}` (an ArrayBuffer of whole float32 rows, transferred) are each answered `{type: 'ack'}`;
 * `{type: 'digest'}` is answered `{type: 'digest', hex}`; a failure is answered `{type: 'error', message}`.
 */
import { RowFingerprint } from './fingerprint';

const ready = RowFingerprint.create();
let chain: Promise<unknown> = ready;

self.onmessage = (e: MessageEvent<{ type: 'update'; bytes: ArrayBuffer } | { type: 'digest' }>) => {
  const msg = e.data;
  chain = chain.then(async () => {
    try {
      const fp = await ready;
      if (msg.type === 'update') {
        fp.update(new Float32Array(msg.bytes));
        self.postMessage({ type: 'ack' });
      } else {
        self.postMessage({ type: 'digest', hex: fp.digest() });
      }
    } catch (err) {
      self.postMessage({ type: 'error', message: (err as Error).message });
    }
  });
};
