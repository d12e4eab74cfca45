/**
 * Page side of the browser test harness. Exposes `window.harness` for Playwright:
 *   harness.page   — runner in this page's context
 *   harness.worker — the same runner inside a dedicated module Worker (comlink)
 */
import * as Comlink from 'comlink';
import { makeRunner, type Runner } from './runner';

const worker = new Worker(new URL('./worker.ts', import.meta.url), {
  type: 'module',
  name: 'harness-worker',
});
const harness = { page: makeRunner('page'), worker: Comlink.wrap<Runner>(worker) };
(globalThis as unknown as { harness: typeof harness }).harness = harness;
const el = document.getElementById('status');
if (el) el.textContent = 'harness ready';
