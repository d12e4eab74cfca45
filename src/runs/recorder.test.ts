import { describe, expect, it } from 'vitest';
import { CpuSaeEngine } from '../reference/sae-engine';
import { MemoryCheckpointStore } from '../train/checkpoint';
import { DEFAULT_CONFIG, evalIntervalSteps } from '../train/config';
import { memorySource } from '../train/testing/memory-source';
import { Trainer } from '../train/trainer';
import { Rng } from '../util/rng';
import { emptyHistory, type RunData, type RunMeta, type RunRecord } from './library';
import { RunRecorder, type RunSink } from './recorder';

/** An in-memory run library (structured clones, like IndexedDB). */
function memoryLibrary(): RunSink & { records: Map<string, RunRecord>; puts: number } {
  const records = new Map<string, RunRecord>();
  const lib = {
    records,
    puts: 0,
    async meta(id: string) {
      return records.has(id) ? structuredClone(records.get(id)?.meta) : undefined;
    },
    async get(id: string) {
      const r = records.get(id);
      return r ? structuredClone(r) : null;
    },
    async put(meta: RunMeta, data?: RunData) {
      lib.puts++;
      const prev = records.get(meta.id);
      records.set(
        meta.id,
        structuredClone({ meta, data: data ?? prev?.data ?? { history: emptyHistory(), summary: null } }),
      );
    },
  };
  return lib;
}

describe('RunRecorder', () => {
  it('records a run from its events: meta, full fixed-step history, summary and the weights size', async () => {
    const D = 8;
    const data = new Rng(3).normalArray(800 * D);
    const source = memorySource(data, D, { shardRows: 128, id: 'ds', name: 'ds' });
    const checkpoints = new MemoryCheckpointStore();
    const library = memoryLibrary();
    const dataset = {
      kind: 'file',
      name: 'ds',
      nTokens: 800,
      dModel: D,
      dtype: 'f32',
      fingerprint: 'ef'.repeat(32),
    } as const;
    const rec = new RunRecorder({ library, checkpoints, dataset });
    const config = {
      ...DEFAULT_CONFIG,
      dSae: 16,
      k: 2,
      batchSize: 32,
      steps: 25,
      warmupSteps: 2,
      evalInterval: 10,
      evalTokens: 20,
    };
    const t = await Trainer.start(
      config,
      source,
      {
        createEngine: async (shape, init) => new CpuSaeEngine(shape, init),
        checkpoints,
        onEvent: (e) => rec.onEvent(e),
        readbackIntervalMs: 0,
      },
      'run-r',
    );
    await t.run();
    await rec.flushed();
    const r = library.records.get('run-r');
    expect(r).toBeDefined();
    const m = r?.meta as RunMeta;
    expect(m.name).toBe('topk-k2-16-s42');
    expect(m.status).toBe('done');
    expect(m.steps).toBe(25);
    expect(m.dataset).toEqual(dataset);
    expect(m.heldOutEv).toBe(r?.data.summary?.heldOut.explainedVariance);
    expect(m.finishedAt).not.toBeNull();
    expect(m.weightsBytes).toBeGreaterThan(4 * 2 * 16 * D);
    const train = r?.data.history.train;
    expect(Array.from(train?.columns[train.fields.indexOf('step')] ?? [])).toEqual(
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
    const ev = r?.data.history.eval;
    // Periodic evaluations (src/train/config.ts evalIntervalSteps: at least 10 per run) and the final one.
    const every = evalIntervalSteps(config);
    const evalSteps = Array.from({ length: Math.floor((25 - 1) / every) }, (_, i) => (i + 1) * every);
    expect(Array.from(ev?.columns[ev.fields.indexOf('step')] ?? [])).toEqual([...evalSteps, 25]);
    expect(r?.data.summary?.firingRates.length).toBe(16);
    expect(m.ceLossScore).toBeNull();
    // The run's final patched-CE point fills the CE-loss score column; live points do not.
    rec.onBehaviour({ final: false, metrics: { ceLossScore: { value: 0.5 } } });
    await rec.flushed();
    expect(library.records.get('run-r')?.meta.ceLossScore).toBeNull();
    rec.onBehaviour({ final: true, metrics: { ceLossScore: { value: 0.9 } } });
    await rec.flushed();
    expect(library.records.get('run-r')?.meta.ceLossScore).toBe(0.9);
    expect(library.records.get('run-r')?.data.summary?.firingRates.length).toBe(16);
  });
});
