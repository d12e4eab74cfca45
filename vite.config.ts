/// <reference types="vitest/config" />
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
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
  plugins: [
    wgslInclude(),
    react(),
    assemblyScriptPlugin(),
    // Offline + installable (issue 14): Workbox precaches the app, its workers, the demo dataset and the icons.
    // registerType 'prompt' without a prompt: a new version waits until every open lab page is closed, so it
    // takes effect on the next load and never swaps code under a page that is training. The service worker is
    // registered by src/ui/pwa.ts in production builds only.
    VitePWA({
      registerType: 'prompt',
      injectRegister: null,
      manifest: {
        name: 'SAE Lab',
        short_name: 'SAE Lab',
        description: 'Train sparse autoencoders in your browser with WebGPU: guided lessons, works offline.',
        start_url: './#lesson=intro',
        scope: './',
        display: 'standalone',
        background_color: '#f6f7f9',
        theme_color: '#1d4ed8',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'favicon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,png,npy,wasm,json,jsonl,bin}'],
        // The GPU test harness ships with the build for the browser tests; students never need it offline.
        // Nor the bench's TF.js peer (e2e/harness/peer-browser.ts: its chunk and the TF.js wasm binaries).
        globIgnores: ['**/e2e/**', '**/*.map', '**/peer-browser-*.js', '**/tfjs-backend-wasm*.wasm'],
        // The demo dataset is 21 MB.
        maximumFileSizeToCacheInBytes: 32 * 2 ** 20,
        navigateFallback: 'index.html',
        navigateFallbackDenylist: [/\/e2e\//],
        cleanupOutdatedCaches: true,
      },
    }),
  ],
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
