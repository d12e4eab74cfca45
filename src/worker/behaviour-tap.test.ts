/**
 * SharedEvaluator (src/worker/behaviour-tap.ts): a sweep's members share ONE language-model Worker — opened once,
 * evaluations one at a time in call order, terminated only when the last holder lets go. The Worker is a stand-in
 * speaking Comlink over a Node MessageChannel (no model is loaded).
 */

import { MessageChannel } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SaeParams, SaeShape } from '../sae/types';
import { SharedEvaluator } from './behaviour-tap';

/** What the stand-in Workers saw. */
const log: string[] = [];
let workers = 0;

class FakeWorker {
  private readonly port: MessageChannel['port1'];
  constructor() {
    const id = workers++;
    const { port1, port2 } = new MessageChannel();
    Comlink.expose(
      {
        async open(_prov: unknown, trainRows: number) {
          log.push(`w${id} open ${trainRows}`);
          return { hook: 'h', model: 'm' };
        },
        async evaluate(_p: SaeParams, shape: SaeShape) {
          log.push(`w${id} start ${shape.k}`);
          // The later call is the quicker one: in-order results show the calls do not overlap.
          await new Promise((r) => setTimeout(r, shape.k === 1 ? 30 : 1));
          log.push(`w${id} end ${shape.k}`);
          return { ceScore: shape.k };
        },
      },
      port2 as unknown as Comlink.Endpoint,
    );
    this.port = port1;
  }
  postMessage(m: unknown, t?: Transferable[]) {
    this.port.postMessage(m, t as never);
  }
  addEventListener(type: string, f: (e: unknown) => void) {
    (this.port as unknown as EventTarget).addEventListener(type, f as EventListener);
  }
  removeEventListener(type: string, f: (e: unknown) => void) {
    (this.port as unknown as EventTarget).removeEventListener(type, f as EventListener);
  }
  start() {
    this.port.start();
  }
  terminate() {
    log.push('terminate');
    this.port.close();
  }
}

afterEach(() => {
  vi.unstubAllGlobals();
  log.length = 0;
  workers = 0;
});

const shape = (k: number): SaeShape => ({ dModel: 2, dSae: 4, k, batchSize: 1 });
const params = {} as SaeParams;
const prov = {} as never;

describe('SharedEvaluator', () => {
  it('one Worker for every lease: opened once, evaluations in call order, terminated after the last release', async () => {
    vi.stubGlobal('Worker', FakeWorker);
    const shared = new SharedEvaluator();
    shared.hold(); // the sweep
    const a = shared.lease();
    const b = shared.lease();
    expect(await a.open(prov, 100, 200)).toEqual({ hook: 'h', model: 'm' });
    expect(await b.open(prov, 100, 200)).toEqual({ hook: 'h', model: 'm' });
    const [ra, rb] = await Promise.all([a.evaluate(params, shape(1), 1), b.evaluate(params, shape(2), 1)]);
    expect([ra, rb]).toEqual([{ ceScore: 1 }, { ceScore: 2 }]);
    a.close();
    a.close(); // a second close of one lease is ignored
    b.close();
    expect(log).not.toContain('terminate'); // the sweep still holds it
    shared.release();
    expect(workers).toBe(1);
    expect(log).toEqual(['w0 open 100', 'w0 start 1', 'w0 end 1', 'w0 start 2', 'w0 end 2', 'terminate']);
  });

  it('evaluating before open is refused with a message', async () => {
    vi.stubGlobal('Worker', FakeWorker);
    await expect(new SharedEvaluator().lease().evaluate(params, shape(1), 1)).rejects.toThrow(
      /was not opened/,
    );
  });
});
