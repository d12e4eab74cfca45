import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CpuSaeEngine } from '../reference/sae-engine';
import type { SaeParams } from '../sae/types';
import { Rng } from '../util/rng';
import { MemoryCheckpointStore } from './checkpoint';
import { DEFAULT_CONFIG, type TrainConfig } from './config';
import { historyEvery } from './history';
import { memorySource } from './testing/memory-source';
import { parseNpyF32 } from './testing/npy';
import { type RunSummary, type TrainEvent, Trainer, type TrainerDeps } from './trainer';

const D = 12;

/** Sparse synthetic activations: each row a nonnegative mix of 3 of 40 fixed directions plus an offset. */
function synthetic(rows: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const dirs = new Rng(99).normalArray(40 * D);
  const x = new Float32Array(rows * D);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < 3; c++) {
      const i = rng.int(40);
      const a = rng.uniform(0.5, 2);
      for (let d = 0; d < D; d++) x[r * D + d] += a * dirs[i * D + d];
    }
    for (let d = 0; d < D; d++) x[r * D + d] += 0.3;
  }
  return x;
}

const DATA = synthetic(3001, 5);
const config: TrainConfig = {
  ...DEFAULT_CONFIG,
  dSae: 48,
  k: 4,
  batchSize: 64,
  steps: 60,
  lr: 3e-3,
  warmupSteps: 5,
  evalInterval: 20,
  evalTokens: 100,
  seed: 7,
};

/** A clock that advances `tick` ms per call (deterministic timing for throttling and checkpoints). */
function fakeClock(tick: number): () => number {
  let t = 0;
  return () => {
    t += tick;
    return t;
  };
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
    adapter: 'cpu reference (test)',
    now: fakeClock(1),
    readbackIntervalMs: 0,
    windowBytes: 4 * D * 700,
    ...extra,
  };
}

const source = () => memorySource(DATA, D, { shardRows: 256, id: 'synthetic', name: 'synthetic' });

async function fullRun(cfg = config, extra: Partial<TrainerDeps> = {}) {
  const store = new MemoryCheckpointStore();
  const events: TrainEvent[] = [];
  const t = await Trainer.start(cfg, source(), deps(store, events, extra), 'run-a');
  const summary = (await t.run()) as RunSummary;
  return { t, summary, events, store, params: await t.params() };
}

function expectSameParams(a: SaeParams, b: SaeParams): void {
  for (const k of ['wEnc', 'wDec', 'bEnc', 'bDec'] as const) expect(b[k], k).toEqual(a[k]);
}

describe('Trainer', () => {
  it('trains to the end, evaluates, checkpoints and summarises', async () => {
    const { summary, events, store } = await fullRun();
    expect(events[0].type).toBe('started');
    const points = events.flatMap((e) => (e.type === 'metrics' ? [e.point] : []));
    expect(points.map((p) => p.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(points[59].tokens).toBe(60 * 64);
    expect(points[0].lr).toBeCloseTo(3e-3 / 5, 12);
    for (const p of points) expect(p.l0).toBeLessThanOrEqual(4);
    expect(points[59].explainedVariance).toBeGreaterThan(points[0].explainedVariance);
    const evals = events.flatMap((e) => (e.type === 'eval' ? [e.point] : []));
    // evalInterval 20 is lowered to ⌊60/10⌋ = 6 so the run is evaluated at least 10 times (evalIntervalSteps).
    expect(evals.map((e) => e.step)).toEqual([6, 12, 18, 24, 30, 36, 42, 48, 54, 60]);
    expect(summary.steps).toBe(60);
    expect(summary.stoppedEarly).toBe(false);
    expect(summary.sampleTokens).toBe(151);
    expect(summary.heldOut.explainedVariance).toBe(evals[9].explainedVariance);
    expect(summary.heldOut.explainedVariance).toBeGreaterThan(0.5);
    expect(summary.firingRates.length).toBe(48);
    for (let i = 1; i < 48; i++)
      expect(summary.firingRates[i]).toBeLessThanOrEqual(summary.firingRates[i - 1]);
    for (const n of summary.decoderRowNorms) expect(n).toBeCloseTo(1, 5);
    expect(summary.deadInSample).toBe(summary.firingRates.filter((r) => r === 0).length);
    const last = events.at(-1);
    expect(last?.type).toBe('summary');
    expect(events.some((e) => e.type === 'status' && e.status === 'done')).toBe(true);
    const metas = await store.list();
    expect(metas.map((m) => [m.runId, m.status, m.step])).toEqual([['run-a', 'done', 60]]);
  });

  it('is deterministic for a seed: same parameters and evaluations, whatever the sampling', async () => {
    const a = await fullRun();
    const b = await fullRun(config, { readbackIntervalMs: 7, now: fakeClock(1) });
    expectSameParams(a.params, b.params);
    const evalsOf = (ev: TrainEvent[]) => ev.flatMap((e) => (e.type === 'eval' ? [e.point] : []));
    expect(evalsOf(b.events)).toEqual(evalsOf(a.events));
    const c = await fullRun({ ...config, seed: 8 });
    expect(c.params.wDec).not.toEqual(a.params.wDec);
  });

  it('records the history at steps fixed by the config: two identical runs have identical histories', async () => {
    // Different clocks and readback intervals change only when points are read back, never which or their values.
    const a = await fullRun(config, { readbackIntervalMs: 0, now: fakeClock(1) });
    const b = await fullRun(config, { readbackIntervalMs: 10, now: fakeClock(3) });
    const metricsOf = (ev: TrainEvent[]) =>
      ev.flatMap((e) => {
        if (e.type !== 'metrics') return [];
        const { wallMs: _w, tokensPerSec: _r, ...rest } = e.point;
        return [rest];
      });
    expect(metricsOf(a.events).map((p) => p.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(metricsOf(b.events)).toEqual(metricsOf(a.events));
    const hist = (t: Trainer) => (t as unknown as { trainHistory: { snapshot(): unknown } }).trainHistory;
    const sa = hist(a.t).snapshot() as { columns: Float64Array[]; fields: string[] };
    const sb = hist(b.t).snapshot() as { columns: Float64Array[]; fields: string[] };
    for (const f of ['step', 'mse', 'fvu', 'explainedVariance', 'l0', 'deadFraction', 'lr']) {
      const i = sa.fields.indexOf(f);
      expect(sb.columns[i], f).toEqual(sa.columns[i]);
    }
  });

  it('records every n-th step of a long run (n from the step count) and the last one', async () => {
    const long = { ...config, steps: 4100, warmupSteps: 5, evalInterval: 5000, batchSize: 16, dSae: 16 };
    const { events } = await fullRun(long);
    const steps = events.flatMap((e) => (e.type === 'metrics' ? [e.point.step] : []));
    expect(historyEvery(4100)).toBe(3);
    expect(steps.slice(0, 3)).toEqual([3, 6, 9]);
    expect(steps.at(-1)).toBe(4100);
    expect(steps.length).toBe(Math.floor(4100 / 3) + 1);
  }, 60_000);

  it('checkpoints every checkpointIntervalSec of training', async () => {
    const store = new MemoryCheckpointStore();
    const saves: number[] = [];
    const t = await Trainer.start(
      { ...config, checkpointIntervalSec: 1 },
      source(),
      deps(store, [], {
        now: fakeClock(25),
        onEvent: (e) => e.type === 'checkpoint' && saves.push(e.step),
      }),
      'run-c',
    );
    await t.run();
    expect(saves.length).toBeGreaterThan(3);
    expect(saves.at(-1)).toBe(60);
  });

  it('pause saves a checkpoint; a resumed run continues the same steps, curves and parameters', async () => {
    const reference = await fullRun();
    const store = new MemoryCheckpointStore();
    const events: TrainEvent[] = [];
    let trainer: Trainer | null = null;
    let paused: Promise<void> | null = null;
    const d = deps(store, events, {
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'metrics' && e.point.step === 23 && trainer) paused = trainer.pause();
      },
    });
    trainer = await Trainer.start(config, source(), d, 'run-a');
    const running = trainer.run();
    while (!paused) await new Promise((r) => setTimeout(r, 1));
    await paused;
    expect(trainer.currentStatus).toBe('paused');
    // "Reload": the first trainer is abandoned; only the checkpoint survives.
    const cp = await store.load('run-a');
    expect(cp?.meta.status).toBe('paused');
    expect(cp?.meta.step).toBe(23);
    trainer.stop();
    await running;

    const events2: TrainEvent[] = [];
    const resumed = await Trainer.resume(cp!, source(), deps(new MemoryCheckpointStore(), events2));
    const summary = (await resumed.run()) as RunSummary;
    expect(events2[0].type).toBe('started');
    if (events2[0].type === 'started') expect(events2[0].run.startStep).toBe(23);
    const hist = events2.find((e) => e.type === 'history');
    expect(hist?.type === 'history' && hist.train.columns[0].length).toBe(23);
    const steps = events2.flatMap((e) => (e.type === 'metrics' ? [e.point.step] : []));
    expect(steps[0]).toBe(24);
    expect(steps.at(-1)).toBe(60);
    expect(summary.steps).toBe(60);
    expectSameParams(reference.params, await resumed.params());
    const refPoints = reference.events.flatMap((e) => (e.type === 'metrics' ? [e.point] : []));
    const newPoints = events2.flatMap((e) => (e.type === 'metrics' ? [e.point] : []));
    expect(newPoints.map((p) => p.mse)).toEqual(refPoints.slice(23).map((p) => p.mse));
  });

  it('stop ends the run early with a summary of the steps done (one evaluation at that step)', async () => {
    const store = new MemoryCheckpointStore();
    const evals: number[] = [];
    let trainer: Trainer | null = null;
    trainer = await Trainer.start(
      config,
      source(),
      deps(store, [], {
        onEvent: (e) => {
          if (e.type === 'metrics' && e.point.step === 20) trainer?.stop();
          if (e.type === 'eval') evals.push(e.point.step);
        },
      }),
      'run-s',
    );
    const s = (await trainer.run()) as RunSummary;
    expect(s.steps).toBe(20);
    // Periodic evaluations every 6 steps, then the final one at the stop.
    expect(evals).toEqual([6, 12, 18, 20]);
    expect(s.sampleTokens).toBe(151);
    expect(s.stoppedEarly).toBe(true);
    expect((await store.list())[0].status).toBe('stopped');
  });

  it('reports an engine failure (e.g. a lost device) as an error event with the step', async () => {
    const events: TrainEvent[] = [];
    const store = new MemoryCheckpointStore();
    const t = await Trainer.start(
      config,
      source(),
      deps(store, events, {
        createEngine: async (shape, init) => {
          const e = new CpuSaeEngine(shape, init);
          let n = 0;
          const step = e.step.bind(e);
          e.step = async (x, h, r) => {
            if (++n === 30) throw new Error('The GPU device was lost (destroyed: test)');
            return step(x, h, r);
          };
          return e;
        },
      }),
      'run-e',
    );
    expect(await t.run()).toBeNull();
    const err = events.find((e) => e.type === 'error');
    expect(err?.type === 'error' && err.message).toMatch(/device was lost/);
    expect(err?.type === 'error' && err.step).toBe(29);
    expect(t.currentStatus).toBe('error');
  });

  it('rejects an invalid config with the field names', async () => {
    await expect(
      Trainer.start({ ...config, k: 100 }, source(), deps(new MemoryCheckpointStore(), [])),
    ).rejects.toThrow('Invalid training config: k: k (100) must not exceed d_sae (48)');
  });
});

describe('Trainer on the stories260K activations (CPU engine)', () => {
  // The demo dataset in the repository (public/demo/README.md): present in every clone and worktree.
  const npy = resolve(import.meta.dirname, '../../public/demo/stories260K.resid_post.2.f32.npy');
  it('learns: held-out explained variance rises well above 0 in 120 steps', async () => {
    const { data, shape } = parseNpyF32(readFileSync(npy), npy);
    expect(shape).toEqual([81790, 64]);
    const src = memorySource(data, 64, { shardRows: 16384, id: 'stories', name: 'stories260K' });
    const events: TrainEvent[] = [];
    const t = await Trainer.start(
      {
        ...DEFAULT_CONFIG,
        dSae: 256,
        k: 8,
        batchSize: 256,
        steps: 120,
        lr: 1e-3,
        warmupSteps: 10,
        evalTokens: 1024,
      },
      src,
      deps(new MemoryCheckpointStore(), events, { windowBytes: undefined }),
    );
    const s = (await t.run()) as RunSummary;
    expect(s.scale).toBeCloseTo(Math.sqrt(64 / src.manifest.meanSquaredNorm), 10);
    expect(s.sampleTokens).toBe(4090);
    expect(s.heldOut.l0).toBeLessThanOrEqual(8);
    expect(s.heldOut.l0).toBeGreaterThan(7.5);
    expect(s.heldOut.explainedVariance).toBeGreaterThan(0.6);
  }, 120_000);
});

describe('Trainer, other architectures', () => {
  it('passes λ with its warmup, records the sparsity loss and the threshold (JumpReLU)', async () => {
    const cfg: TrainConfig = {
      ...config,
      architecture: 'jumprelu',
      l0Coefficient: 0.5,
      sparsityWarmupSteps: 20,
      bandwidth: 0.05,
      thresholdInit: 0.1,
    };
    const { summary, events, params } = await fullRun(cfg);
    const points = events.flatMap((e) => (e.type === 'metrics' ? [e.point] : []));
    // λ·L0 with λ_t = 0.5·min(1, (t+1)/20): the point of step t (1-based) has λ = 0.5·min(1, t/20).
    for (const p of [points[4], points[39]]) {
      expect(p.sparsityLoss).toBeCloseTo(0.5 * Math.min(1, p.step / 20) * p.l0, 4);
    }
    expect(points.every((p) => p.auxkLoss === 0)).toBe(true);
    expect(summary.architecture).toBe('jumprelu');
    expect(params.threshold?.length).toBe(48);
    expect(summary.meanThreshold).toBeGreaterThan(0.1);
  });

  it('turns AuxK on for TopK with its own dead window, and resumes a BatchTopK run identically', async () => {
    const aux = await fullRun({ ...config, auxk: true, kAux: 6, auxkDeadWindowTokens: 64 });
    const points = aux.events.flatMap((e) => (e.type === 'metrics' ? [e.point] : []));
    expect(points.some((p) => p.auxkLoss > 0)).toBe(true);
    expect(points[0].auxkLoss).toBe(0);

    const cfg: TrainConfig = { ...config, architecture: 'batchtopk', thresholdEmaRate: 0.1 };
    const whole = await fullRun(cfg);
    const store = new MemoryCheckpointStore();
    let trainer: Trainer | null = null;
    let paused: Promise<void> | null = null;
    const d = deps(store, [], {
      onEvent: (e) => {
        if (e.type === 'metrics' && e.point.step === 25 && trainer) paused = trainer.pause();
      },
    });
    trainer = await Trainer.start(cfg, source(), d, 'run-b');
    const running = trainer.run();
    while (!paused) await new Promise((r) => setTimeout(r, 1));
    await paused;
    const cp = await store.load('run-b');
    if (!cp) throw new Error('no checkpoint');
    expect(cp.data.state.params.threshold?.length).toBe(48);
    trainer.stop();
    await running;
    const resumed = await Trainer.resume(cp, source(), deps(new MemoryCheckpointStore(), []));
    await resumed.run();
    const p = await resumed.params();
    expectSameParams(whole.params, p);
    expect(p.threshold).toEqual(whole.params.threshold);
  });
});

describe('config: sparsity schedule and AuxK window', () => {
  it('warms λ up linearly from 0 and picks the architecture coefficient', async () => {
    const { sparsityCoeff, auxkDeadWindowSteps } = await import('./config');
    const c = { l0Coefficient: 0.4, l1Coefficient: 5, sparsityWarmupSteps: 100 };
    expect(sparsityCoeff({ ...c, architecture: 'jumprelu' }, 0)).toBeCloseTo(0.004, 12);
    expect(sparsityCoeff({ ...c, architecture: 'jumprelu' }, 49)).toBeCloseTo(0.2, 12);
    expect(sparsityCoeff({ ...c, architecture: 'jumprelu' }, 500)).toBe(0.4);
    expect(sparsityCoeff({ ...c, architecture: 'relu' }, 99)).toBe(5);
    expect(sparsityCoeff({ ...c, architecture: 'topk' }, 50)).toBe(0);
    expect(sparsityCoeff({ ...c, architecture: 'relu', sparsityWarmupSteps: 0 }, 0)).toBe(5);
    expect(auxkDeadWindowSteps({ auxkDeadWindowTokens: 50_000, batchSize: 512 })).toBe(98);
    expect(auxkDeadWindowSteps({ auxkDeadWindowTokens: 1, batchSize: 512 })).toBe(1);
  });
});
