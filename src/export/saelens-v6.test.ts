/**
 * cfg.json against SAELens v6's config classes (sae_lens/saes/sae.py and the per-architecture configs, v6.51.3):
 *   SAEConfig: d_in int, d_sae int, dtype str, device str, apply_b_dec_to_input bool,
 *              normalize_activations ∈ {none, expected_average_only_in, constant_norm_rescale, layer_norm},
 *              reshape_activations ∈ {none, hook_z}, metadata (SAEMetadata: any keys; the loader reads
 *              metadata.hook_name as a string, e.g. hook_name.endswith("_z"), and model_name)
 *   TopKSAEConfig adds k int, rescale_acts_by_decoder_norm bool; architecture() ∈ {standard, topk, jumprelu, …}.
 * Every architecture of the lab, with and without dataset metadata: every field present, of its type, never null.
 */
import { describe, expect, it } from 'vitest';
import { ARCHITECTURES, hasThreshold } from '../sae/arch';
import { initSaeParams } from '../sae/init';
import type { SaeShape } from '../sae/types';
import { DEFAULT_CONFIG } from '../train/config';
import { Rng } from '../util/rng';
import { safeBaseName, unzipSaeLens, zipFileName, zipSaeLens } from './bundle';
import { exportSaeLens, SAELENS_CFG_FILE, SAELENS_WEIGHTS_FILE, UNKNOWN_HOOK_NAME } from './saelens';

type FieldType = 'int' | 'str' | 'bool' | 'object' | readonly string[];

/** SAEConfig's fields (SAELens v6). */
const V6_BASE: Record<string, FieldType> = {
  architecture: ['standard', 'topk', 'jumprelu', 'gated', 'batchtopk', 'matryoshka_batchtopk'],
  d_in: 'int',
  d_sae: 'int',
  dtype: 'str',
  device: 'str',
  apply_b_dec_to_input: 'bool',
  normalize_activations: ['none', 'expected_average_only_in', 'constant_norm_rescale', 'layer_norm'],
  reshape_activations: ['none', 'hook_z'],
  metadata: 'object',
};
/** Extra fields of the per-architecture configs. */
const V6_EXTRA: Record<string, Record<string, FieldType>> = {
  topk: { k: 'int', rescale_acts_by_decoder_norm: 'bool' },
  jumprelu: {},
  standard: {},
};
/** Metadata keys the v6 loader and helpers read as strings. */
const V6_METADATA: Record<string, FieldType> = { model_name: 'str', hook_name: 'str', dataset_path: 'str' };

function typeProblem(value: unknown, t: FieldType): string | null {
  if (value === null || value === undefined) return `is ${value}`;
  if (Array.isArray(t)) return t.includes(value as string) ? null : `${JSON.stringify(value)} not in ${t}`;
  if (t === 'int') return Number.isInteger(value) ? null : `${JSON.stringify(value)} is not an int`;
  if (t === 'str')
    return typeof value === 'string' && value !== '' ? null : `${JSON.stringify(value)} is not a string`;
  if (t === 'bool') return typeof value === 'boolean' ? null : `${JSON.stringify(value)} is not a bool`;
  return typeof value === 'object' ? null : `${JSON.stringify(value)} is not an object`;
}

function check(cfg: Record<string, unknown>, fields: Record<string, FieldType>, where: string): string[] {
  return Object.entries(fields).flatMap(([k, t]) => {
    const p = typeProblem(cfg[k], t);
    return p ? [`${where}.${k} ${p}`] : [];
  });
}

describe('cfg.json loads in SAELens v6', () => {
  for (const architecture of ARCHITECTURES) {
    for (const withMeta of [false, true]) {
      it(`${architecture}, ${withMeta ? 'with' : 'without'} dataset metadata`, () => {
        const shape: SaeShape = { dModel: 7, dSae: 19, k: 3, batchSize: 5, arch: { architecture } };
        const params = initSaeParams(shape, 3, new Rng(4).normalArray(5 * 7));
        if (hasThreshold(architecture)) params.threshold = new Float32Array(19).fill(0.01);
        const out = exportSaeLens(params, shape, {
          scale: 1,
          runId: 'run-x',
          datasetName: 'demo',
          steps: 10,
          tokens: 50,
          config: { ...DEFAULT_CONFIG, architecture, dSae: 19, k: 3 },
          datasetMetadata: withMeta
            ? { hook_name: 'blocks.2.hook_resid_post', model_name: 'stories260K' }
            : undefined,
        });
        const cfg = JSON.parse(out.cfgJson) as Record<string, unknown>;
        const arch = cfg.architecture as string;
        const problems = [
          ...check(cfg, V6_BASE, 'cfg'),
          ...check(cfg, V6_EXTRA[arch] ?? {}, 'cfg'),
          ...check(cfg.metadata as Record<string, unknown>, V6_METADATA, 'cfg.metadata'),
        ];
        expect(problems).toEqual([]);
        expect(V6_EXTRA[arch]).toBeDefined();
        const hook = (cfg.metadata as Record<string, string>).hook_name;
        expect(hook).toBe(withMeta ? 'blocks.2.hook_resid_post' : UNKNOWN_HOOK_NAME);
        // No null anywhere a v6 loader reads (top level and metadata).
        const nulls = Object.entries({ ...cfg, ...(cfg.metadata as object) }).filter(([, v]) => v === null);
        expect(nulls).toEqual([]);
      });
    }
  }
});

describe('one zip per export', () => {
  it('names the zip and its folder after the run, and round-trips both files', () => {
    const base = safeBaseName('stories 260K / TopK k=8 · run-abc');
    expect(base).toBe('stories-260K-TopK-k-8-run-abc');
    expect(zipFileName(base)).toBe('stories-260K-TopK-k-8-run-abc.saelens.zip');
    expect(safeBaseName('///')).toBe('sae');
    const weights = new Uint8Array([1, 2, 3, 250]);
    const files = unzipSaeLens(zipSaeLens(base, '{"d_in": 7}\n', weights));
    expect(Object.keys(files).sort()).toEqual([
      `${base}/${SAELENS_CFG_FILE}`,
      `${base}/${SAELENS_WEIGHTS_FILE}`,
    ]);
    expect(new TextDecoder().decode(files[`${base}/${SAELENS_CFG_FILE}`])).toBe('{"d_in": 7}\n');
    expect(files[`${base}/${SAELENS_WEIGHTS_FILE}`]).toEqual(weights);
  });
});
