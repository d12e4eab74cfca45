#!/usr/bin/env node
/**
 * `npm run bench:node [-- --rounds N] [--no-oracle]`: the bench without a browser. Loads the TypeScript through
 * Vite's module runner (with the AssemblyScript plugin, so the wasm kernels are compiled as in the build) and prints
 * one JSON document: the machine, and the CPU engines' step times on the issue-17 shapes. Not a test.
 */
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runnerImport } from 'vite';
import { assemblyScriptPlugin } from './vite-asc.mjs';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, 'no-oracle': { type: 'boolean', default: false } },
});
const rounds = Number(values.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1)) {
  console.error('bench:node: --rounds must be an integer ≥ 1');
  process.exit(2);
}
const { module } = await runnerImport(resolve(root, 'scripts/bench-node-run.ts'), {
  root,
  configFile: false,
  logLevel: 'error',
  plugins: [assemblyScriptPlugin()],
});
const out = {
  date: new Date().toISOString(),
  runtime: `node ${process.version}`,
  cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
  note: 'Medians of rounds on one machine; compare ratios, absolute times on a shared machine are noise.',
  cpuStep: await module.cpuStepSuite(rounds, !values['no-oracle']),
};
console.log(JSON.stringify(out, null, 2));
