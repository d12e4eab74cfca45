/**
 * Shared helpers of the app's browser tests (e2e/train.spec.ts, e2e/arch-ui.spec.ts): open the built lab, fail
 * loudly without a WebGPU adapter, and read the test hook (src/ui/test-hook.ts).
 */
import { readFile } from 'node:fs/promises';
import { type Download, expect, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';

/** The part of window.__saeLab (src/ui/test-hook.ts) the tests read. */
export interface LabHook {
  charts: Record<string, { points: number; draws: number; lastStep: number; pointsWhileRunning: number }>;
  run(): { status: string; step: number | null; totalSteps: number | null; runId: string | null };
  trainSeries(field: string): number[];
  loseDevice(): Promise<void>;
  terminateWorker(): void;
}

/**
 * Open the lab on the given training engine (the `?engine=` override; default the GPU engine, which these specs
 * test: on SwiftShader the start-up choice alone would pick the CPU engine), fail if there is no WebGPU adapter,
 * wait for the demo dataset to be selected.
 */
export async function openLab(page: Page, engine: 'gpu' | 'cpu' | 'auto' = 'gpu'): Promise<void> {
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  page.on('console', (m) => m.type() === 'error' && console.error('[console]', m.text()));
  // The lab warns before unloading while a run lives (beforeunload); tests that reload mean it.
  page.on('dialog', (d) => void d.accept());
  await page.goto(engine === 'auto' ? '/' : `/?engine=${engine}`);
  await expect(page.getByTestId('webgpu-banner')).toHaveCount(0);
  await expect(page.getByTestId('adapter-name')).not.toHaveText(/looking for a GPU|no WebGPU adapter/);
  console.log(`[adapter] ${await page.getByTestId('adapter-name').textContent()}`);
  if (engine !== 'auto')
    await expect(page.getByTestId('engine-name')).toHaveText(` · ${engine.toUpperCase()} engine`);
  await expect(page.getByTestId('dataset-picker')).toHaveValue('demo-stories260K-resid_post-2', {
    timeout: 60_000,
  });
  await expect(page.getByTestId('dataset-picker-shape')).toContainText('81,790 tokens × d_model 64');
}

/** The status line (data-status, data-step). */
export const status = (page: Page) => page.getByTestId('status');

/** The run as the hook reports it. */
export const hook = (page: Page) =>
  page.evaluate(() => (window as unknown as { __saeLab: LabHook }).__saeLab.run());

/** One live chart's counters (points, draws, last step, points drawn while the run was going). */
export const chart = (page: Page, id: string) =>
  page.evaluate((i) => (window as unknown as { __saeLab: LabHook }).__saeLab.charts[i], id);

/** One field of the training history, every sampled step. */
export const series = (page: Page, field: string) =>
  page.evaluate((f) => (window as unknown as { __saeLab: LabHook }).__saeLab.trainSeries(f), field);

/**
 * Click Export and read the one download: `<run>.saelens.zip` holding `<run>/cfg.json` and
 * `<run>/sae_weights.safetensors`. @returns the zip's name, the folder, cfg.json parsed and the weights' bytes.
 */
export async function exportZip(page: Page) {
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByTestId('export').click();
  await expect.poll(() => downloads.length).toBe(1);
  const d = downloads[0];
  const zipName = d.suggestedFilename();
  expect(zipName).toMatch(/\.saelens\.zip$/);
  const files = unzipSync(new Uint8Array(await readFile((await d.path()) as string)));
  const folder = zipName.replace(/\.saelens\.zip$/, '');
  expect(Object.keys(files).sort()).toEqual([`${folder}/cfg.json`, `${folder}/sae_weights.safetensors`]);
  const cfg = JSON.parse(new TextDecoder().decode(files[`${folder}/cfg.json`]));
  const st = Buffer.from(files[`${folder}/sae_weights.safetensors`]);
  return { zipName, folder, cfg, st };
}
