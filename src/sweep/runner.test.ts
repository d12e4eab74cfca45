/**
 * A 2 × 2 sweep (TopK, BatchTopK × k 4, 16) on the built-in demo with the fast CPU engine in Node: each SAE's
 * metric history and final weights equal those of the same config trained as a single run, bit for bit; each batch
 * is read from the dataset once for the whole group. Also: a sweep resumed after a crash mid-group continues every
 * run from its checkpoint to the single run's history.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WasmCpuSaeEngine } from '../cpu/sae-engine';
import { MemoryCheckpointStore } from '../train/checkpoint';
import { DEFAULT_CONFIG, type TrainConfig } from '../train/config';
import { memorySource } from '../train/testing/memory-source';
import { parseNpyF32 } from '../train/testing/npy';
import { type TrainEvent, Trainer } from '../train/trainer';
import { expandGrid } from './grid';
import { SweepRunner, type SweepSpec } from './runner';

const NPY = resolve(import.meta.dirname, '../../public/demo/stories260K.resid_post.2.f32.npy');
const npy = parseNpyF32(new Uint8Array(readFileSync(NPY)), NPY);
const [ROWS, D_MODEL] = npy.shape;

/** Steps per run: long enough for several recorded points, evaluations and a dead-latent window. */
const STEPS = 60;
const BASE: TrainConfig = {
  ...DEFAULT_CONFIG,
  dSae: 512,
  batchSize: 512,
  steps: STEPS,
  lr: 1e-3,
  seed: 7,
  evalTokens: 2048,
};

function source() {
  return memorySource(npy.data, D_MODEL, { shardRows: 8192, id: 'demo', name: 'demo' });
}

/** The deterministic part of a run's events: every metric but the timings. */
function history(events: TrainEvent[]): Record<string, unknown>[] {
  return events.flatMap((e): Record<string, unknown>[] => {
    if (e.type === 'metrics') {
      const { wallMs: _w, tokensPerSec: _t, ...rest } = e.point;
      return [{ kind: 'train', ...rest }];
    }
    if (e.type === 'eval') return [{ kind: 'eval', ...e.point }];
    return [];
  });
}

const createEngine = WasmCpuSaeEngine.create.bind(WasmCpuSaeEngine);

async function single(config: TrainConfig) {
  const events: TrainEvent[] = [];
  const checkpoints = new MemoryCheckpointStore();
  const t = await Trainer.start(config, source(), {
    createEngine,
    checkpoints,
    onEvent: (e) => events.push(e),
  });
  const summary = await t.run();
  const params = await t.params();
  t.dispose();
  return { events, summary, params };
}

function spec(): SweepSpec {
  const grid = {
    architectures: ['topk', 'batchtopk'] as const,
    dSaes: [512],
    sparsity: { k: [4, 16] },
    lrs: [1e-3],
  };
  const members = expandGrid(
    BASE,
    { ...grid, architectures: [...grid.architectures] },
    {
      dModel: D_MODEL,
      nTokens: ROWS,
    },
  );
  return {
    id: 'sweep-test',
    name: 'test sweep',
    createdAt: 0,
    datasetId: 'demo',
    datasetName: 'demo',
    grid: { ...grid, architectures: [...grid.architectures] },
    members: members.map((m, i) => ({ runId: `sweep-test-${i}`, config: m.config })),
    groups: [[0, 1, 2, 3]],
  };
}

describe('SweepRunner on the CPU engine', () => {
  it('trains a 2 × 2 sweep whose every history and weights equal the single runs, reading each batch once', async () => {
    const s = spec();
    expect(s.members.map((m) => `${m.config.architecture}/${m.config.k}`)).toEqual([
      'topk/4',
      'topk/16',
      'batchtopk/4',
      'batchtopk/16',
    ]);
    const events: TrainEvent[][] = s.members.map(() => []);
    const checkpoints = new MemoryCheckpointStore();
    const runner = new SweepRunner(s, source(), {
      createEngine,
      checkpoints,
      onEvent: (m, e) => events[m].push(e),
    });
    const summaries = await runner.run();
    const st = runner.stages;
    // One stream: the group's STEPS batches (+ the init batch 0 once) are cut once, served to 4 runs.
    expect(st.batchesRead).toBe(STEPS);
    expect(st.batchesServed).toBe(4 * (STEPS + 1));
    // Held-out samples: the periodic one and the final one, each read once for the 4 runs.
    expect(st.heldOutRead).toBe(2);
    expect(st.heldOutServed).toBeGreaterThanOrEqual(8);
    for (let i = 0; i < s.members.length; i++) {
      const one = await single(s.members[i].config);
      const h = history(events[i]);
      expect(h.length).toBeGreaterThan(10);
      expect(h, `member ${i} history`).toEqual(history(one.events));
      expect(summaries[i]?.heldOut).toEqual(one.summary?.heldOut);
      const cp = await checkpoints.load(s.members[i].runId);
      expect(cp?.meta.status).toBe('done');
      expect(Buffer.from(cp!.data.state.params.wEnc.buffer).equals(Buffer.from(one.params.wEnc.buffer))).toBe(
        true,
      );
      expect(Buffer.from(cp!.data.state.params.wDec.buffer).equals(Buffer.from(one.params.wDec.buffer))).toBe(
        true,
      );
    }
  }, 600_000);

  it('resumes a sweep stopped mid-group from every checkpoint to the same histories', async () => {
    const s = spec();
    s.members = s.members.slice(0, 2);
    s.groups = [[0, 1]];
    const checkpoints = new MemoryCheckpointStore();
    // First session: pause both runs after a few steps (each saves its checkpoint), then "crash": the runner is
    // left paused and never touched again.
    let paused = false;
    const firstEvents: TrainEvent[][] = [[], []];
    const firstRunner = new SweepRunner(s, source(), {
      createEngine,
      checkpoints,
      onEvent: (m, e) => {
        firstEvents[m].push(e);
        if (!paused && e.type === 'checkpoint') {
          paused = true;
          void firstRunner.pause();
        }
      },
    });
    void firstRunner.run();
    await new Promise<void>((res) => {
      const poll = () =>
        firstEvents.every((ev) => ev.some((e) => e.type === 'status' && e.status === 'paused'))
          ? res()
          : setTimeout(poll, 5);
      poll();
    });
    const at = await Promise.all(s.members.map((m) => checkpoints.load(m.runId)));
    expect(at.every((cp) => cp !== null && cp.meta.status === 'paused' && cp.meta.step < STEPS)).toBe(true);
    // Second session on the same checkpoints: the resumed runs must end where the single runs end.
    const events: TrainEvent[][] = [[], []];
    const again = new SweepRunner(s, source(), {
      createEngine,
      checkpoints,
      onEvent: (m, e) => events[m].push(e),
    });
    await again.run();
    for (let i = 0; i < 2; i++) {
      const one = await single(s.members[i].config);
      const resumed = history(events[i]).filter((p) => p.kind === 'train');
      const ref = history(one.events).filter((p) => p.kind === 'train');
      expect(resumed.length).toBeGreaterThan(0);
      expect(resumed).toEqual(ref.slice(ref.length - resumed.length));
      const cp = await checkpoints.load(s.members[i].runId);
      expect(Buffer.from(cp!.data.state.params.wEnc.buffer).equals(Buffer.from(one.params.wEnc.buffer))).toBe(
        true,
      );
    }
  }, 600_000);
});
