/// <reference types="vitest/config" />
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { assemblyScriptPlugin } from './scripts/vite-asc.mjs';

/** Headers that make the page cross-origin isolated (self.crossOriginIsolated). */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react(), assemblyScriptPlugin()],
  worker: { format: 'es', plugins: () => [assemblyScriptPlugin()] },
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
  },
});
