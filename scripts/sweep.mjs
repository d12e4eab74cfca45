#!/usr/bin/env node
/**
 * `npm run sweep -- bench [--steps N]` | `npm run sweep -- table [--steps N]`: sweeps on the fast CPU engine in Node
 * on the built-in demo (scripts/sweep-run.ts), printed as JSON.
 *   bench  the `sweep` bench suite: 4 SAEs as one sweep vs 4 single runs, (sweep wall) ÷ (sum of singles) and the
 *          per-stage breakdown (read / upload / step / eval)
 *   table  TopK vs BatchTopK × k ∈ {4, 8, 16, 32}, d_sae 512: the held-out metrics of each SAE
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runnerImport } from 'vite';
import { assemblyScriptPlugin } from './vite-asc.mjs';

const root = resolve(import.meta.dirname, '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { steps: { type: 'string', default: '300' }, help: { type: 'boolean', default: false } },
});
const what = positionals[0];
if (values.help || (what !== 'bench' && what !== 'table')) {
  console.log('usage: npm run sweep -- bench|table [--steps N (default 300)]');
  process.exit(values.help ? 0 : 2);
}
const steps = Number(values.steps);
if (!(Number.isInteger(steps) && steps >= 1)) {
  console.error('sweep: --steps must be an integer ≥ 1');
  process.exit(2);
}
const { module } = await runnerImport(resolve(root, 'scripts/sweep-run.ts'), {
  root,
  configFile: false,
  logLevel: 'error',
  plugins: [assemblyScriptPlugin()],
});
const out = what === 'bench' ? await module.sweepBench(steps) : await module.demoTable(steps);
console.log(JSON.stringify(out, null, 2));
