#!/usr/bin/env node
/**
 * `npm run bench:node [-- --rounds N] [--gpu-rounds N] [--no-oracle] [--no-gpu] [--no-peers]`: the bench without a browser.
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
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
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
    'gpu-rounds': { type: 'string' },
    'no-oracle': { type: 'boolean', default: false },
    'no-gpu': { type: 'boolean', default: false },
    'no-peers': { type: 'boolean', default: false },
  },
});
const rounds = Number(values.rounds);
const gpuRounds = Number(values['gpu-rounds'] ?? values.rounds);
if (!(Number.isInteger(rounds) && rounds >= 1 && Number.isInteger(gpuRounds) && gpuRounds >= 1)) {
  console.error('bench:node: --rounds and --gpu-rounds must be integers ≥ 1');
  process.exit(2);
}
// The shaders' `//#include` snippets are expanded by the same plugin as in the build (scripts/wgsl-include.ts,
// loaded through the module runner since it is TypeScript); without it every shader with a snippet fails to parse.
const { module: wgslIncludeModule } = await runnerImport(resolve(root, 'scripts/wgsl-include.ts'), {
  root,
  configFile: false,
  logLevel: 'error',
});
const { module } = await runnerImport(resolve(root, 'scripts/bench-node-run.ts'), {
  root,
  configFile: false,
  logLevel: 'error',
  plugins: [assemblyScriptPlugin(), wgslIncludeModule.wgslInclude()],
});
/** The TF.js peer (scripts/bench-peer.ts), bundled for Node with its ESM build (see that file). */
async function loadPeer() {
  const outfile = resolve(root, 'node_modules/.cache/sae-lab-bench/bench-peer.cjs');
  await mkdir(resolve(outfile, '..'), { recursive: true });
  await build({
    entryPoints: [resolve(root, 'scripts/bench-peer.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile,
    external: ['webgpu'],
    logLevel: 'error',
  });
  return createRequire(import.meta.url)(outfile);
}
const wasmDir = resolve(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
const peerShapes = module.CPU_SHAPES.map(([dModel, dSae, k, batchSize]) => ({ dModel, dSae, k, batchSize }));
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
  out.tfjs_wasm = await (await loadPeer()).runPeer('wasm', peerShapes, rounds, wasmDir);
}
if (!values['no-gpu']) {
  log('Dawn (WGSL engine, TF.js webgpu)…');
  try {
    out.dawn = await module.dawnSuites(gpuRounds);
  } catch (e) {
    out.dawn = { error: e.message };
  }
  if (!values['no-peers']) {
    log('TF.js webgpu (same adapter)…');
    out.tfjs_webgpu = await (await loadPeer()).runPeer('webgpu', peerShapes, gpuRounds, wasmDir);
  }
}
out.table = module.summaryTable(out);
console.log(JSON.stringify(out, null, 2));
process.exit(0);
