/// <reference types="vitest/config" />
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { assemblyScriptPlugin } from './scripts/vite-asc.mjs';
import { wgslInclude } from './scripts/wgsl-include';

/** Headers that make the page cross-origin isolated (self.crossOriginIsolated). */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // wgslInclude: `*.wgsl?raw` imports come with their `//#include "x.wgsl"` snippets expanded;
  // assemblyScriptPlugin: `?asc` imports are AssemblyScript compiled to WebAssembly (the CPU engine's kernels).
  plugins: [wgslInclude(), react(), assemblyScriptPlugin()],
  // Workers are bundled with their own plugin list: the kernels run in the lab and harness Workers.
  worker: { format: 'es', plugins: () => [wgslInclude(), assemblyScriptPlugin()] },
  // Cross-origin isolation (COOP + COEP) makes SharedArrayBuffer available to the page and its workers; serve the
  // same two headers when hosting the build elsewhere (README.md, "Static hosting").
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: {
    target: 'es2022',
    sourcemap: true,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        // The GPU test harness ships with the build so browser tests exercise the production bundle.
        harness: resolve(import.meta.dirname, 'e2e/harness/index.html'),
      },
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    // At least two workers (Vitest's default is cores − 1, i.e. one on a 2-core CI machine): the 300-step demo runs
    // on the CPU engine (scripts/demo-*.test.ts, about 40–80 s of one core each) then share both cores.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
