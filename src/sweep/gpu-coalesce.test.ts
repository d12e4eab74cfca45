/**
 * The sweep's step coalescer (src/sweep/gpu-coalesce.ts) with a stand-in target (no GPU): when a batch is
 * submitted (all live members arrived; a paused, finished or behind member does not hold the others; the fallback
 * backstop), what shares a submission (same batch array only), errors (only that submission's requests reject),
 * resolution order, shared evaluations, and the stand-in engine's delegation.
 */
import { describe, expect, it } from 'vitest';
import type { EvalStats, SaeEngine, SaeState, StepHyper, StepStats } from '../sae/types';
import { type CoalesceTarget, coalescedEngine, StepCoalescer } from './gpu-coalesce';

const hyper: StepHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, deadWindowSteps: 100 };

/** Stats that name the member and its step count (sse = member, nTokens = the member's steps so far). */
function statsOf(member: number, steps: number): StepStats {
  return {
    nTokens: steps,
    sse: member,
    sst: 1,
    l0Sum: 0,
    firedInBatch: 0,
    deadCount: 0,
    auxkLoss: 0,
    sparsityLoss: 0,
  };
}

/** A target that records its calls; `fail` arrays make a step reject. */
class FakeTarget implements CoalesceTarget {
  readonly calls: { kind: 'step' | 'eval'; x: Float32Array; members: number[]; readStats: boolean }[] = [];
  readonly steps = new Map<number, number>();
  readonly fail = new Set<Float32Array>();
  async stepMembers(
    x: Float32Array,
    members: readonly number[],
    hypers: readonly StepHyper[],
    readStats: boolean,
  ) {
    expect(hypers.length).toBe(members.length);
    this.calls.push({ kind: 'step', x, members: [...members], readStats });
    await Promise.resolve();
    if (this.fail.has(x)) throw new Error('device lost in this submission');
    return members.map((m) => {
      const n = (this.steps.get(m) ?? 0) + 1;
      this.steps.set(m, n);
      return statsOf(m, n);
    });
  }
  async evaluateMembers(x: Float32Array, rows: number, members: readonly number[]) {
    this.calls.push({ kind: 'eval', x, members: [...members], readStats: true });
    return members.map(
      (m): EvalStats => ({
        nTokens: rows,
        sse: m,
        sst: 1,
        cosSum: 0,
        relErrSum: 0,
        l0Sum: 0,
        fireCounts: new Uint32Array(1),
      }),
    );
  }
}

const batch = (v: number) => new Float32Array([v, v]);
/** Let queued promise reactions run (the target resolves in a microtask or two). */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

function setup(n: number, fallbackMs = Number.POSITIVE_INFINITY) {
  const target = new FakeTarget();
  const c = new StepCoalescer(target, { fallbackMs });
  for (let m = 0; m < n; m++) {
    c.add(m);
    c.setLive(m, true);
  }
  return { target, c };
}

describe('StepCoalescer', () => {
  it('submits one step for the group once every live member asked for the same batch', async () => {
    const { target, c } = setup(3);
    const x = batch(1);
    const p0 = c.step(0, x, hyper, false);
    const p1 = c.step(1, x, hyper, true);
    await settle();
    expect(target.calls).toHaveLength(0);
    const p2 = c.step(2, x, hyper, false);
    const [s0, s1, s2] = await Promise.all([p0, p1, p2]);
    expect(target.calls).toEqual([{ kind: 'step', x, members: [0, 1, 2], readStats: true }]);
    // Each request gets its own member's stats.
    expect([s0?.sse, s1?.sse, s2?.sse]).toEqual([0, 1, 2]);
    // Next step: again one submission for the three.
    const y = batch(2);
    await Promise.all([c.step(2, y, hyper, false), c.step(0, y, hyper, false), c.step(1, y, hyper, false)]);
    expect(target.calls.map((k) => k.members)).toEqual([
      [0, 1, 2],
      [2, 0, 1],
    ]);
    expect(c.stats).toEqual({ stepFlushes: 2, evalFlushes: 0, fallbackFlushes: 0 });
  });

  it('a paused, finished or stopped member does not hold the others, and is waited for again once running', async () => {
    const { target, c } = setup(3);
    c.setLive(2, false); // paused before its step
    const w = batch(1);
    await Promise.all([c.step(0, w, hyper, false), c.step(1, w, hyper, false)]);
    expect(target.calls.map((k) => k.members)).toEqual([[0, 1]]);
    // A member pausing while the others wait releases them.
    c.setLive(2, true);
    const x = batch(2);
    const waiting = Promise.all([c.step(0, x, hyper, false), c.step(1, x, hyper, false)]);
    await settle();
    expect(target.calls).toHaveLength(1); // member 2 (next step 0 ≤ 1) is running: it may still come
    c.setLive(2, false);
    await waiting;
    expect(target.calls.map((k) => k.members)).toEqual([
      [0, 1],
      [0, 1],
    ]);
    // A member that leaves (engine destroyed) is not waited for either.
    c.setLive(2, true);
    const z = batch(3);
    const w2 = c.step(0, z, hyper, false);
    const w3 = c.step(1, z, hyper, false);
    c.leave(2);
    await Promise.all([w2, w3]);
    expect(target.calls).toHaveLength(3);
  });

  it('a member behind (resumed at an earlier checkpoint) steps alone and the others wait until it catches up', async () => {
    const { target, c } = setup(2);
    c.setPosition(0, 5);
    c.setPosition(1, 3);
    const batches = [0, 1, 2, 3, 4, 5, 6].map(batch);
    // Member 0 asks for step 5: member 1 (next step 3) will reach it, so it waits.
    const ahead = c.step(0, batches[5], hyper, false);
    await settle();
    expect(target.calls).toHaveLength(0);
    // Member 1's steps 3 and 4: nobody else can join them (member 0 is past them), so they go at once, alone.
    await c.step(1, batches[3], hyper, false);
    await c.step(1, batches[4], hyper, false);
    expect(target.calls.map((k) => k.members)).toEqual([[1], [1]]);
    // Step 5: together.
    await Promise.all([ahead, c.step(1, batches[5], hyper, false)]);
    expect(target.calls.map((k) => k.members)).toEqual([[1], [1], [0, 1]]);
    expect(c.stats.fallbackFlushes).toBe(0);
  });

  it('different batch arrays never share a submission', async () => {
    const { target, c } = setup(3);
    // Members 0 and 1 at the same step with different arrays (a re-read batch): two submissions; member 2 joins 0's.
    const a = batch(1);
    const b = new Float32Array([1, 1]); // same values, another array
    const p = [c.step(0, a, hyper, false), c.step(1, b, hyper, false), c.step(2, a, hyper, false)];
    await Promise.all(p);
    const byArray = target.calls.map((k) => ({ same: k.x === a, members: k.members }));
    expect(byArray).toHaveLength(2);
    expect(byArray).toContainEqual({ same: true, members: [0, 2] });
    expect(byArray).toContainEqual({ same: false, members: [1] });
  });

  it('an error rejects only the requests of its submission', async () => {
    const { target, c } = setup(3);
    const bad = batch(9);
    const good = batch(1);
    target.fail.add(bad);
    c.setPosition(2, 7); // member 2 elsewhere: its own batch
    const r0 = c.step(0, bad, hyper, false);
    const r1 = c.step(1, bad, hyper, false);
    const r2 = c.step(2, good, hyper, true);
    await expect(r0).rejects.toThrow('device lost in this submission');
    await expect(r1).rejects.toThrow('device lost in this submission');
    // Member 2's step (7) waits for members behind it; the failed runs end ('error' status: not live).
    c.setLive(0, false);
    c.setLive(1, false);
    await expect(r2).resolves.toMatchObject({ sse: 2 });
    expect(target.calls.map((k) => [k.x === bad, k.members])).toEqual([
      [true, [0, 1]],
      [false, [2]],
    ]);
  });

  it('resolves the requests of a submission in their arrival order, before the next submission', async () => {
    const { c } = setup(3);
    const order: string[] = [];
    const x = batch(1);
    const y = batch(2);
    const done = [2, 0, 1].map((m) =>
      c.step(m, x, hyper, false).then(() => {
        order.push(`x${m}`);
        return c.step(m, y, hyper, false).then(() => order.push(`y${m}`));
      }),
    );
    await Promise.all(done);
    expect(order).toEqual(['x2', 'x0', 'x1', 'y2', 'y0', 'y1']);
  });

  it('the fallback timer flushes a batch a running member never joins', async () => {
    const { target, c } = setup(2, 30);
    const t0 = performance.now();
    const s = await c.step(0, batch(1), hyper, true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(s?.sse).toBe(0);
    expect(target.calls.map((k) => k.members)).toEqual([[0]]);
    expect(c.stats.fallbackFlushes).toBe(1);
  });

  it('a member with two requests at once, or an unknown member, is refused', () => {
    const { c } = setup(2);
    void c.step(0, batch(1), hyper, false);
    expect(() => c.step(0, batch(2), hyper, false)).toThrow(/member 0 has a request pending already/);
    expect(() => c.step(5, batch(1), hyper, false)).toThrow(/member 5 has not joined/);
    expect(() => c.add(1)).toThrow(/joined already/);
  });

  it('evaluations of the same held-out array share one call; a member stepping on does not hold them', async () => {
    const { target, c } = setup(3);
    const held = new Float32Array(8);
    // All three after step 0; member 2 takes its next step instead of evaluating (other eval interval).
    const x0 = batch(0);
    const x1 = batch(1);
    await Promise.all([0, 1, 2].map((m) => c.step(m, x0, hyper, false)));
    const e0 = c.evaluate(0, held, 4);
    await settle();
    expect(target.calls).toHaveLength(1); // members 1 and 2 (same step, no request) may still evaluate
    const s2 = c.step(2, x1, hyper, false); // member 2 steps on: not waited for by the evaluation
    const e1 = c.evaluate(1, held, 4);
    const [a, b] = await Promise.all([e0, e1]);
    expect([a.sse, b.sse, a.nTokens]).toEqual([0, 1, 4]);
    expect(target.calls[1]).toMatchObject({ kind: 'eval', members: [0, 1] });
    // Member 2's step waited for 0 and 1 (their next step is 1 too); they join it.
    await Promise.all([s2, c.step(0, x1, hyper, false), c.step(1, x1, hyper, false)]);
    expect(target.calls[2]).toMatchObject({ kind: 'step', members: [2, 0, 1] });
    expect(c.stats).toMatchObject({ stepFlushes: 2, evalFlushes: 1 });
  });
});

describe('coalescedEngine', () => {
  it('routes step and evaluate through the coalescer and delegates the rest to the engine', async () => {
    const target = new FakeTarget();
    const c = new StepCoalescer(target, { fallbackMs: Number.POSITIVE_INFINITY });
    c.add(0);
    c.add(1);
    c.setLive(0, true);
    c.setLive(1, true);
    const calls: string[] = [];
    const state = { t: 4 } as SaeState;
    const real: SaeEngine = {
      shape: { dModel: 2, dSae: 3, k: 1, batchSize: 1 },
      statsRingSlots: 8,
      recordStats: (slot) => calls.push(`record ${slot}`),
      readRecordedStats: async (n) => {
        calls.push(`read ${n}`);
        return [];
      },
      step: async () => {
        throw new Error('the real step must not be called');
      },
      evaluate: async () => {
        throw new Error('the real evaluate must not be called');
      },
      getState: async () => state,
      setState: async (s) => {
        calls.push(`setState t=${s.t}`);
      },
      destroy: () => calls.push('destroy'),
    };
    const e0 = coalescedEngine(real, c, 0);
    expect(e0.shape).toBe(real.shape);
    expect(e0.statsRingSlots).toBe(8);
    e0.recordStats?.(3);
    await e0.readRecordedStats?.(2);
    expect(await e0.getState()).toBe(state);
    // setState moves the member to step 4: member 1 (step 0) no longer waits for it.
    await e0.setState(state);
    const s1 = await coalescedEngine(real, c, 1).step(batch(1), hyper, true);
    expect(s1?.sse).toBe(1);
    expect(target.calls.map((k) => k.members)).toEqual([[1]]);
    e0.destroy();
    expect(c.has(0)).toBe(false);
    expect(calls).toEqual(['record 3', 'read 2', 'setState t=4', 'destroy']);
  });
});
