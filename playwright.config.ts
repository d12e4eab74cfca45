import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumPath } from './scripts/chromium.mjs';

/** Port of the `vite preview` server the browser tests run against (the production build). */
const PORT = Number(process.env.E2E_PORT ?? 4317);

/**
 * Long browser runs (tests tagged `@long`: 300-step trainings on the demo) are slow on a CPU WebGPU adapter and
 * are not part of `npm test`; their criteria run on the CPU engine in Node (scripts/demo-*.test.ts).
 * `npm run test:long` (E2E_LONG=1) runs only them.
 */
const LONG = /@long/;
const long = Boolean(process.env.E2E_LONG);

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  ...(long ? { grep: LONG } : { grepInvert: LONG }),
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    headless: true,
    launchOptions: { executablePath: chromiumPath(), args: chromiumArgs },
    trace: 'off',
    // The production build registers a service worker (src/ui/pwa.ts); blocked by default so that every spec
    // starts from a fresh, network-served page. e2e/classroom.spec.ts allows it for its offline test.
    serviceWorkers: 'block',
  },
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
