#!/usr/bin/env node
/**
 * `node scripts/features-demo.mjs [--config JSON] [--latents 1,2,3] [--shown N] [--contexts N]`: train a demo run on
 * the fast CPU engine, run the CPU feature pass, print latents' decoded top contexts and logit effects
 * (scripts/features-demo-run.ts). Default config: TopK, d_sae 512, k 8, batch 512, 300 steps, lr 3e-3, seed 42.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runnerImport } from 'vite';
import { assemblyScriptPlugin } from './vite-asc.mjs';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    config: { type: 'string', default: '{}' },
    latents: { type: 'string', default: '' },
    shown: { type: 'string', default: '6' },
    contexts: { type: 'string', default: '5' },
  },
});
const config = {
  architecture: 'topk',
  dSae: 512,
  k: 8,
  batchSize: 512,
  steps: 300,
  lr: 0.003,
  seed: 42,
  ...JSON.parse(values.config),
};
const latents = values.latents ? values.latents.split(',').map(Number) : [];
const { module } = await runnerImport(resolve(root, 'scripts/features-demo-run.ts'), {
  root,
  configFile: false,
  logLevel: 'error',
  plugins: [assemblyScriptPlugin()],
});
const lines = await module.featuresDemo(config, latents, Number(values.shown), Number(values.contexts));
console.log(lines.join('\n'));
