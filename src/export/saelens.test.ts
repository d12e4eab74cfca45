import { describe, expect, it } from 'vitest';
import { encoderCpu } from '../reference/encoder';
import { forwardCpu } from '../reference/sae-engine';
import { initSaeParams } from '../sae/init';
import type { SaeShape } from '../sae/types';
import { DEFAULT_CONFIG } from '../train/config';
import { Rng } from '../util/rng';
import { exportSaeLens, foldNormalisation } from './saelens';
import { writeSafetensors } from './safetensors';

/** An independent safetensors reader (spec: u64 LE header length, JSON header, F32 little-endian data). */
function readSafetensors(bytes: Uint8Array) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const base = 8 + n;
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets } = t as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    expect(dtype).toBe('F32');
    const [b, e] = data_offsets;
    const data = new Float32Array((e - b) / 4);
    for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(base + b + 4 * i, true);
    tensors[name] = { shape, data };
  }
  return { headerLength: n, metadata: header.__metadata__, tensors, dataBytes: bytes.length - base };
}

const shape: SaeShape = { dModel: 7, dSae: 19, k: 3, batchSize: 5 };

describe('safetensors writer', () => {
  it('writes an aligned header and tensors that read back bit for bit', () => {
    const a = new Rng(1).normalArray(6);
    const b = new Float32Array([Number.NaN, -0, Number.POSITIVE_INFINITY, 1e-42]);
    const bytes = writeSafetensors(
      [
        { name: 'a', shape: [2, 3], data: a },
        { name: 'b', shape: [4], data: b },
      ],
      { format: 'pt' },
    );
    const r = readSafetensors(bytes);
    expect(r.headerLength % 8).toBe(0);
    expect(r.metadata).toEqual({ format: 'pt' });
    expect(r.dataBytes).toBe(40);
    expect(r.tensors.a).toEqual({ shape: [2, 3], data: a });
    expect(new Uint8Array(r.tensors.b.data.buffer)).toEqual(new Uint8Array(b.buffer));
  });

  it('rejects a shape that does not match the data, and duplicate names', () => {
    expect(() => writeSafetensors([{ name: 'x', shape: [2, 2], data: new Float32Array(3) }])).toThrow(
      'safetensors: tensor "x" has 3 values but shape [2,2]',
    );
    const t = { name: 'x', shape: [1], data: new Float32Array(1) };
    expect(() => writeSafetensors([t, t])).toThrow(/reserved or repeated/);
  });
});

describe('SAELens export', () => {
  const params = initSaeParams(shape, 3, new Rng(4).normalArray(5 * 7));
  params.bEnc.set(new Rng(5).normalArray(19, 0.1));
  const info = {
    scale: 1,
    runId: 'run-x',
    datasetName: 'demo',
    steps: 10,
    tokens: 50,
    config: { ...DEFAULT_CONFIG, dSae: 19, k: 3 },
    datasetMetadata: { hook_name: 'blocks.2.hook_resid_post', model_name: 'stories260K' },
  };

  it('parses back to the same tensors with SAELens names and shapes; cfg has d_in, d_sae, k, architecture', () => {
    const out = exportSaeLens(params, shape, info);
    const r = readSafetensors(out.safetensors);
    expect(Object.keys(r.tensors).sort()).toEqual(['W_dec', 'W_enc', 'b_dec', 'b_enc']);
    expect(r.tensors.W_enc).toEqual({ shape: [7, 19], data: params.wEnc });
    expect(r.tensors.W_dec).toEqual({ shape: [19, 7], data: params.wDec });
    expect(r.tensors.b_enc).toEqual({ shape: [19], data: params.bEnc });
    expect(r.tensors.b_dec).toEqual({ shape: [7], data: params.bDec });
    const cfg = JSON.parse(out.cfgJson);
    expect(cfg).toMatchObject({
      architecture: 'topk',
      d_in: 7,
      d_sae: 19,
      k: 3,
      dtype: 'float32',
      apply_b_dec_to_input: true,
      normalize_activations: 'none',
      hook_name: 'blocks.2.hook_resid_post',
      model_name: 'stories260K',
    });
    expect(cfg.sae_lab.run_id).toBe('run-x');
  });

  it('folds the normalisation: the exported SAE on raw x gives the same latents and x̂ = x̂′/s', () => {
    const s = 0.37;
    const out = exportSaeLens(params, shape, { ...info, scale: s });
    const r = readSafetensors(out.safetensors);
    const folded = {
      wEnc: r.tensors.W_enc.data,
      wDec: r.tensors.W_dec.data,
      bEnc: r.tensors.b_enc.data,
      bDec: r.tensors.b_dec.data,
    };
    expect(folded).toEqual(foldNormalisation(params, s));
    const x = new Rng(9).normalArray(5 * 7, 2);
    const xs = x.map((v) => v * s);
    const trained = forwardCpu(xs, 5, params, shape);
    const exported = forwardCpu(x, 5, folded, shape);
    expect([...exported.indices]).toEqual([...trained.indices]);
    for (let i = 0; i < trained.values.length; i++)
      expect(exported.values[i]).toBeCloseTo(trained.values[i], 4);
    for (let i = 0; i < x.length; i++) expect(exported.xHat[i]).toBeCloseTo(trained.xHat[i] / s, 4);
    expect(JSON.parse(out.cfgJson).sae_lab.activation_norm_scaling_factor).toBe(s);
  });

  it('rejects parameters that do not match the shape', () => {
    expect(() => exportSaeLens(params, { ...shape, dSae: 20 }, info)).toThrow(
      'exportSaeLens: wEnc has 133 values, expected 140',
    );
  });
});

describe('SAELens export of the other architectures', () => {
  const info = { scale: 0.5, runId: 'run-y', datasetName: 'demo', steps: 3, tokens: 15 };
  const base = { dModel: 7, dSae: 19, k: 3, batchSize: 5 };

  it('JumpReLU and BatchTopK: architecture "jumprelu" with threshold [d_sae] (unchanged by the folding)', () => {
    for (const architecture of ['jumprelu', 'batchtopk'] as const) {
      const s = { ...base, arch: { architecture, thresholdInit: 0.25 } };
      const p = initSaeParams(s, 3);
      if (architecture === 'batchtopk') p.threshold?.fill(0.75);
      const out = exportSaeLens(p, s, {
        ...info,
        config: { ...DEFAULT_CONFIG, architecture, dSae: 19, k: 3 },
      });
      const r = readSafetensors(out.safetensors);
      expect(Object.keys(r.tensors).sort()).toEqual(['W_dec', 'W_enc', 'b_dec', 'b_enc', 'threshold']);
      expect(r.tensors.threshold).toEqual({ shape: [19], data: p.threshold });
      const cfg = JSON.parse(out.cfgJson);
      expect(cfg.architecture).toBe('jumprelu');
      expect(cfg.k).toBeUndefined();
      expect(cfg.sae_lab.architecture).toBe(architecture);
      expect(cfg.sae_lab.config.architecture).toBe(architecture);
      // The folded SAE on raw x gives the same latents as the trained one on s·x.
      const x = new Rng(2).normalArray(5 * 7);
      const pre = encoderCpu(
        x.map((v) => v * 0.5),
        p.wEnc,
        p.bEnc,
        p.bDec,
        { rows: 5, dModel: 7, dSae: 19 },
      );
      const f = { w: r.tensors.W_enc.data, b: r.tensors.b_enc.data, d: r.tensors.b_dec.data };
      const preRaw = encoderCpu(x, f.w, f.b, f.d, { rows: 5, dModel: 7, dSae: 19 });
      for (let i = 0; i < pre.length; i++) expect(preRaw[i]).toBeCloseTo(pre[i], 5);
    }
  });

  it('ReLU + L1: architecture "standard", no threshold; a missing θ is rejected for JumpReLU', () => {
    const s = { ...base, arch: { architecture: 'relu' as const } };
    const out = exportSaeLens(initSaeParams(s, 1), s, {
      ...info,
      config: { ...DEFAULT_CONFIG, architecture: 'relu' },
    });
    const cfg = JSON.parse(out.cfgJson);
    expect(cfg.architecture).toBe('standard');
    expect(cfg.activation_fn_str).toBe('relu');
    expect(Object.keys(readSafetensors(out.safetensors).tensors)).not.toContain('threshold');
    const j = { ...base, arch: { architecture: 'jumprelu' as const } };
    expect(() => exportSaeLens(initSaeParams(base, 1), j, { ...info, config: DEFAULT_CONFIG })).toThrow(
      'exportSaeLens: threshold has no values, expected 19',
    );
  });
});
