#!/usr/bin/env node
/**
 * `npm run cpu-train -- [--npy FILE] [--config JSON] [--encoder-shrink S] [--trace N]`
 *
 * Trains an SAE with the real trainer on the CPU engine (the GPU kernels' plain-TypeScript twin) in Node and prints
 * one JSON object: the held-out EV / FVU / L0 / dead fraction (src/sae/metrics.ts) and the latents dead at the end.
 * For sweeps too slow for a CPU WebGPU adapter (src/sae/README.md's AuxK table was measured with it); the GPU is
 * measured in the browser (`npm run bench`). The TypeScript is loaded through Vite's module runner, no build step.
 *
 * Example (the AuxK row of the dead-latent test):
 *   npm run cpu-train -- --encoder-shrink 3 --trace 25 --config \
 *     '{"architecture":"topk","dSae":1024,"k":4,"batchSize":128,"steps":300,"lr":0.01,"seed":42,
 *       "deadWindowTokens":12800,"auxk":true,"auxkDeadWindowTokens":6400}'
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runnerImport } from 'vite';
import { assemblyScriptPlugin } from './vite-asc.mjs';

const root = resolve(import.meta.dirname, '..');
const DEFAULT_NPY = resolve(root, 'public/demo/stories260K.resid_post.2.f32.npy');

const { values } = parseArgs({
  options: {
    npy: { type: 'string', default: DEFAULT_NPY },
    config: { type: 'string', default: '{}' },
    'encoder-shrink': { type: 'string', default: '0' },
    trace: { type: 'string', default: '0' },
    engine: { type: 'string', default: 'wasm' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run cpu-train -- [--npy FILE (default: the demo)] [--config JSON (TrainConfig fields)] ' +
      '[--encoder-shrink S (W_enc columns × exp(−S·|N(0,1)|))] [--trace N (dead-latent trace every N steps; runs on the oracle)] ' +
      '[--engine wasm|oracle (default wasm: the fast CPU engine, bit-identical to the oracle)]',
  );
  process.exit(0);
}
if (!existsSync(values.npy)) {
  console.error(`cpu-train: ${values.npy}: no such file`);
  process.exit(2);
}
let config;
try {
  config = JSON.parse(values.config);
} catch (e) {
  console.error(`cpu-train: --config is not JSON: ${e.message}`);
  process.exit(2);
}
const shrink = Number(values['encoder-shrink']);
const trace = Number(values.trace);
if (values.engine !== 'wasm' && values.engine !== 'oracle') {
  console.error(`cpu-train: --engine must be wasm or oracle, got ${values.engine}`);
  process.exit(2);
}
if (!(shrink >= 0) || !(Number.isInteger(trace) && trace >= 0)) {
  console.error('cpu-train: --encoder-shrink must be a number ≥ 0 and --trace an integer ≥ 0');
  process.exit(2);
}

const { module } = await runnerImport(resolve(root, 'scripts/cpu-train-run.ts'), {
  root,
  configFile: false,
  logLevel: 'error',
  // The fast CPU engine's kernels are AssemblyScript, compiled on import (`?asc`).
  plugins: [assemblyScriptPlugin()],
});
try {
  const result = await module.cpuTrain({
    npy: values.npy,
    config,
    encoderShrink: shrink,
    traceEvery: trace,
    engine: values.engine,
    log: (line) => console.error(line),
  });
  const { series: _series, ...printed } = result; // the per-step series are for tests, not the printout
  console.log(JSON.stringify(printed, null, 2));
} catch (e) {
  console.error(`cpu-train: ${e.message}`);
  process.exit(1);
}
