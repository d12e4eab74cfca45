import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../train/config';
import { EVAL_FIELDS, SeriesTable, TRAIN_FIELDS } from '../train/history';
import type { RunSummary } from '../train/trainer';
import { historyCsv, historyJson, LIBRARY_COLUMNS, libraryCsv } from './exports';
import type { RunData, RunMeta } from './library';
import { REPORT_SECTIONS, runReport } from './report';

function record(): { meta: RunMeta; data: RunData } {
  const config = { ...DEFAULT_CONFIG, dSae: 64, k: 4, batchSize: 64, steps: 30 };
  const train = new SeriesTable(TRAIN_FIELDS, 64);
  const evals = new SeriesTable(EVAL_FIELDS, 64);
  for (let s = 1; s <= 30; s++) {
    const p = {} as Record<(typeof TRAIN_FIELDS)[number], number>;
    for (const f of TRAIN_FIELDS) p[f] = s / (f.length + 1);
    p.step = s;
    train.push(p);
  }
  const e = {} as Record<(typeof EVAL_FIELDS)[number], number>;
  for (const f of EVAL_FIELDS) e[f] = 0.5;
  e.step = 30;
  evals.push(e);
  const summary = {
    tokens: 1920,
    wallMs: 1000,
    tokensPerSec: 1920,
    dSae: 64,
    sampleTokens: 100,
    deadInSample: 3,
    firingRates: Float64Array.from({ length: 64 }, (_, i) => (64 - i) / 640),
    decoderRowNorms: new Float32Array(64).fill(1),
  } as unknown as RunSummary;
  const meta = {
    id: 'run-x',
    name: '<script>alert(1)</script> & co',
    createdAt: Date.UTC(2026, 0, 1),
    finishedAt: Date.UTC(2026, 0, 1, 0, 1),
    status: 'done',
    config,
    info: {
      shape: { dModel: 16, dSae: 64, k: 4, batchSize: 64 },
      datasetName: 'acts.npy',
      trainRows: 950,
      heldOutRows: 50,
      scale: 1.5,
      adapter: 'SwiftShader (test)',
    },
    dataset: {
      kind: 'file',
      name: 'acts.npy',
      nTokens: 1000,
      dModel: 16,
      dtype: 'f32',
      fingerprint: 'cd'.repeat(32),
    },
    appVersion: '0.1.0',
    steps: 30,
    totalSteps: 30,
    heldOutEv: 0.8,
    fvu: 0.2,
    l0: 4,
    deadFraction: 3 / 64,
    ceLossScore: null,
    bytes: 1,
    weightsBytes: 2,
  } as unknown as RunMeta;
  return { meta, data: { history: { train: train.snapshot(), eval: evals.snapshot() }, summary } };
}

describe('run report', () => {
  it('contains every section, every curve and both diagnostics, escapes run text and loads nothing external', () => {
    const { meta, data } = record();
    const link = 'http://127.0.0.1:4317/#run=1.abc';
    const html = runReport(meta, data, link);
    for (const id of REPORT_SECTIONS) expect(html, id).toContain(`<section id="${id}">`);
    // 10 curve fields (all nonzero here) + 2 diagnostics.
    expect(html.match(/<svg /g)?.length).toBe(12);
    expect(html).toContain('Firing rate by rank');
    expect(html).toContain('Decoder row norms');
    expect(html).toContain('cd'.repeat(32));
    expect(html).toContain('SwiftShader (test)');
    expect(html).toContain('SAE Lab 0.1.0');
    expect(html).toContain(link);
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;');
    // Self-contained: no attribute loads anything, and the only URL is the share link, written as text.
    expect(html).not.toMatch(/\b(src|href|xlink:href)\s*=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html.replace(link, '')).not.toMatch(/https?:|\/\/[a-z]/i);
  });

  it('exports the history as CSV and JSON and the library as CSV', () => {
    const { meta, data } = record();
    const csv = historyCsv(meta, data);
    const lines = csv.split('\r\n');
    expect(lines[1]).toBe(TRAIN_FIELDS.join(','));
    expect(lines[2].split(',')[0]).toBe('1');
    expect(lines.filter((l) => /^\d/.test(l)).length).toBe(31);
    const json = JSON.parse(historyJson(meta, data));
    expect(json.history.train.step).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(json.history.eval.explainedVariance).toEqual([0.5]);
    const lib = libraryCsv([meta]).split('\r\n');
    expect(lib[0]).toBe(LIBRARY_COLUMNS.join(','));
    expect(lib[1].startsWith('run-x,<script>alert(1)</script> & co,2026-01-01T00:00:00.000Z,')).toBe(true);
    expect(lib[1]).toContain(',topk,16,64,k=4,30,30,64,');
    expect(lib[1].split(',').length).toBe(LIBRARY_COLUMNS.length);
  });
});
