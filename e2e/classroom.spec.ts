/**
 * Classroom mode in the built app (issue 14): the lesson hooks and navigation, presenter view, the layout at
 * 1366×768 and 390 px, the synthetic lesson's feature-recovery figure, and lesson 1 run to its end offline
 * after one online visit (the service worker precaches the app and the demo dataset).
 */
import { expect, type Page, test } from '@playwright/test';

function logErrors(page: Page): void {
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  page.on('console', (m) => m.type() === 'error' && console.error('[console]', m.text()));
}

async function expectAdapter(page: Page): Promise<void> {
  await expect(page.getByTestId('webgpu-banner')).toHaveCount(0);
  await expect(page.getByTestId('adapter-name')).not.toHaveText(/looking for a GPU|no WebGPU adapter/);
}

/** Run the open lesson's current step to its end. @returns seconds from the click to the summary. */
async function runStep(page: Page): Promise<number> {
  const before = await page.getByTestId('lesson-compare-row').count();
  await expect(page.getByTestId('lesson-run')).toBeEnabled({ timeout: 60_000 });
  const t0 = Date.now();
  await page.getByTestId('lesson-run').click();
  await expect(page.getByTestId('status')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  await expect(page.getByTestId('summary')).toBeVisible();
  const s = (Date.now() - t0) / 1000;
  await expect(page.getByTestId('lesson-step')).toHaveAttribute('data-done', 'true');
  if (await page.getByTestId('lesson-compare').count())
    await expect(page.getByTestId('lesson-compare-row')).toHaveCount(before + 1);
  return s;
}

test('lesson hooks: #lesson=intro opens step 1; Next/Back; progress kept; presenter view', async ({
  page,
}) => {
  logErrors(page);
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto('/#lesson=intro');
  await expectAdapter(page);
  const step = page.getByTestId('lesson-step');
  await expect(step).toHaveAttribute('data-lesson', 'intro');
  await expect(step).toHaveAttribute('data-step-index', '0');
  await expect(page.getByTestId('lesson-back')).toBeDisabled();
  // Train and the lesson controls are visible without scrolling at 1366×768.
  for (const id of ['train', 'lesson-run', 'lesson-next', 'lesson-back'])
    await expect(page.getByTestId(id)).toBeInViewport({ ratio: 1 });
  await page.getByTestId('lesson-next').click();
  await expect(step).toHaveAttribute('data-step-index', '1');
  expect(page.url()).toContain('#lesson=intro&step=2');
  await expect(page.getByTestId('lesson-next')).toBeDisabled();
  await page.reload();
  await expect(step).toHaveAttribute('data-step-index', '1');
  expect(
    await page.evaluate(() => JSON.parse(localStorage.getItem('sae-lab-lessons') ?? '{}').intro?.step),
  ).toBe(1);
  await page.getByTestId('lesson-back').click();
  await expect(step).toHaveAttribute('data-step-index', '0');
  await page.getByTestId('lesson-present').click();
  await expect(page.locator('main.app.present')).toHaveCount(1);
  await expect(page.getByTestId('train')).toBeHidden();
  await page.goto('/?present#lesson=superposition');
  await expect(page.locator('main.app.present')).toHaveCount(1);
  await expect(step).toHaveAttribute('data-lesson', 'superposition');
  await page.goto('/#lesson=nope');
  await expect(page.getByTestId('lesson-list')).toContainText('No lesson "nope"');
  // 390 px wide: no horizontal scrolling of the page, the lesson controls reachable.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/#lesson=intro');
  await page.reload();
  await expect(step).toBeVisible();
  await expect
    .poll(() => page.evaluate(() => document.documentElement.scrollWidth), { timeout: 5_000 })
    .toBeLessThanOrEqual(391);
  await expect(page.getByTestId('lesson-run')).toBeInViewport();
});

test('synthetic lesson: the SAE recovers the true features (summary-feature-recovery)', async ({ page }) => {
  logErrors(page);
  await page.goto('/#lesson=superposition');
  await expectAdapter(page);
  const s = await runStep(page);
  console.log(`[lesson superposition step 1] ${s.toFixed(1)} s`);
  const fig = page.getByTestId('summary-feature-recovery');
  await expect(fig).toBeVisible();
  await expect(page.getByTestId('plot-feature-recovery')).toBeVisible();
  const mean = Number(await fig.getAttribute('data-mean'));
  const recovered = Number(await fig.getAttribute('data-recovered'));
  console.log(
    `[feature recovery] mean best cosine ${mean.toFixed(4)}, recovered ${(recovered * 100).toFixed(1)}%`,
  );
  // CPU engine, lr 2e-2, 100 steps (src/data/synthetic.test.ts calibration): 0.970.
  expect(mean).toBeGreaterThanOrEqual(0.9);
  await expect(page.getByTestId('dataset-picker')).toHaveValue('lesson-synthetic-64x32');
  expect(s).toBeGreaterThan(0);
});

test.describe('offline', () => {
  test.use({ serviceWorkers: 'allow' });
  test('after one visit, lesson 1 runs to its end with the network off', async ({ page, context }) => {
    logErrors(page);
    await page.goto('/#lesson=intro');
    await expectAdapter(page);
    // The service worker is active once its precache (app + demo dataset) is complete.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    const cached = await page.evaluate(async () => {
      const names = await caches.keys();
      const urls: string[] = [];
      for (const n of names) for (const r of await (await caches.open(n)).keys()) urls.push(r.url);
      return urls;
    });
    expect(cached.some((u) => u.includes('/demo/stories260K.resid_post.2.f32.npy'))).toBe(true);
    await context.setOffline(true);
    await page.reload();
    await expectAdapter(page);
    await expect(page.getByTestId('lesson-step')).toHaveAttribute('data-step-index', '0');
    const times: number[] = [];
    const n = Number(await page.getByTestId('lesson-step').getAttribute('data-step-count'));
    for (let i = 0; i < n; i++) {
      await expect(page.getByTestId('lesson-step')).toHaveAttribute('data-step-index', String(i));
      times.push(await runStep(page));
      if (i < n - 1) await page.getByTestId('lesson-next').click();
    }
    console.log(
      `[lesson intro offline] step durations (s, click → summary): ${times.map((t) => t.toFixed(1)).join(', ')}`,
    );
    expect(times).toHaveLength(2);
    await expect(page.getByTestId('lesson-compare-row')).toHaveCount(2);
  });
});
