import { describe, expect, it } from 'vitest';
import { ARCHITECTURES } from '../sae/arch';
import { DEFAULT_CONFIG, type TrainConfig } from '../train/config';
import fields from './fixtures/saelens-v6-fields.json';
import type { RunMeta } from './library';
import { saeLensScript } from './saelens-script';

/** A run meta for a config (only what the script reads). */
function meta(config: TrainConfig): RunMeta {
  return {
    id: 'run-1',
    name: 'topk-k8-512-s42',
    createdAt: 0,
    finishedAt: 1,
    status: 'done',
    config,
    info: { shape: { dModel: 64, dSae: 512, k: config.k, batchSize: config.batchSize }, datasetName: 'demo' },
    dataset: { kind: 'demo', id: 'demo-stories260K-resid_post-2' },
    appVersion: '0.1.0',
    steps: config.steps,
    totalSteps: config.steps,
    heldOutEv: 0.85,
    fvu: 0.15,
    l0: 8,
    deadFraction: 0,
    ceLossScore: null,
    bytes: 0,
    weightsBytes: 0,
  } as unknown as RunMeta;
}

/**
 * Keyword arguments of every constructor call in the script: the script writes one `name=value,` per line, so a
 * call's keywords are the lines one level deeper than the line that opened it.
 */
function calls(script: string): { cls: string; kws: string[] }[] {
  const out: { cls: string; kws: string[] }[] = [];
  const stack: { cls: string; kws: string[]; indent: number }[] = [];
  for (const line of script.split('\n')) {
    const indent = line.length - line.trimStart().length;
    const open = /(?:=\s*|^\s*)([A-Z]\w+)\($/.exec(line.replace(/\s+#.*$/, ''));
    const kw = /^\s+(\w+)=/.exec(line);
    if (kw && stack.length && indent === stack[stack.length - 1].indent + 4)
      stack[stack.length - 1].kws.push(kw[1]);
    if (open) stack.push({ cls: open[1], kws: [], indent });
    else if (/^\s*\),?$/.test(line) && stack.length) out.push(stack.pop() as (typeof out)[number]);
  }
  return out;
}

describe('SAELens v6 training script', () => {
  const table = fields as unknown as Record<string, string[]>;
  it('writes only SAELens v6 field names, for every architecture', () => {
    for (const architecture of ARCHITECTURES) {
      for (const auxk of [false, true]) {
        const config = { ...DEFAULT_CONFIG, architecture, auxk, k: 8, batchSize: 512, steps: 300 };
        const script = saeLensScript(meta(config));
        const cs = calls(script);
        const runner = cs.find((c) => c.cls === 'LanguageModelSAERunnerConfig');
        expect(runner, 'runner call').toBeDefined();
        for (const k of runner?.kws ?? []) expect(table.LanguageModelSAERunnerConfig, k).toContain(k);
        const logger = cs.find((c) => c.cls === 'LoggingConfig');
        for (const k of logger?.kws ?? []) expect(table.LoggingConfig, k).toContain(k);
        const sae = cs.find((c) => c.cls.endsWith('TrainingSAEConfig'));
        expect(sae, `${architecture}: SAE config call`).toBeDefined();
        const allowed = [...table.SAEConfig, ...table.TrainingSAEConfig, ...(table[sae?.cls ?? ''] ?? [])];
        expect(table[sae?.cls ?? ''], `${sae?.cls} is a v6 class`).toBeDefined();
        for (const k of sae?.kws ?? []) expect(allowed, `${sae?.cls}.${k}`).toContain(k);
        expect(sae?.kws).toContain('d_in');
        expect(sae?.kws).toContain('d_sae');
        expect(script).toContain(`from sae_lens import (`);
        expect(script).toContain('LanguageModelSAETrainingRunner(cfg).run()');
        expect(script).toContain(`train_batch_size_tokens=512,`);
        expect(script).toContain(`TRAINING_TOKENS = ${300 * 512}`);
        expect(script).toMatch(/# CHANGE/);
      }
    }
  });
});
