/**
 * Divergence, collapse and early-checkpoint behaviour of the trainer on the CPU engine (the GPU engine shares the
 * sticky non-finite flag: shaders/nonfinite.wgsl, checked against src/reference/nonfinite.ts in the browser).
 */
import { describe, expect, it } from 'vitest';
import { paramsNonFinite } from '../reference/nonfinite';
import { CpuSaeEngine } from '../reference/sae-engine';
import { ARCH_SPECS } from '../sae/archs';
import type { EvalStats, SaeEngine, SaeParams, SaeShape } from '../sae/types';
import { Rng } from '../util/rng';
import { type Checkpoint, MemoryCheckpointStore } from './checkpoint';
import { collapseCapabilities, collapseChecks } from './collapse';
import { DEFAULT_CONFIG, type TrainConfig } from './config';
import { divergenceMessage } from './divergence';
import { memorySource } from './testing/memory-source';
import { errorText, type TrainEvent, Trainer, type TrainerDeps } from './trainer';

const D = 12;
const rng = new Rng(3);
const DATA = rng.normalArray(2001 * D);
const config: TrainConfig = {
  ...DEFAULT_CONFIG,
  dSae: 48,
  k: 4,
  batchSize: 64,
  steps: 40,
  lr: 3e-3,
  warmupSteps: 0,
  decay: 'none',
  evalInterval: 10,
  evalTokens: 100,
  seed: 7,
};

function fakeClock(tick: number): () => number {
  let t = 0;
  return () => {
    t += tick;
    return t;
  };
}

const source = () => memorySource(DATA, D, { shardRows: 256, id: 'synthetic', name: 'synthetic' });

/** A CPU engine whose W_enc[0] becomes NaN right after step `poisonAt` (1-based), as a diverging Adam step would. */
class PoisonedEngine extends CpuSaeEngine {
  private steps = 0;
  constructor(
    shape: SaeShape,
    init: SaeParams,
    private readonly poisonAt: number,
  ) {
    super(shape, init);
  }
  override stepSync(...args: Parameters<CpuSaeEngine['stepSync']>) {
    this.steps++;
    if (this.steps === this.poisonAt) {
      // Corrupt a parameter before the step: the step's flag sees it.
      (this as unknown as { params: SaeParams }).params.wEnc[0] = Number.NaN;
    }
    return super.stepSync(...args);
  }
}

function deps(
  store: MemoryCheckpointStore,
  events: TrainEvent[],
  extra: Partial<TrainerDeps> = {},
): TrainerDeps {
  return {
    createEngine: async (shape, init) => new CpuSaeEngine(shape, init),
    checkpoints: store,
    onEvent: (e) => events.push(e),
    now: fakeClock(1),
    readbackIntervalMs: 0,
    windowBytes: 4 * D * 700,
    ...extra,
  };
}

describe('divergence', () => {
  it('the CPU engine raises the sticky non-finite flag and keeps it until setState', async () => {
    const shape = { dModel: D, dSae: 48, k: 4, batchSize: 64 };
    const init = (await Trainer.start(config, source(), deps(new MemoryCheckpointStore(), []))).params();
    const e = new PoisonedEngine(shape, await init, 2);
    const x = DATA.subarray(0, 64 * D);
    const hyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, deadWindowSteps: 10 };
    expect((await e.step(x, hyper)).nonFinite).toBe(false);
    expect((await e.step(x, hyper)).nonFinite).toBe(true);
    expect((await e.step(x, hyper)).nonFinite).toBe(true);
    const s = await e.getState();
    expect(paramsNonFinite(s.params)).toBe(true);
  });

  it('stops at the poisoned step, never checkpoints NaN weights, and resumes from the last good checkpoint at η/2', async () => {
    const store = new MemoryCheckpointStore();
    const events: TrainEvent[] = [];
    const d = deps(store, events, {
      createEngine: async (shape, init) => new PoisonedEngine(shape, init, 25),
    });
    const t = await Trainer.start(config, source(), d, 'run-nan');
    expect(await t.run()).toBeNull();
    expect(t.currentStatus).toBe('error');
    const err = events.find((e) => e.type === 'error');
    if (err?.type !== 'error') throw new Error('no error event');
    expect(err.divergence).toEqual({ step: 25, lastFiniteStep: 24, checkpointStep: 20, lr: 3e-3 });
    expect(err.message).toBe(
      'loss became NaN at step 25 (last finite at step 24); lower the learning rate (now 0.003)',
    );
    expect(err.message).toBe(divergenceMessage(err.divergence as NonNullable<typeof err.divergence>));
    // The only checkpoint is the early one at step 20, and it is finite.
    const cp = await store.load('run-nan');
    expect(cp?.meta.step).toBe(20);
    expect(paramsNonFinite(cp?.data.state.params as SaeParams)).toBe(false);
    expect(events.filter((e) => e.type === 'summary')).toHaveLength(0);

    const events2: TrainEvent[] = [];
    const t2 = await Trainer.resume(cp as NonNullable<typeof cp>, source(), deps(store, events2), {
      lr: 1.5e-3,
    });
    expect(t2.info.config.lr).toBe(1.5e-3);
    expect(t2.info.startStep).toBe(20);
    const summary = await t2.run();
    expect(summary?.steps).toBe(40);
    expect(paramsNonFinite((await store.load('run-nan'))?.data.state.params as SaeParams)).toBe(false);
  });
});

describe('checkpoints come early', () => {
  it('the first checkpoint is saved after 20 steps when 5 s have not passed', async () => {
    const store = new MemoryCheckpointStore();
    const events: TrainEvent[] = [];
    const t = await Trainer.start(config, source(), deps(store, events), 'run-early');
    await t.run();
    const steps = events
      .filter((e) => e.type === 'checkpoint')
      .map((e) => (e.type === 'checkpoint' ? e.step : -1));
    expect(steps[0]).toBe(20);
    expect(steps[steps.length - 1]).toBe(40);
  });
});

describe('collapse', () => {
  const healthy = { l0: 8, deadFraction: 0.1, explainedVariance: 0.8, k: 8, meanThreshold: null };
  it('passes a healthy run of every architecture', () => {
    for (const caps of ARCH_SPECS.map((s) => s.collapse)) expect(collapseChecks(healthy, caps)).toEqual([]);
  });
  it('flags L0 < k/2 only where k is fixed', () => {
    const m = { ...healthy, l0: 3.9 };
    expect(collapseChecks(m, { fixedK: true, hasThreshold: false }).map((w) => w.code)).toEqual([
      'l0-below-half-k',
    ]);
    expect(collapseChecks(m, { fixedK: false, hasThreshold: false })).toEqual([]);
    expect(collapseChecks({ ...healthy, l0: 4 }, { fixedK: true, hasThreshold: false })).toEqual([]);
  });
  it('flags > 50% dead, EV < 0 and a non-finite θ (only with a threshold), NaN inputs included', () => {
    const codes = (m: typeof healthy | { meanThreshold: number | null }, t: boolean) =>
      collapseChecks({ ...healthy, ...m }, { fixedK: false, hasThreshold: t }).map((w) => w.code);
    expect(codes({ deadFraction: 0.51 } as never, false)).toEqual(['dead-majority']);
    expect(codes({ deadFraction: 0.5 } as never, false)).toEqual([]);
    expect(codes({ explainedVariance: -0.01 } as never, false)).toEqual(['negative-ev']);
    expect(codes({ explainedVariance: Number.NaN } as never, false)).toEqual(['negative-ev']);
    expect(codes({ meanThreshold: Number.NaN }, true)).toEqual(['threshold-non-finite']);
    expect(codes({ meanThreshold: Number.NaN }, false)).toEqual([]);
    for (const w of collapseChecks({ ...healthy, l0: 0, deadFraction: 1 }, collapseCapabilities('topk'))) {
      expect(w.message.length).toBeGreaterThan(10);
      expect(w.advice.length).toBeGreaterThan(10);
    }
  });
  it('a TopK run whose held-out L0 is 0 ends done, with warnings in the summary', async () => {
    const events: TrainEvent[] = [];
    const silent = (e: SaeEngine): SaeEngine => {
      const evaluate = e.evaluate.bind(e);
      e.evaluate = async (x, rows): Promise<EvalStats> => {
        const s = await evaluate(x, rows);
        return { ...s, l0Sum: 0, fireCounts: new Uint32Array(s.fireCounts.length) };
      };
      return e;
    };
    const t = await Trainer.start(
      config,
      source(),
      deps(new MemoryCheckpointStore(), events, {
        createEngine: async (shape, init) => silent(new CpuSaeEngine(shape, init)),
      }),
    );
    const s = await t.run();
    expect(t.currentStatus).toBe('done');
    expect(s?.warnings?.map((w) => w.code)).toEqual(['l0-below-half-k', 'dead-majority']);
    expect(events.some((e) => e.type === 'warnings' && e.step === 4)).toBe(true);
  });
});

describe('storage quota', () => {
  /**
   * Runs `config` to the end on a store whose saves throw QuotaExceededError while `refuses(checkpoint)` holds,
   * until the first pause: then space is "freed" (saves succeed) and the run is resumed, as the user would.
   */
  async function runWithFullStore(
    runId: string,
    refuses: (cp: Checkpoint) => boolean,
    extra: Partial<TrainerDeps> = {},
  ) {
    const store = new MemoryCheckpointStore();
    let full = true;
    const save = store.save.bind(store);
    store.save = async (cp) => {
      if (full && refuses(cp)) throw new DOMException('', 'QuotaExceededError');
      return save(cp);
    };
    const events: TrainEvent[] = [];
    const t = await Trainer.start(
      config,
      source(),
      deps(store, events, {
        ...extra,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'status' && e.status === 'paused') {
            full = false;
            t.resume();
          }
        },
      }),
      runId,
    );
    return { store, events, summary: await t.run() };
  }

  it('a checkpoint over quota pauses the run with bytes needed, used and allowed; Resume after freeing space finishes it', async () => {
    const { store, events, summary } = await runWithFullStore('run-q', () => true, {
      estimate: async () => ({ usageBytes: 4_900_000, quotaBytes: 5_000_000 }),
    });
    const reports = events.flatMap((e) => (e.type === 'storage-full' ? [e.report] : []));
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports[0]).toMatchObject({
      what: 'checkpoint',
      step: 20,
      usageBytes: 4_900_000,
      quotaBytes: 5_000_000,
    });
    expect(reports[0].neededBytes).toBeGreaterThan(4 * (2 * 12 * 48));
    expect(events.some((e) => e.type === 'status' && e.status === 'paused')).toBe(true);
    expect(events.some((e) => e.type === 'error')).toBe(false);
    expect(summary?.steps).toBe(40);
    expect((await store.load('run-q'))?.meta.status).toBe('done');
  });

  it('the final checkpoint over quota pauses the finished run (its weights are not lost); Resume saves it as done', async () => {
    // The final ('done') save hits the quota until the user frees space (the pause).
    const { store, events, summary } = await runWithFullStore('run-f', (cp) => cp.meta.status === 'done');
    const reports = events.flatMap((e) => (e.type === 'storage-full' ? [e.report] : []));
    expect(reports.map((r) => r.step)).toEqual([40]);
    const statuses = events.flatMap((e) => (e.type === 'status' ? [e.status] : []));
    expect(statuses.slice(-2)).toEqual(['paused', 'done']);
    expect(summary?.steps).toBe(40);
    expect((await store.load('run-f'))?.meta).toMatchObject({ status: 'done', step: 40 });
  });
});

describe('errorText', () => {
  it('never returns an empty message', () => {
    expect(errorText(new DOMException('', 'QuotaExceededError'))).toMatch(/QuotaExceededError.*delet/);
    expect(errorText(new DOMException('', 'AbortError'))).toMatch(/^AbortError/);
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText('')).toMatch(/unknown error/);
  });
});
