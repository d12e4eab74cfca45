/**
 * The SAE readers (src/saes/readers.ts) on files the tests generate: each format's shapes, orientation and
 * threshold; an encoder that does not subtract b_dec (Gemma Scope, SAELens apply_b_dec_to_input = false) gives
 * the foreign model's reconstruction; and the lab's own SAELens export of every architecture re-imports with
 * bit-identical parameters and identical held-out metrics.
 */
import { describe, expect, it } from 'vitest';
import { exportSaeLens } from '../export/saelens';
import { CpuSaeEngine } from '../reference/sae-engine';
import { hasThreshold } from '../sae/arch';
import { ARCH_SPECS } from '../sae/archs';
import { initSaeParams } from '../sae/init';
import { evalMetrics } from '../sae/metrics';
import type { SaeParams, SaeShape } from '../sae/types';
import { DEFAULT_CONFIG, engineShape } from '../train/config';
import { Rng } from '../util/rng';
import { fixtureWeights, gemmaScopeNpz, saeLensFolder, sparsifyFolder } from './fixtures';
import { foldDecoderBias, type ImportedSae, readSaeFiles, saeLensArchitecturesRead } from './readers';
import { importedConfig } from './store';

const D = 13;
const S = 37;

/** Held-out metrics of params on x [rows, D] with the oracle engine. */
async function metricsOf(shape: SaeShape, p: SaeParams, x: Float32Array) {
  const e = new CpuSaeEngine(shape, p);
  return evalMetrics(await e.evaluate(x, x.length / shape.dModel), shape.dModel);
}

function shapeOf(sae: ImportedSae): SaeShape {
  return engineShape(importedConfig(sae), sae.dModel, sae.dSae);
}

/**
 * Σ‖x − x̂‖² of a foreign SAE computed from its own formula in float64:
 *   pre = (x − [b_dec if subtract])·W_enc + b_enc; z = activation(pre); x̂ = z·W_dec + b_dec.
 */
function foreignSse(
  w: ReturnType<typeof fixtureWeights>,
  x: Float32Array,
  subtract: boolean,
  act: (pre: Float64Array) => Float64Array,
): number {
  let sse = 0;
  for (let r = 0; r < x.length / D; r++) {
    const pre = new Float64Array(S);
    for (let j = 0; j < S; j++) {
      let s = w.bEnc[j];
      for (let i = 0; i < D; i++) s += (x[r * D + i] - (subtract ? w.bDec[i] : 0)) * w.wEnc[i * S + j];
      pre[j] = s;
    }
    const z = act(pre);
    for (let i = 0; i < D; i++) {
      let y = w.bDec[i];
      for (let j = 0; j < S; j++) y += z[j] * w.wDec[j * D + i];
      sse += (x[r * D + i] - y) ** 2;
    }
  }
  return sse;
}

const jump = (theta: Float32Array) => (pre: Float64Array) => pre.map((v, j) => (v > theta[j] ? v : 0));
const topK = (k: number) => (pre: Float64Array) => {
  const order = Array.from(pre.keys()).sort((a, b) => pre[b] - pre[a]);
  const z = new Float64Array(pre.length);
  for (const j of order.slice(0, k)) z[j] = Math.max(0, pre[j]);
  return z;
};

describe('SAE readers: generated files of each format', () => {
  const w = fixtureWeights(D, S, 3);
  const x = new Rng(9).normalArray(40 * D);

  it('SAELens jumprelu (F16): shapes, W_enc [d_in, d_sae] orientation and threshold as written', async () => {
    const sae = await readSaeFiles(saeLensFolder(w, { architecture: 'jumprelu', kind: 'f16' }));
    expect(sae.format).toBe('saelens');
    expect(sae.architecture).toBe(ARCH_SPECS.find((s) => s.imports?.gemmaScope)?.id);
    expect([sae.dModel, sae.dSae]).toEqual([D, S]);
    expect(sae.params.wEnc).toEqual(w.wEnc);
    expect(sae.params.wDec).toEqual(w.wDec);
    expect(sae.params.bEnc).toEqual(w.bEnc);
    expect(sae.params.threshold).toEqual(w.threshold);
    expect([sae.modelName, sae.hookName]).toEqual(['stories260K', 'blocks.2.hook_resid_post']);
    const e = new CpuSaeEngine(shapeOf(sae), sae.params);
    const got = (await e.evaluate(x, 40)).sse;
    expect(got).toBeCloseTo(foreignSse(w, x, true, jump(w.threshold)), 2);
  });

  it('SAELens topk (BF16) keeps k; standard with apply_b_dec_to_input = false folds b_dec into b_enc', async () => {
    const topk = await readSaeFiles(saeLensFolder(w, { architecture: 'topk', k: 5, kind: 'bf16' }));
    expect(topk.k).toBe(5);
    expect(topk.params.wEnc).toEqual(w.wEnc);
    const e = new CpuSaeEngine(shapeOf(topk), topk.params);
    expect((await e.evaluate(x, 40)).l0Sum).toBeLessThanOrEqual(5 * 40);
    expect((await e.evaluate(x, 40)).sse).toBeCloseTo(foreignSse(w, x, true, topK(5)), 2);

    const std = await readSaeFiles(saeLensFolder(w, { architecture: 'standard', applyBDecToInput: false }));
    expect(std.params.bEnc).toEqual(foldDecoderBias(w.wEnc, w.bEnc, w.bDec, D, S));
    expect(std.notes.join()).toMatch(/folded into b_enc/);
    const relu = (pre: Float64Array) => pre.map((v) => Math.max(0, v));
    const es = new CpuSaeEngine(shapeOf(std), std.params);
    const sse = (await es.evaluate(x, 40)).sse;
    expect(Math.abs(sse / foreignSse(w, x, false, relu) - 1)).toBeLessThan(1e-4);
  });

  it('SAELens batchtopk training checkpoint: the scalar F64 topk_threshold is broadcast to every latent', async () => {
    const sae = await readSaeFiles(saeLensFolder(w, { architecture: 'batchtopk', k: 4 }));
    expect(sae.architecture).toBe(ARCH_SPECS.find((s) => s.imports?.saeLens[0]?.threshold === 'scalar')?.id);
    expect(sae.params.threshold).toEqual(new Float32Array(S).fill(w.threshold[0]));
    expect(sae.k).toBe(4);
  });

  it('sparsify (BF16): encoder.weight [d_sae, d_in] becomes W_enc [d_in, d_sae]; k from cfg.json', async () => {
    const sae = await readSaeFiles(sparsifyFolder(w, 6));
    expect(sae.format).toBe('sparsify');
    expect(sae.architecture).toBe(ARCH_SPECS.find((s) => s.imports?.sparsify)?.id);
    expect([sae.dModel, sae.dSae, sae.k]).toEqual([D, S, 6]);
    expect(sae.params.wEnc).toEqual(w.wEnc);
    expect(sae.params.wDec).toEqual(w.wDec);
    expect(sae.params.threshold).toBeUndefined();
    const e = new CpuSaeEngine(shapeOf(sae), sae.params);
    expect((await e.evaluate(x, 40)).sse).toBeCloseTo(foreignSse(w, x, true, topK(6)), 2);
  });

  it('Gemma Scope params.npz (f32 and f16): JumpReLU with threshold; x·W_enc + b_enc reproduced', async () => {
    for (const kind of ['f32', 'f16'] as const) {
      const sae = await readSaeFiles([gemmaScopeNpz(w, kind)]);
      expect(sae.format).toBe('gemma-scope');
      expect(sae.architecture).toBe(ARCH_SPECS.find((s) => s.imports?.gemmaScope)?.id);
      expect([sae.dModel, sae.dSae]).toEqual([D, S]);
      expect(sae.params.wEnc).toEqual(w.wEnc);
      expect(sae.params.threshold).toEqual(w.threshold);
      expect(sae.params.bDec).toEqual(w.bDec);
      const e = new CpuSaeEngine(shapeOf(sae), sae.params);
      const sse = (await e.evaluate(x, 40)).sse;
      expect(Math.abs(sse / foreignSse(w, x, false, jump(w.threshold)) - 1)).toBeLessThan(1e-4);
    }
  });

  it('recognises nothing else: the message lists what the lab reads', async () => {
    await expect(readSaeFiles([{ name: 'notes/readme.txt', bytes: new Uint8Array(3) }])).rejects.toThrow(
      /"notes\/readme.txt": not an SAE\. The lab reads a SAELens folder/,
    );
    const two = [
      ...saeLensFolder(w, { architecture: 'topk', k: 3 }),
      ...saeLensFolder(w, { architecture: 'jumprelu' }),
    ];
    await expect(readSaeFiles(two)).rejects.toThrow(/more than one SAE/);
  });
});

describe('the registry decides the mapping', () => {
  it('each SAELens architecture string, sparsify and Gemma Scope are read by exactly one spec', () => {
    const strings = saeLensArchitecturesRead();
    expect(new Set(strings).size).toBe(strings.length);
    expect(strings.sort()).toEqual(['batchtopk', 'jumprelu', 'standard', 'topk']);
    expect(ARCH_SPECS.filter((s) => s.imports?.sparsify)).toHaveLength(1);
    expect(ARCH_SPECS.filter((s) => s.imports?.gemmaScope)).toHaveLength(1);
  });
});

describe("the lab's own SAELens export re-imported", () => {
  for (const spec of ARCH_SPECS) {
    it(`${spec.id}: bit-identical parameters, same architecture, identical held-out metrics`, async () => {
      const config = { ...DEFAULT_CONFIG, architecture: spec.id, k: 7, batchSize: 32 };
      const shape = engineShape(config, D, S);
      const x = new Rng(4).normalArray(64 * D);
      const params = initSaeParams(shape, 11, x);
      if (hasThreshold(spec.id)) params.threshold = new Rng(5).uniformArray(S, 0.01, 0.6);
      const out = exportSaeLens(params, shape, {
        scale: 1,
        runId: 'run-1',
        datasetName: 'demo',
        steps: 10,
        tokens: 320,
        config,
      });
      const sae = await readSaeFiles([
        { name: 'run-1/cfg.json', bytes: new TextEncoder().encode(out.cfgJson) },
        { name: 'run-1/sae_weights.safetensors', bytes: out.safetensors },
      ]);
      expect(sae.architecture).toBe(spec.id);
      expect(sae.params).toEqual(params);
      for (const key of Object.keys(params) as (keyof SaeParams)[])
        expect(Buffer.from((sae.params[key] as Float32Array).buffer)).toEqual(
          Buffer.from((params[key] as Float32Array).buffer),
        );
      if (spec.collapse.fixedK) expect(sae.k).toBe(7);
      const imported = shapeOf(sae);
      expect(await metricsOf(imported, sae.params, x)).toEqual(await metricsOf(shape, params, x));
    });
  }
});
