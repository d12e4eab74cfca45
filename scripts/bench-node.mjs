#!/usr/bin/env node
/**
 * `npm run bench:node [-- --rounds N] [--no-oracle] [--no-gpu] [--no-peers]`: the bench without a browser.
 * Loads the TypeScript through Vite's module runner (with the AssemblyScript plugin, so the wasm kernels are
 * compiled as in the build) and prints one JSON document:
 *   cpu_step     the fast CPU engine (WebAssembly SIMD) and the oracle at the issue-17 shapes
 *   tfjs_wasm    the TF.js peer (wasm backend) running the same TopK step and matmul
 *   dawn         the harness's `step` and `matmul` suites (e2e/harness/bench.ts) on Node + Dawn (npm `webgpu`),
 *                TF.js-webgpu on the same adapter; on a hardware adapter also seed 000's and GPT-2-small's shapes
 *   table        one row per shape: every engine's step ms and its ratio to the peer on the same hardware
 * Vulkan: when the system has no libvulkan, the script re-runs itself with Chromium's (LD_LIBRARY_PATH) and, unless
 * VK_ICD_FILENAMES is set, the SwiftShader ICD (/usr/lib/chromium/vk_swiftshader_icd.json). Not a test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runnerImport } from 'vite';
import { assemblyScriptPlugin } from './vite-asc.mjs';

const CHROMIUM_LIB = '/usr/lib/chromium';
const SYSTEM_VULKAN = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];
if (
  !process.env.SAE_BENCH_CHILD &&
  !SYSTEM_VULKAN.some((p) => existsSync(p)) &&
  existsSync(`${CHROMIUM_LIB}/libvulkan.so.1`)
) {
  const env = {
    ...process.env,
    SAE_BENCH_CHILD: '1',
    LD_LIBRARY_PATH: [CHROMIUM_LIB, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? `${CHROMIUM_LIB}/vk_swiftshader_icd.json`,
  };
  const r = spawnSync(process.execPath, process.argv.slice(1), { env, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    'no-oracle': { type: 'boolean', default: false },
    'no-gpu': { type: 'boolean', default: false },
    'no-peers': { type: 'boolean', default: false },
  },
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
const log = (s) => process.stderr.write(`bench:node: ${s}\n`);
const out = {
  date: new Date().toISOString(),
  runtime: `node ${process.version}`,
  cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
  vulkan: {
    LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH ?? null,
    VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? null,
  },
  note: 'Medians of rounds on one machine, every engine in this one run; compare ratios, absolute times on a shared machine are noise.',
};
log('cpu engines…');
out.cpu_step = await module.cpuStepSuite(rounds, !values['no-oracle']);
if (!values['no-peers']) {
  log('TF.js wasm…');
  try {
    out.tfjs_wasm = await module.tfjsWasmSuite(rounds);
  } catch (e) {
    out.tfjs_wasm = { error: e.message };
  }
}
if (!values['no-gpu']) {
  log('Dawn (WGSL engine, TF.js webgpu)…');
  try {
    out.dawn = await module.dawnSuites(rounds, !values['no-peers']);
  } catch (e) {
    out.dawn = { error: e.message };
  }
}
out.table = module.summaryTable(out);
console.log(JSON.stringify(out, null, 2));
process.exit(0);
