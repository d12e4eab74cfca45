/**
 * `npm run lm` on a small random model (dim 48, vocab 300) written to a temp folder: ce / harvest / eval print the
 * documented fields, and bad input (missing file, unknown hook, wrong d_in, missing flag, unknown command) gives a
 * one-line error naming the problem; the real script exits non-zero.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportSaeLens } from '../src/export/saelens';
import { writeLegacyCheckpoint } from '../src/lm/checkpoint';
import { ODD_CONFIG, randomModel } from '../src/lm/testing/random-model';
import { initSaeParams } from '../src/sae/init';
import { DEFAULT_CONFIG } from '../src/train/config';
import { parseNpyF32 } from '../src/train/testing/npy';
import { type LmArgs, runLm } from './lm-run';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'lm-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const model = join(dir, 'odd.bin');
writeFileSync(model, writeLegacyCheckpoint(randomModel(ODD_CONFIG, 11, 'odd')));
const tokenizer = resolve(root, 'public/lm/tok512.bin');
const text = join(dir, 'docs.txt');
writeFileSync(text, 'Once upon a time there was a cat.\n\nThe cat sat on a mat.\n \nIt was happy.\n');

function saeDir(name: string, dModel: number): string {
  const shape = { dModel, dSae: 40, k: 4, batchSize: 8 };
  const e = exportSaeLens(initSaeParams(shape, 3), shape, {
    scale: 1,
    runId: 'test',
    datasetName: 'test',
    steps: 0,
    tokens: 0,
    config: { ...DEFAULT_CONFIG },
  });
  const d = join(dir, name);
  mkdirSync(d);
  writeFileSync(join(d, 'cfg.json'), e.cfgJson);
  writeFileSync(join(d, 'sae_weights.safetensors'), e.safetensors);
  return d;
}
const sae48 = saeDir('sae48', 48);
const sae64 = saeDir('sae64', 64);
const base = { model, tokenizer, text };
const run = (a: Partial<LmArgs> & { command: string }) => runLm({ ...base, ...a });

describe('npm run lm', () => {
  it('ce prints tokens and nats per token', () => {
    const r = run({ command: 'ce' });
    expect(r.documents).toBe(3);
    expect(r.tokens).toBeGreaterThan(10);
    expect(r.ce_nats_per_token).toBeGreaterThan(0);
  });

  it('harvest writes float32 [N, d_model]', () => {
    const out = join(dir, 'h.npy');
    const r = run({ command: 'harvest', hook: 'blocks.1.hook_resid_post', out });
    const npy = parseNpyF32(new Uint8Array(readFileSync(out)));
    expect(npy.shape).toEqual([r.tokens, 48]);
    expect(Number(r.tokens)).toBe(Number(run({ command: 'ce' }).tokens) + 3);
  });

  it('eval prints the behavioural metrics', () => {
    const r = run({ command: 'eval', sae: sae48, hook: 'blocks.0.hook_resid_post' });
    for (const f of [
      'ce_clean',
      'ce_sae',
      'ce_zero',
      'ce_loss_score',
      'delta_loss',
      'kl_score',
      'tokens',
      'documents',
    ]) {
      expect(Number.isFinite(r[f])).toBe(true);
    }
    expect(r.documents).toBe(3);
  });

  it('bad input gets one-line errors naming the problem', () => {
    const cases: [Partial<LmArgs> & { command: string }, RegExp][] = [
      [{ command: 'ce', text: join(dir, 'nope.jsonl') }, /text .*nope\.jsonl: no such file/],
      [{ command: 'ce', model: join(dir, 'none.bin') }, /model .*none\.bin: no such file/],
      [{ command: 'ce', tokenizer: undefined }, /--model needs --tokenizer/],
      [
        { command: 'harvest', hook: 'blocks.9.hook_resid_post', out: join(dir, 'x.npy') },
        /unknown hook "blocks\.9/,
      ],
      [{ command: 'harvest', hook: 'resid', out: join(dir, 'x.npy') }, /unknown hook "resid"/],
      [{ command: 'harvest', out: join(dir, 'x.npy') }, /--hook is required/],
      [{ command: 'eval', sae: sae64, hook: 'blocks.0.hook_resid_post' }, /d_in 64 does not match hook/],
      [{ command: 'eval', sae: join(dir, 'missing'), hook: 'hook_embed' }, /not a directory/],
      [{ command: 'eval', sae: dir, hook: 'hook_embed' }, /no cfg\.json/],
      [{ command: 'ce', ctx: '1' }, /--ctx 1/],
      [{ command: 'frob' }, /unknown command "frob"/],
    ];
    for (const [args, re] of cases) {
      expect(() => run(args)).toThrow(re);
    }
  });

  it('the script prints JSON and exits 2 with one line on stderr', { timeout: 120_000 }, () => {
    const ok = execFileSync(
      'node',
      ['scripts/lm.mjs', 'ce', '--text', text, '--model', model, '--tokenizer', tokenizer],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(ok).documents).toBe(3);
    const bad = spawnSync(
      'node',
      ['scripts/lm.mjs', 'harvest', '--hook', 'nope', '--text', text, '--out', 'x.npy'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^lm: unknown hook "nope"/);
  });
});
