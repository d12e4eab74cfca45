#!/usr/bin/env node
/**
 * `node scripts/lm-demo-table.mjs [LABEL…]`: trains the demo-table SAEs on the fast CPU engine (bit-identical to the oracle) and prints their held-out
 * EV with their patched-CE scores as JSON (scripts/lm-demo-table-run.ts). Minutes per row on a CPU.
 */
import { resolve } from 'node:path';
import { runnerImport } from 'vite';
import { assemblyScriptPlugin } from './vite-asc.mjs';

const root = resolve(import.meta.dirname, '..');
const { module } = await runnerImport(resolve(root, 'scripts/lm-demo-table-run.ts'), {
  root,
  configFile: false,
  logLevel: 'error',
  plugins: [assemblyScriptPlugin()],
});
const want = process.argv.slice(2);
const rows = want.length ? module.DEMO_ROWS.filter((r) => want.includes(r.label)) : module.DEMO_ROWS;
const out = await module.demoTable(rows, (l) => console.error(l));
console.log(JSON.stringify(out, null, 2));
