/**
 * {@link Fingerprinter} that hashes in its own worker (src/data/fingerprint-worker.ts): each update copies the rows
 * (a memcpy) and transfers the copy, so the SHA-256 runs in parallel with the importer's decoding and writes. At
 * most {@link MAX_IN_FLIGHT} updates are queued in the worker (back-pressure bounds the memory to that many
 * shards). Browser only (needs module workers).
 */
import type { Fingerprinter } from './fingerprint';

/** Updates sent but not yet hashed before `update` waits. */
export const MAX_IN_FLIGHT = 4;

type Reply = { type: 'ack' } | { type: 'digest'; hex: string } | { type: 'error'; message: string };

/** A fingerprint computed in a worker; call {@link digest} once at the end (it terminates the worker). */
export class ParallelFingerprint implements Fingerprinter {
  private readonly worker: Worker;
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private digestWaiter: { res: (hex: string) => void; rej: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor() {
    this.worker = new Worker(new URL('./fingerprint-worker.ts', import.meta.url), {
      type: 'module',
      name: 'sae-lab-fingerprint',
    });
    this.worker.onmessage = (e: MessageEvent<Reply>) => {
      const r = e.data;
      if (r.type === 'ack') {
        this.inFlight--;
        this.waiters.shift()?.();
      } else if (r.type === 'digest') {
        this.digestWaiter?.res(r.hex);
        this.worker.terminate();
      } else this.fail(new Error(`fingerprint worker: ${r.message}`));
    };
    this.worker.onerror = (e) => this.fail(new Error(`fingerprint worker failed: ${e.message}`));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiters.splice(0)) w();
    this.digestWaiter?.rej(e);
    this.worker.terminate();
  }

  /** Queue a copy of `rows`; waits while {@link MAX_IN_FLIGHT} updates are pending. @throws when the worker failed. */
  async update(rows: Float32Array): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.inFlight >= MAX_IN_FLIGHT && !this.failure)
      await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure) throw this.failure;
    const copy = rows.slice().buffer;
    this.inFlight++;
    this.worker.postMessage({ type: 'update', bytes: copy }, [copy]);
  }

  /** The fingerprint once every queued update is hashed. @throws when the worker failed. */
  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((res, rej) => {
      this.digestWaiter = { res, rej };
      this.worker.postMessage({ type: 'digest' });
    });
  }

  /** Stop the worker without a digest (a failed or cancelled import). */
  dispose(): void {
    this.worker.terminate();
  }
}
