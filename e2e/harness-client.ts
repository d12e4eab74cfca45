/**
 * Playwright-side helpers for the GPU test harness (e2e/harness/): open it, fail loudly when no WebGPU
 * adapter exists, run a named check in the page or in the worker.
 */
import { expect, type Page } from '@playwright/test';
import type { CheckParams } from './harness/checks/types';
import type { CheckResult, Runner } from './harness/runner';

type Where = 'page' | 'worker';
declare global {
  interface Window {
    harness: { page: Runner; worker: Runner };
  }
}

/**
 * Open the harness page and log the adapter it runs on. Throws (failing the test) if WebGPU has no adapter:
 * a GPU test never passes by skipping.
 */
export async function openHarness(page: Page): Promise<void> {
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto('/e2e/harness/index.html');
  await expect(page.locator('#status')).toHaveText('harness ready');
  const adapter = await page.evaluate(() => window.harness.page.adapter());
  console.log(
    `[webgpu adapter] ${JSON.stringify({ vendor: adapter.vendor, architecture: adapter.architecture, fallback: adapter.isFallbackAdapter })}`,
  );
}

/** Run check `name` with `params` in the page or the worker; returns its cloneable result. */
export async function runCheck(
  page: Page,
  where: Where,
  name: string,
  params: CheckParams,
): Promise<CheckResult> {
  return page.evaluate(([w, n, p]) => window.harness[w].runCheck(n, p), [where, name, params] as const);
}
