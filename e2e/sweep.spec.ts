/**
 * Sweeps in the built app (issue 16) on the demo with tiny shapes (d_sae 64, batch 64) on the engine the lab picks
 * on this adapter: a 2 × 2 sweep (TopK, BatchTopK × k 4, 16) started from the sweep form gives the plan (size,
 * memory, ETA), the results table, the Pareto plot with its frontier (a frontier point opens its run) and four runs
 * in the library; a sweep interrupted by a reload is offered for resume and finishes from its checkpoints. On the GPU
 * engine, a group stepped on one shared upload per batch in one submission equals separate runs bit for bit, and a
 * sweep started from the form with `?engine=gpu` goes through that group (src/sweep/gpu-coalesce.ts): through a
 * pause / resume, one upload and one step submission per step for both SAEs, and SAE 1's stored history and
 * parameters equal its single GPU run's bit for bit.
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

/** What the sweep panel's stage line reports (src/ui/SweepPanel.tsx StagesLine). */
async function stages(page: Page): Promise<Record<string, number>> {
  const line = page.getByTestId('sweep-stages');
  await expect(line).toBeVisible();
  const out: Record<string, number> = {};
  for (const a of ['batches-read', 'uploads', 'member-steps', 'step-submissions', 'fallbacks'])
    out[a] = Number(await line.getAttribute(`data-${a}`));
  return out;
}

/**
 * Compare two runs' stored checkpoints in the page: every training-history field but the wall-clock ones, the
 * eval history and the final parameters, exactly. @returns the names of the fields that differ.
 */
function compareCheckpoints(page: Page, a: string, b: string): Promise<string[]> {
  return page.evaluate(
    async ([ra, rb]) => {
      const db = await new Promise<IDBDatabase>((res, rej) => {
        const r = indexedDB.open('sae-lab-checkpoints');
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      const get = (key: string) =>
        new Promise<{
          state: { params: Record<string, Float32Array> };
          history: Record<'train' | 'eval', { fields: string[]; columns: Float64Array[] }>;
        }>((res, rej) => {
          const r = db.transaction('runs').objectStore('runs').get(key);
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
        });
      const [x, y] = [await get(`data/${ra}`), await get(`data/${rb}`)];
      db.close();
      const same = (u: ArrayLike<number>, v: ArrayLike<number>) =>
        u.length === v.length && Array.from(u).every((e, i) => Object.is(e, v[i]));
      const diff: string[] = [];
      for (const p of ['wEnc', 'wDec', 'bEnc', 'bDec'])
        if (!same(x.state.params[p], y.state.params[p])) diff.push(`params.${p}`);
      for (const h of ['train', 'eval'] as const) {
        const hx = x.history[h];
        const hy = y.history[h];
        if (hx.columns[0].length === 0) diff.push(`${h}: empty`);
        hx.fields.forEach((f, i) => {
          if (f === 'wallMs' || f === 'tokensPerSec') return;
          const j = hy.fields.indexOf(f);
          if (j < 0 || !same(hx.columns[i], hy.columns[j])) diff.push(`${h}.${f}`);
        });
      }
      return diff;
    },
    [a, b],
  );
}

test('GPU engine from the form: the group uploads each batch once and steps in one submission; each SAE equals its single run; pause and resume', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await openLab(page, 'gpu');
  const steps = 24;
  // Few held-out rows: on SwiftShader the evaluations (chunks of one batch) would dominate the test's time.
  await page.locator('details > summary', { hasText: 'Advanced' }).click();
  await configure(page, {
    batchSize: '64',
    steps: String(steps),
    lr: '0.003',
    dSae: '64',
    k: '4',
    evalTokens: '256',
    heldOutFraction: '0.005',
  });
  await openSweeps(page);
  await page.getByTestId('sweep-arch-batchtopk').uncheck();
  await page.getByTestId('sweep-dsae').fill('64');
  await page.getByTestId('sweep-axis-k').fill('4, 16');
  await page.getByTestId('sweep-lr').fill('0.003');
  await page.getByTestId('sweep-start').click();
  const t0 = Date.now();
  // Pause mid-run (each SAE saves its checkpoint), then resume.
  const progress = page.getByTestId('sweep-progress-row');
  await expect(progress).toHaveCount(2);
  const minStep = async () =>
    Math.min(...(await progress.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-step'))))));
  await expect.poll(minStep, { timeout: 120_000 }).toBeGreaterThanOrEqual(8);
  await page.getByTestId('sweep-pause').click();
  await expect(page.getByTestId('sweep-status')).toHaveText('paused', { timeout: 60_000 });
  const pausedAt = await minStep();
  expect(pausedAt).toBeLessThan(steps);
  await page.getByTestId('sweep-resume').click();
  await expect(page.getByTestId('sweep-status')).toHaveText('done', { timeout: 180_000 });
  console.log(
    `[sweep] GPU sweep of 2 × ${steps} steps (paused at ${pausedAt}): ${(Date.now() - t0) / 1000} s`,
  );
  const st = await stages(page);
  console.log(`[sweep] stages ${JSON.stringify(st)}`);
  // Each batch read once and uploaded once for both SAEs, one submission per upload. Only the pause can split a
  // step: an SAE that pauses before asking for step s leaves its partner's step s to go alone, and takes its own
  // step s alone after the resume — at most 2 extra uploads, never 2 × steps.
  expect(st['member-steps']).toBe(2 * steps);
  expect(st['step-submissions']).toBe(st.uploads);
  expect(st.uploads).toBeGreaterThanOrEqual(steps);
  expect(st.uploads).toBeLessThanOrEqual(steps + 2);
  expect(st['batches-read']).toBe(steps);
  expect(st.fallbacks).toBe(0);
  // The same config as SAE 1 (TopK k 4) as a single run on the GPU engine.
  const t1 = Date.now();
  await page.getByTestId('train').click();
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  console.log(`[sweep] single run: ${(Date.now() - t1) / 1000} s`);
  const single = await page.evaluate(
    () => (window as unknown as { __saeLab: { run(): { runId: string } } }).__saeLab.run().runId,
  );
  const member = await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open('sae-lab-checkpoints');
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const keys = await new Promise<IDBValidKey[]>((res, rej) => {
      const r = db.transaction('runs').objectStore('runs').getAllKeys();
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    db.close();
    return keys.map(String).filter((k) => k.startsWith('data/sweep-') && k.endsWith('-0'));
  });
  expect(member).toHaveLength(1);
  expect(await compareCheckpoints(page, member[0].slice('data/'.length), single)).toEqual([]);
});
