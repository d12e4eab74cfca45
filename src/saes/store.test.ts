/**
 * Imported SAEs in the run library and checkpoint store (IndexedDB through fake-indexeddb): an import is a 'done'
 * run marked imported with a checkpoint in the final-checkpoint layout; evaluation on a dataset records held-out
 * metrics equal to the oracle's on the same held-out rows; and the 8 malformed cases each give a message naming the
 * file and the problem, with both databases' keys and contents exactly as before.
 */
import 'fake-indexeddb/auto';
import { createStore, entries } from 'idb-keyval';
import { beforeAll, describe, expect, it } from 'vitest';
import { CpuSaeEngine } from '../reference/sae-engine';
import { RunLibrary } from '../runs/library';
import { evalMetrics } from '../sae/metrics';
import type { SaeParams, SaeShape } from '../sae/types';
import { Batcher } from '../train/batcher';
import { IdbCheckpointStore } from '../train/checkpoint';
import { engineShape } from '../train/config';
import { memorySource } from '../train/testing/memory-source';
import { FINAL_SAMPLE_TOKENS } from '../train/trainer';
import { Rng } from '../util/rng';
import { fixtureWeights, saeLensFolder } from './fixtures';
import type { SaeFile } from './readers';
import { evaluateImportedRun, importSaeFiles, type SaeStoreDeps } from './store';

const D = 12;
const S = 24;
const checkpoints = new IdbCheckpointStore();
const library = new RunLibrary(checkpoints);
let seq = 0;
const deps: SaeStoreDeps = {
  library,
  checkpoints,
  now: () => 1_700_000_000_000,
  newId: () => `imp-${++seq}`,
};
const engineDeps = { ...deps, createEngine: async (s: SaeShape, p: SaeParams) => new CpuSaeEngine(s, p) };
const w = fixtureWeights(D, S, 2);
const dataset = memorySource(new Rng(7).normalArray(400 * D), D, { id: 'ds-12', name: 'twelve' });
const wide = memorySource(new Rng(8).normalArray(200 * (D + 1)), D + 1, { id: 'ds-13', name: 'thirteen' });

/** Every key and value of both databases. */
async function snapshot(): Promise<{ lib: [IDBValidKey, unknown][]; cps: [IDBValidKey, unknown][] }> {
  const lib = await entries(createStore('sae-lab-runs', 'runs'));
  const cps = await entries(createStore('sae-lab-checkpoints', 'runs'));
  const sort = (e: [IDBValidKey, unknown][]) => e.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return { lib: sort(lib), cps: sort(cps) };
}

let firstId = '';
beforeAll(async () => {
  firstId = (await importSaeFiles(saeLensFolder(w, { architecture: 'jumprelu' }), deps)).id;
});

describe('an imported SAE is a run of the library', () => {
  it('is done, marked imported, without curves; its checkpoint has the final-checkpoint layout', async () => {
    const rec = await library.get(firstId);
    expect(rec?.meta.status).toBe('done');
    expect(rec?.meta.imported?.format).toBe('saelens');
    expect(rec?.meta.imported?.files).toEqual([
      'saelens-jumprelu/cfg.json',
      'saelens-jumprelu/sae_weights.safetensors',
    ]);
    expect(rec?.data.history.train.columns).toEqual([]);
    expect(rec?.data.summary).toBeNull();
    const cp = await checkpoints.load(firstId);
    expect(cp?.meta.status).toBe('done');
    expect(cp?.meta.scale).toBe(1);
    expect([cp?.meta.dModel, cp?.meta.dSae]).toEqual([D, S]);
    expect(Object.keys(cp?.data.state ?? {}).sort()).toEqual([
      'adamM',
      'adamV',
      'params',
      'stepsSinceFired',
      't',
    ]);
    expect(cp?.data.state.params.wEnc).toEqual(w.wEnc);
    expect(cp?.data.state.params.threshold).toEqual(w.threshold);
    expect(cp?.data.state.adamM.wEnc.every((v) => v === 0)).toBe(true);
    expect(Object.keys(cp?.data.history ?? {}).sort()).toEqual(['eval', 'train']);
    expect(rec?.meta.weightsBytes).toBeGreaterThan(4 * 2 * D * S);
  });

  it('evaluates on a dataset of matching d_model with the trained runs’ metric definitions', async () => {
    const r = await evaluateImportedRun(firstId, dataset, engineDeps);
    const cp = await checkpoints.load(firstId);
    const batcher = new Batcher({
      source: dataset,
      batchSize: 1,
      heldOutFraction: 0.05,
      seed: 42,
      normalize: false,
    });
    const held = await batcher.heldOut(FINAL_SAMPLE_TOKENS);
    const shape = engineShape(cp!.meta.config, D, S);
    const want = evalMetrics(
      await new CpuSaeEngine(shape, cp!.data.state.params).evaluate(held.x, held.rows),
      D,
    );
    expect(r.summary.heldOut).toEqual(want);
    expect(r.summary.sampleTokens).toBe(20);
    const meta = await library.meta(firstId);
    expect(meta?.heldOutEv).toBe(want.explainedVariance);
    expect(meta?.l0).toBe(want.l0);
    expect(meta?.info.datasetId).toBe('ds-12');
    expect(cp?.meta.datasetId).toBe('ds-12');
    expect((await library.get(firstId))?.data.summary?.heldOut).toEqual(want);
  });
});

describe('malformed SAE files: a message naming the file and the problem, both stores unchanged', () => {
  const good = () => saeLensFolder(w, { architecture: 'topk', k: 4, folder: 'bad' });
  const cases: [string, () => SaeFile[], RegExp][] = [
    [
      'missing tensor',
      () =>
        saeLensFolder(w, {
          architecture: 'topk',
          k: 4,
          folder: 'bad',
          tensors: (t) => t.filter((x) => x.name !== 'b_dec'),
        }),
      /"bad\/sae_weights\.safetensors": missing tensor "b_dec"/,
    ],
    [
      'extra tensor',
      () =>
        saeLensFolder(w, {
          architecture: 'topk',
          k: 4,
          folder: 'bad',
          tensors: (t) => [...t, { name: 'W_skip', shape: [D, D], data: new Float32Array(D * D) }],
        }),
      /"bad\/sae_weights\.safetensors": unexpected tensor "W_skip"/,
    ],
    [
      'wrong shape',
      () =>
        saeLensFolder(w, {
          architecture: 'topk',
          k: 4,
          folder: 'bad',
          tensors: (t) => t.map((x) => (x.name === 'W_enc' ? { ...x, shape: [S, D] } : x)),
        }),
      /"bad\/sae_weights\.safetensors": tensor "W_enc" has shape \[24, 12\], expected \[d_in, d_sae\] = \[12, 24\]/,
    ],
    [
      'wrong dtype',
      () =>
        saeLensFolder(w, {
          architecture: 'topk',
          k: 4,
          folder: 'bad',
          tensors: (t) => t.map((x) => (x.name === 'b_enc' ? { ...x, dtype: 'I32' } : x)),
        }),
      /"bad\/sae_weights\.safetensors": tensor "b_enc" has dtype I32; SAE weights must be F32, F16, BF16 or F64/,
    ],
    [
      'cfg.json that does not parse',
      () =>
        saeLensFolder(w, { architecture: 'topk', k: 4, folder: 'bad', cfgText: '{"architecture": "topk",' }),
      /"bad\/cfg\.json": does not parse as JSON/,
    ],
    [
      'unknown architecture',
      () => saeLensFolder(w, { architecture: 'gated', folder: 'bad' }),
      /"bad\/cfg\.json": unknown architecture "gated"; the lab reads SAELens architectures topk, batchtopk, jumprelu, standard/,
    ],
    [
      'truncated safetensors',
      () => {
        const f = good();
        f[1] = { ...f[1], bytes: f[1].bytes.subarray(0, f[1].bytes.length - 100) };
        return f;
      },
      /"bad\/sae_weights\.safetensors": truncated: the header describes \d+ bytes of tensor data but the file holds only \d+/,
    ],
  ];
  for (const [what, files, message] of cases) {
    it(what, async () => {
      const before = await snapshot();
      expect(before.lib.length * before.cps.length).toBeGreaterThan(0);
      await expect(importSaeFiles(files(), deps)).rejects.toThrow(message);
      expect(await snapshot()).toEqual(before);
    });
  }

  it('d_in ≠ the dataset’s d_model (evaluation refused)', async () => {
    const before = await snapshot();
    await expect(evaluateImportedRun(firstId, wide, engineDeps)).rejects.toThrow(
      /"saelens-jumprelu\/cfg\.json": d_in = 12 but dataset "thirteen" has d_model = 13/,
    );
    expect(await snapshot()).toEqual(before);
  });

  it('the good file of the same cases imports (the cases differ from it only by their fault)', async () => {
    const meta = await importSaeFiles(good(), deps);
    expect(meta.info.shape.k).toBe(4);
  });
});
