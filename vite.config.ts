/// <reference types="vitest/config" />
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { wgslInclude } from './scripts/wgsl-include';

export default defineConfig({
  // wgslInclude: `*.wgsl?raw` imports come with their `//#include "x.wgsl"` snippets expanded.
  plugins: [wgslInclude(), react()],
  // Workers are bundled with their own plugin list: the kernels run in the lab and harness Workers.
  worker: { format: 'es', plugins: () => [wgslInclude()] },
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
