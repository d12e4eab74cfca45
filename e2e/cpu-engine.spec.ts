/**
 * The engine choice in the built app (src/cpu/engine-choice.ts): on Chromium's SwiftShader adapter the start-up
 * probe picks the fast CPU engine (WebAssembly SIMD in the lab worker), the GPU details say so and why, and a
 * TopK SAE trains from the UI to the end with L0 = k. The `?engine=gpu` override is what the other specs use.
 */
import { expect, test } from '@playwright/test';
import { openLab, status } from './lab-client';

test('on SwiftShader the CPU engine is chosen at start-up, explained, and trains from the UI', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await openLab(page, 'auto');
  await expect(page.getByTestId('adapter-name')).toContainText(/swiftshader/i);
  await expect(page.getByTestId('engine-name')).toHaveText(' · CPU engine');
  await page.getByTestId('adapter').click(); // open the GPU details
  const reason = page.getByTestId('engine-reason');
  await expect(reason).toHaveAttribute('data-engine', 'cpu');
  await expect(reason).toContainText('CPU (WebAssembly SIMD)');
  await expect(reason).toContainText(/software one \(swiftshader\)/i);
  await expect(page.getByTestId('engine-select')).toHaveValue('auto');

  for (const [field, value] of Object.entries({ dSae: '512', k: '8', batchSize: '512', steps: '120' }))
    await page.getByTestId(`cfg-${field}`).fill(value);
  await expect(page.locator('[data-testid^="cfg-error-"]')).toHaveCount(0);
  const t0 = Date.now();
  await page.getByTestId('train').click();
  await expect(status(page)).toHaveAttribute('data-status', 'done', { timeout: 90_000 });
  await expect(status(page)).toHaveAttribute('data-step', '120');
  const value = async (row: string, col: 'train' | 'heldout') =>
    Number(await page.getByTestId(`summary-${row}`).getAttribute(`data-${col}-value`));
  expect(await value('l0', 'train')).toBe(8);
  expect(await value('l0', 'heldout')).toBe(8);
  const ev = await value('ev', 'heldout');
  expect(ev).toBeGreaterThan(0.3);
  expect(ev).toBeLessThan(1);
  const tps = await value('tps', 'train');
  console.log(
    `[cpu engine] 120 steps of 512 tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${tps.toFixed(0)} tokens/s, ` +
      `${((512 / tps) * 1000).toFixed(1)} ms/step; held-out EV ${ev.toFixed(4)}`,
  );

  // The override switches engines without a reload.
  await page.getByTestId('engine-select').selectOption('gpu');
  await expect(page.getByTestId('engine-name')).toHaveText(' · GPU engine');
  await expect(reason).toContainText('chosen by the user');
});
