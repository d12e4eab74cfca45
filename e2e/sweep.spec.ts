/**
 * Sweeps in the built app (issue 16) on the demo with tiny shapes (d_sae 64, batch 64) on the engine the lab picks
 * on this adapter: a 2 × 2 sweep (TopK, BatchTopK × k 4, 16) started from the sweep form gives the plan (size,
 * memory, ETA), the results table, the Pareto plot with its frontier (a frontier point opens its run) and four runs
 * in the library; a sweep interrupted by a reload is offered for resume and finishes from its checkpoints. On the GPU
 * engine, a group stepped on one shared upload per batch in one submission equals separate runs bit for bit.
 */
import { expect, type Page, test } from '@playwright/test';
import { openHarness, runCheck } from './harness-client';
import { openLab } from './lab-client';

async function configure(page: Page, fields: Record<string, string>): Promise<void> {
  for (const [field, value] of Object.entries(fields)) await page.getByTestId(`cfg-${field}`).fill(value);
  await expect(page.locator('[data-testid^="cfg-error-"]')).toHaveCount(0);
}

async function openSweeps(page: Page): Promise<void> {
  const panel = page.getByTestId('sweep-panel');
  if (!(await panel.evaluate((d) => (d as HTMLDetailsElement).open))) {
    await panel.locator('summary').click();
  }
}

test('a 2 × 2 sweep from the form: plan, results table, Pareto frontier, four runs in the library', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await openLab(page, 'auto');
  await configure(page, { batchSize: '64', steps: '30', lr: '0.003' });
  await openSweeps(page);
  await page.getByTestId('sweep-dsae').fill('64');
  await page.getByTestId('sweep-axis-k').fill('4, 16');
  await page.getByTestId('sweep-plan').click();
  await expect(page.getByTestId('sweep-plan-text')).toContainText(
    /^4 SAEs\. 4 SAEs: .* MiB in one group .* ETA about \d+ s/,
  );
  await page.getByTestId('sweep-start').click();
  await expect(page.getByTestId('sweep-status')).toHaveText('done', { timeout: 180_000 });
  const rows = page.getByTestId('sweep-result-row');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(0)).toContainText('topk');
  await expect(rows.nth(3)).toContainText('batchtopk');
  for (const row of await rows.all()) await expect(row.locator('td').nth(5)).toHaveText(/^0\.\d{4}$/);
  await expect(page.getByTestId('sweep-pareto-fvu')).toBeVisible();
  await expect(page.getByTestId('sweep-pareto-fvu').locator('canvas')).toHaveCount(1);
  const frontier = page.getByTestId('sweep-frontier-point');
  expect(await frontier.count()).toBeGreaterThanOrEqual(1);
  // Every SAE is a run of the library.
  await expect(page.getByTestId('run-row')).toHaveCount(4, { timeout: 30_000 });
  for (const row of await page.getByTestId('run-row').all())
    await expect(row).toHaveAttribute('data-status', 'done');
  // A frontier point opens its run: the summary of that run is shown.
  await frontier.first().click();
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'done');
  // Sorting by FVU puts the smallest first.
  await page.getByTestId('sweep-results-table').getByRole('button', { name: 'FVU', exact: true }).click();
  const fvus = await rows.evaluateAll((els) =>
    els.map((e) => Number(e.querySelectorAll('td')[6].textContent)),
  );
  expect(fvus).toEqual([...fvus].sort((a, b) => a - b));
});

test('a sweep interrupted by a reload resumes from its checkpoints', async ({ page }) => {
  test.setTimeout(240_000);
  await openLab(page, 'auto');
  await configure(page, { batchSize: '64', steps: '400', lr: '0.003' });
  await openSweeps(page);
  await page.getByTestId('sweep-arch-batchtopk').uncheck();
  await page.getByTestId('sweep-dsae').fill('64');
  await page.getByTestId('sweep-axis-k').fill('4, 16');
  await page.getByTestId('sweep-start').click();
  // The first checkpoint of each run comes after 20 steps.
  const progress = page.getByTestId('sweep-progress-row');
  await expect(progress).toHaveCount(2);
  await expect
    .poll(
      async () =>
        Math.min(
          ...(await progress.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-step'))))),
        ),
      {
        timeout: 120_000,
      },
    )
    .toBeGreaterThan(40);
  await page.reload();
  await expect(page.getByTestId('sweep-interrupted')).toBeVisible({ timeout: 60_000 });
  // A sweep's runs are resumed with it, not offered one by one.
  await expect(page.getByTestId('interrupted-banner')).toHaveCount(0);
  await page.getByRole('button', { name: 'Resume sweep' }).click();
  await expect(page.getByTestId('sweep-status')).toHaveText('done', { timeout: 180_000 });
  await expect(page.getByTestId('sweep-result-row')).toHaveCount(2);
  await expect(page.getByTestId('run-row')).toHaveCount(2, { timeout: 30_000 });
  for (const row of await page.getByTestId('run-row').all())
    await expect(row).toHaveAttribute('data-status', 'done');
});

test('GPU sweep group: one upload and one submission per step, each SAE equal to its separate run bit for bit', async ({
  page,
}) => {
  await openHarness(page);
  const r = await runCheck(page, 'worker', 'sweep-gpu', { rows: 37, dModel: 29, steps: 6 });
  expect(r.context).toBe('worker');
  expect(r.reports.length).toBeGreaterThan(20);
  for (const rep of r.reports) expect(rep.ok, rep.summary).toBe(true);
});
