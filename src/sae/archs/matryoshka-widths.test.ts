/**
 * Matryoshka's user-set prefix widths (config field `matryoshkaWidths`, a 'list' form field): validation with
 * messages naming the problem, the form's list parsing, a non-default grouping that trains on the fast CPU engine
 * (and differs from the default grouping's run), and the field's way through share links, the sweep grid, the
 * SAELens training script and the cfg.json export.
 */
import { deflateSync, strToU8 } from 'fflate';
import { describe, expect, it } from 'vitest';
import { WasmCpuSaeEngine } from '../../cpu/sae-engine';
import { exportSaeLens } from '../../export/saelens';
import type { DatasetRef } from '../../runs/dataset-ref';
import type { RunMeta } from '../../runs/library';
import { saeLensScript } from '../../runs/saelens-script';
import { decodeShareFragment, ShareLinkError, shareUrl } from '../../runs/share';
import { APP_VERSION } from '../../runs/version';
import { configToForm, formToCandidate, parseListField, validateForm } from '../../state/config-form';
import { expandGrid } from '../../sweep/grid';
import { archOf, DEFAULT_CONFIG, engineShape, type TrainConfig, validateConfig } from '../../train/config';
import { Rng } from '../../util/rng';
import { initSaeParams } from '../init';
import { fvu } from '../metrics';
import type { SaeShape, StepHyper } from '../types';
import { MATRYOSHKA_WIDTHS, matryoshkaPrefixEnds, matryoshkaWidthsProblem } from './matryoshka';

const MATRYOSHKA: TrainConfig = { ...DEFAULT_CONFIG, architecture: 'matryoshka', k: 4 };
const CUSTOM = [0.25, 0.6, 1];
const DEMO: DatasetRef = { kind: 'demo', id: 'demo-stories260K-resid_post-2' };

describe('Matryoshka prefix widths: validation', () => {
  it('accepts 1 to 8 strictly increasing fractions ending at 1 and names every other problem', () => {
    expect(matryoshkaWidthsProblem(MATRYOSHKA_WIDTHS)).toBeNull();
    expect(matryoshkaWidthsProblem([1])).toBeNull();
    expect(matryoshkaWidthsProblem([0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1])).toBeNull();
    const bad: [number[], RegExp][] = [
      [[], /1 to 8 values, got 0/],
      [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1], /1 to 8 values, got 9/],
      [[0.5, 0.5, 1], /strictly increasing \(0\.5 then 0\.5\)/],
      [[0.6, 0.3, 1], /strictly increasing/],
      [[0.25, 0.5], /last must be 1/],
      [[0, 1], /\(0, 1\], got 0/],
      [[0.5, 2], /\(0, 1\], got 2/],
    ];
    for (const [w, re] of bad) {
      expect(matryoshkaWidthsProblem(w), JSON.stringify(w)).toMatch(re);
      const v = validateConfig({ ...MATRYOSHKA, matryoshkaWidths: w });
      expect(v.ok, JSON.stringify(w)).toBe(false);
      if (!v.ok) expect(v.errors.matryoshkaWidths, JSON.stringify(w)).toMatch(re);
    }
    expect(matryoshkaWidthsProblem([Number.NaN, 1])).toMatch(/\(0, 1\], got NaN/);
    const nan = validateConfig({ ...MATRYOSHKA, matryoshkaWidths: [Number.NaN, 1] });
    expect(!nan.ok && nan.errors.matryoshkaWidths).toMatch(/must be numbers/);
    const notList = validateConfig({ ...MATRYOSHKA, matryoshkaWidths: '0.5,1' });
    expect(!notList.ok && notList.errors.matryoshkaWidths).toMatch(/must be a list/);
  });

  it('the form shows the widths comma-separated and parses them back; a non-number is an error on the field', () => {
    const form = configToForm({ ...MATRYOSHKA, matryoshkaWidths: CUSTOM });
    expect(form.matryoshkaWidths).toBe('0.25, 0.6, 1');
    expect(formToCandidate(form).matryoshkaWidths).toEqual(CUSTOM);
    expect(parseListField(' 0.5 ,1, ')).toEqual([0.5, 1]);
    const ok = validateForm({ ...form, matryoshkaWidths: '0.1,0.3, 1' });
    expect(ok.ok && ok.config.matryoshkaWidths).toEqual([0.1, 0.3, 1]);
    const bad = validateForm({ ...form, matryoshkaWidths: '0.25, half, 1' });
    expect(!bad.ok && bad.errors.matryoshkaWidths).toMatch(/Matryoshka prefix widths/);
    const empty = validateForm({ ...form, matryoshkaWidths: '' });
    expect(!empty.ok && empty.errors.matryoshkaWidths).toMatch(/got 0/);
  });

  it('turns fractions into prefix ends in latents (rounded, merged when they collide at a small d_sae)', () => {
    expect([...matryoshkaPrefixEnds(100, CUSTOM)]).toEqual([25, 60, 100]);
    expect([...matryoshkaPrefixEnds(3, [0.1, 0.15, 1])]).toEqual([3]);
    expect([...matryoshkaPrefixEnds(3, [0.1, 0.2, 1])]).toEqual([1, 3]);
    expect(() => matryoshkaPrefixEnds(64, [0.5, 0.25, 1])).toThrow(RangeError);
  });
});

/**
 * Sparse synthetic rows [rows, D]: nonnegative mixes of 3 of 24 fixed directions plus noise, scaled to a mean
 * squared norm of D (as the trainer normalises).
 */
function synthetic(rows: number, dModel: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const dirs = new Rng(seed + 1000).normalArray(24 * dModel);
  const x = new Float32Array(rows * dModel);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < 3; c++) {
      const i = rng.int(24);
      const a = rng.uniform(0.5, 2);
      for (let d = 0; d < dModel; d++) x[r * dModel + d] += a * dirs[i * dModel + d];
    }
    for (let d = 0; d < dModel; d++) x[r * dModel + d] += 0.1 * rng.normal();
  }
  let ss = 0;
  for (const v of x) ss += v * v;
  const f = Math.sqrt((dModel * rows) / ss);
  for (let i = 0; i < x.length; i++) x[i] *= f;
  return x;
}

const hyper: StepHyper = {
  lr: 2e-2,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  deadWindowSteps: 50,
  sparsityCoeff: 0,
  auxkDeadWindowSteps: 50,
};

/** Train `steps` steps on the fast CPU engine; held-out FVU before and after, and the parameters. */
async function train(shape: SaeShape, steps: number) {
  const n = shape.batchSize * shape.dModel;
  const data = synthetic(shape.batchSize * steps, shape.dModel, 3);
  const held = synthetic(256, shape.dModel, 77);
  const engine = await WasmCpuSaeEngine.create(shape, initSaeParams(shape, 5, data.subarray(0, n)), {
    threads: 1,
  });
  const before = await engine.evaluate(held, 256);
  for (let i = 0; i < steps; i++) await engine.step(data.subarray(i * n, (i + 1) * n), hyper);
  const after = await engine.evaluate(held, 256);
  const state = await engine.getState();
  engine.destroy();
  return { before: fvu(before.sse, before.sst), after: fvu(after.sse, after.sst), wDec: state.params.wDec };
}

describe('Matryoshka prefix widths: training and round trips', () => {
  it('a non-default grouping trains on the CPU engine, and differently from the default grouping', async () => {
    const config = { ...MATRYOSHKA, batchSize: 64, matryoshkaWidths: CUSTOM };
    const shape = engineShape(config, 16, 96);
    expect(shape.arch?.matryoshkaWidths).toEqual(CUSTOM);
    const custom = await train(shape, 100);
    const dflt = await train(engineShape({ ...config, matryoshkaWidths: MATRYOSHKA_WIDTHS }, 16, 96), 100);
    // Printed for the notes: held-out FVU before and after 100 steps, both groupings.
    console.log(
      `[matryoshka] FVU ${CUSTOM.join('/')}: ${custom.before.toFixed(3)} → ${custom.after.toFixed(3)}; default: ${dflt.before.toFixed(3)} → ${dflt.after.toFixed(3)}`,
    );
    expect(custom.after).toBeLessThan(0.1 * custom.before);
    expect(custom.after).toBeLessThan(0.7);
    expect(Number.isFinite(custom.after)).toBe(true);
    // Same data, seed and init: only the grouping differs, so the decoders must differ.
    let differ = 0;
    for (let i = 0; i < custom.wDec.length; i++) if (custom.wDec[i] !== dflt.wDec[i]) differ++;
    expect(differ).toBeGreaterThan(custom.wDec.length / 2);
  }, 60_000);

  it('round-trips in a share link, and a link with bad widths is refused naming the field', () => {
    const config = { ...MATRYOSHKA, matryoshkaWidths: [0.1234567890123, 0.5, 1] };
    const url = shareUrl('http://127.0.0.1:4585/', { config, dataset: DEMO });
    expect(decodeShareFragment(new URL(url).hash).config.matryoshkaWidths).toEqual(config.matryoshkaWidths);
    const badConfig = { ...config, matryoshkaWidths: [0.5, 0.25, 1] };
    expect(() => shareUrl('http://127.0.0.1:4585/', { config: badConfig, dataset: DEMO })).toThrow(
      /strictly increasing/,
    );
    // A forged link (written by hand, not by the app) is refused on opening.
    const bytes = deflateSync(strToU8(JSON.stringify({ v: 1, app: APP_VERSION, c: badConfig, d: DEMO })));
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    const forged = `run=1.${btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
    expect(() => decodeShareFragment(forged)).toThrow(ShareLinkError);
    expect(() => decodeShareFragment(forged)).toThrow(/strictly increasing \(0\.5 then 0\.25\)/);
  });

  it('reaches the sweep grid members, the SAELens script and the cfg.json export', () => {
    const base = { ...MATRYOSHKA, matryoshkaWidths: CUSTOM };
    const members = expandGrid(base, {
      architectures: ['matryoshka', 'topk'],
      dSaes: [64, 128],
      sparsity: { k: [4] },
      lrs: [1e-3],
    });
    expect(members).toHaveLength(4);
    for (const m of members) expect(m.config.matryoshkaWidths).toEqual(CUSTOM);
    const meta = {
      id: 'r',
      name: 'm',
      config: base,
      info: { shape: { dModel: 16, dSae: 200, k: 4, batchSize: 1024 }, datasetName: 'demo' },
      appVersion: '0',
    } as unknown as RunMeta;
    expect(saeLensScript(meta)).toContain('matryoshka_widths=[50, 120, 200],');
    const shape: SaeShape = { dModel: 4, dSae: 20, k: 2, batchSize: 8, arch: archOf(base) };
    const params = initSaeParams(shape, 1);
    params.threshold = new Float32Array(20).fill(0.1);
    const info = { scale: 1, runId: 'r', datasetName: 'd', steps: 1, tokens: 8, config: base };
    const cfg = exportSaeLens(params, shape, info).cfg as { sae_lab: Record<string, unknown> };
    expect(cfg.sae_lab.matryoshka_widths).toEqual([5, 12, 20]);
    const topk = exportSaeLens(
      initSaeParams({ ...shape, arch: undefined }, 1),
      { ...shape, arch: undefined },
      info,
    );
    expect((topk.cfg as { sae_lab: Record<string, unknown> }).sae_lab.matryoshka_widths).toBeUndefined();
  });
});
