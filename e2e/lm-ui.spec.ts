/**
 * Behaviour in the lab (issue 12): training on the built-in demo (whose provenance names stories260K and
 * blocks.2.hook_resid_post) shows the live CE-loss-score curve and, after the run, the proxy-gap panel with the
 * CE-loss score and its 95% interval next to the explained variance.
 */
import { expect, test } from '@playwright/test';
import { openLab } from './lab-client';

test('a demo run shows the CE-loss score with an interval, live and in the proxy-gap panel', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openLab(page);
  await page.locator('details > summary', { hasText: 'Advanced' }).click();
  const fields = { dSae: '128', k: '8', batchSize: '256', steps: '30', lr: '0.003', evalInterval: '15' };
  for (const [field, value] of Object.entries(fields)) await page.getByTestId(`cfg-${field}`).fill(value);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('summary-table')).toBeVisible({ timeout: 240_000 });
  const score = page.getByTestId('pg-ce-score');
  await expect(score).toHaveText(/^-?[0-9.]+(e-?\d+)? \[/, { timeout: 120_000 });
  const text = (await score.textContent()) ?? '';
  const [value, lo, hi] = (text.match(/-?[0-9.]+(?:e-?\d+)?/g) ?? []).map(Number);
  console.log(`[lm-ui] CE-loss score ${text}; ${await page.getByTestId('pg-basis').textContent()}`);
  expect(value).toBeGreaterThan(0);
  expect(value).toBeLessThan(1);
  expect(lo).toBeLessThanOrEqual(value);
  expect(hi).toBeGreaterThanOrEqual(value);
  await expect(page.getByTestId('pg-ev')).toHaveText(/0\.\d+/);
  await expect(page.getByTestId('pg-kl-score')).toHaveText(/\d/);
  await expect(page.getByTestId('behaviour-live')).toBeVisible();
  await expect(page.getByTestId('behaviour-live')).toContainText(/held-out documents \([\d,]+ tokens\)/);
  await expect(page.getByTestId('behaviour-error')).toHaveCount(0);
  // The run library keeps the final CE-loss score: the Runs table shows it.
  await expect(page.getByTestId('run-row').first().getByTestId('run-ce')).toHaveText(/^0\.\d+/, {
    timeout: 60_000,
  });
});
