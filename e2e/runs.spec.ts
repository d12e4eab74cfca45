/**
 * The run library, comparison and share links in the built app (issue 13), with tiny runs on the demo
 * (d_sae 64, k 4, batch 64, 30 steps): two runs survive a reload with identical curves, compare overlays both,
 * delete frees their IndexedDB keys; a share link opened in two fresh browser contexts reproduces the same history
 * bit for bit; a link to a missing dataset asks for the file and refuses one with another fingerprint; tampered
 * links show a message and change nothing.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Browser, expect, type Page, test } from '@playwright/test';
import { deflateSync, strToU8 } from 'fflate';
import { encodeElems, npyBytes } from '../src/data/fixtures';
import { shareUrl } from '../src/runs/share';
import { DEFAULT_CONFIG, type TrainConfig } from '../src/train/config';
import { Rng } from '../src/util/rng';
import { type LabHook, openLab, series, status } from './lab-client';

/** The tiny run of these tests. */
const TINY = { dSae: '64', k: '4', batchSize: '64', steps: '30', lr: '0.003' };
const TINY_CONFIG: TrainConfig = { ...DEFAULT_CONFIG, dSae: 64, k: 4, batchSize: 64, steps: 30, lr: 0.003 };

/** History fields compared bit for bit (wallMs and tokensPerSec are timings). */
const FIELDS = ['step', 'lr', 'mse', 'fvu', 'explainedVariance', 'l0', 'deadFraction', 'firedFraction'];

async function configure(page: Page, fields: Record<string, string>): Promise<void> {
  for (const [field, value] of Object.entries(fields)) await page.getByTestId(`cfg-${field}`).fill(value);
  await expect(page.locator('[data-testid^="cfg-error-"]')).toHaveCount(0);
}

async function trainToEnd(page: Page): Promise<void> {
  await page.getByTestId('train').click();
  await expect(status(page)).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
}

async function history(page: Page): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const f of FIELDS) out[f] = await series(page, f);
  return out;
}

const runKeys = (page: Page) =>
  page.evaluate(() =>
    (
      window as unknown as {
        __saeLab: LabHook & { runKeys(): Promise<{ runs: string[]; checkpoints: string[] }> };
      }
    ).__saeLab.runKeys(),
  );

test('two runs: reload keeps both with identical curves; compare overlays them; delete frees their keys', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openLab(page);
  await configure(page, TINY);
  await trainToEnd(page);
  const a = await history(page);
  expect(a.step).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  await page.locator('details > summary', { hasText: 'Advanced' }).click();
  await configure(page, { ...TINY, seed: '7' });
  await trainToEnd(page);
  const b = await history(page);
  expect(b.mse).not.toEqual(a.mse);

  await page.reload();
  await expect(page.getByTestId('runs-panel')).toBeVisible();
  const rows = page.getByTestId('run-row');
  await expect(rows).toHaveCount(2, { timeout: 30_000 });
  const ids = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-run-id') as string));
  // Newest first: the seed-7 run, then the seed-42 run; both finished with a held-out EV.
  await expect(page.getByTestId('run-name')).toHaveText(['topk-k4-64-s7', 'topk-k4-64-s42']);
  for (const row of await rows.all()) {
    await expect(row).toHaveAttribute('data-status', 'done');
    await expect(row.getByTestId('run-ev')).not.toHaveText('—');
  }
  for (const [id, want] of [
    [ids[0], b],
    [ids[1], a],
  ] as const) {
    await page.locator(`[data-run-id="${id}"]`).getByTestId('run-open').click();
    await expect(status(page)).toHaveAttribute('data-status', 'done');
    await expect(page.getByTestId('summary-table')).toBeVisible();
    // The previous run's curves are on screen until the opened one's are restored: wait for them.
    await expect.poll(() => history(page), { timeout: 30_000 }).toEqual(want);
  }

  for (const s of await page.getByTestId('run-select').all()) await s.check();
  await page.getByTestId('compare-runs').click();
  await expect(page.getByTestId('compare-view')).toBeVisible();
  for (const c of ['mse', 'ev', 'heldout-ev', 'l0', 'dead']) {
    await expect(page.getByTestId(`compare-chart-${c}`)).toHaveAttribute('data-series', '2');
    await expect(page.getByTestId(`compare-chart-${c}`).locator('canvas')).toHaveCount(1);
  }
  // Seeds differ, so the seed row is highlighted; the architecture row is not.
  const summary = page.getByTestId('compare-summary');
  await expect(summary.locator('tr', { hasText: 'seed' })).toHaveAttribute('data-differs', 'true');
  await expect(summary.locator('tr', { hasText: 'architecture' })).toHaveAttribute('data-differs', 'false');

  // The report of a run: one self-contained HTML file with every section and its share link.
  const older = page.locator(`[data-run-id="${ids[1]}"]`);
  const [report] = await Promise.all([
    page.waitForEvent('download'),
    older.getByTestId('export-report').click(),
  ]);
  const html = await readFile((await report.path()) as string, 'utf8');
  for (const id of ['summary', 'curves', 'diagnostics', 'config', 'dataset', 'environment', 'share'])
    expect(html).toContain(`<section id="${id}">`);
  expect(html).toContain('topk-k4-64-s42');
  expect(html).toContain('#run=1.');
  expect(html).not.toMatch(/\b(src|href)\s*=/i);
  const [script] = await Promise.all([
    page.waitForEvent('download'),
    older.getByTestId('export-saelens-script').click(),
  ]);
  expect(await readFile((await script.path()) as string, 'utf8')).toContain('TopKTrainingSAEConfig(');

  const before = await runKeys(page);
  for (const id of ids) {
    expect(before.runs).toContain(`meta/${id}`);
    expect(before.runs).toContain(`data/${id}`);
    expect(before.checkpoints).toContain(`data/${id}`);
  }
  for (const id of ids) {
    const row = page.locator(`[data-run-id="${id}"]`);
    await row.getByTestId('run-delete').click();
    await row.getByTestId('run-delete-confirm').click();
    await expect(row).toHaveCount(0);
  }
  const after = await runKeys(page);
  for (const id of ids) {
    expect(after.runs.filter((k) => k.endsWith(`/${id}`))).toEqual([]);
    expect(after.checkpoints.filter((k) => k.endsWith(`/${id}`))).toEqual([]);
  }
});

/** Open `link` in a fresh browser context, check the form, reproduce, return the history. */
async function reproduceIn(browser: Browser, link: string): Promise<Record<string, number[]>> {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e.message));
    await page.goto(link);
    await expect(page.getByTestId('share-opened')).toBeVisible({ timeout: 60_000 });
    for (const [f, v] of Object.entries(TINY)) await expect(page.getByTestId(`cfg-${f}`)).toHaveValue(v);
    await expect(page.getByTestId('share-link')).toHaveValue(link);
    await page.getByTestId('reproduce-run').click();
    await expect(status(page)).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
    return await history(page);
  } finally {
    await ctx.close();
  }
}

test('a share link reproduces the run in fresh contexts: same form, identical history', async ({
  page,
  browser,
}) => {
  test.setTimeout(300_000);
  await openLab(page);
  await configure(page, TINY);
  const link = await page.getByTestId('share-link').inputValue();
  expect(link).toMatch(/#run=1\.[A-Za-z0-9_-]+$/);
  console.log(`[share] tiny demo link: ${link.length} characters`);
  const first = await reproduceIn(browser, link);
  const second = await reproduceIn(browser, link);
  expect(first.step).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  expect(second).toEqual(first);
  console.log(
    `[determinism] two fresh contexts, same link: ${FIELDS.length} history fields × 30 steps identical`,
  );
});

/** A [rows, 16] float32 .npy of seeded values and the fingerprint of its rows. */
function npyFile(rows: number, seed: number): { buffer: Buffer; fingerprint: string } {
  const x = new Rng(seed).normalArray(rows * 16);
  const data = encodeElems(x, 'f32');
  return {
    buffer: Buffer.from(npyBytes({ descr: '<f4', shape: [rows, 16], data })),
    fingerprint: createHash('sha256').update(new Uint8Array(x.buffer)).digest('hex'),
  };
}

test('a link to a missing dataset asks for the file and refuses one with another fingerprint', async ({
  page,
  baseURL,
}) => {
  test.setTimeout(120_000);
  const right = npyFile(600, 1);
  const wrong = npyFile(600, 2);
  const link = shareUrl(`${baseURL}/`, {
    config: TINY_CONFIG,
    dataset: {
      kind: 'file',
      name: 'acts.npy',
      nTokens: 600,
      dModel: 16,
      dtype: 'f32',
      fingerprint: right.fingerprint,
    },
  });
  await page.goto(link);
  const missing = page.getByTestId('share-missing');
  await expect(missing).toBeVisible({ timeout: 60_000 });
  await expect(missing).toContainText('acts.npy');
  await expect(missing).toContainText('600 × 16');
  await expect(missing).toContainText(right.fingerprint);
  await expect(page.getByTestId('reproduce-run')).toHaveCount(0);
  const datasetRows = page.getByTestId('dataset-table').locator('tbody tr');
  const storedBefore = await datasetRows.count();

  const drop = page.getByTestId('share-drop');
  await drop.setInputFiles({ name: 'other.npy', mimeType: 'application/octet-stream', buffer: wrong.buffer });
  await expect(page.getByTestId('share-drop-error')).toContainText(wrong.fingerprint, { timeout: 60_000 });
  await expect(page.getByTestId('share-drop-error')).toContainText('not the run');
  await expect(page.getByTestId('reproduce-run')).toHaveCount(0);
  // The refused file was not kept.
  await expect(datasetRows).toHaveCount(storedBefore);

  await drop.setInputFiles({ name: 'acts.npy', mimeType: 'application/octet-stream', buffer: right.buffer });
  await expect(page.getByTestId('share-drop-status')).toContainText('matches', { timeout: 60_000 });
  await expect(page.getByTestId('reproduce-run')).toBeEnabled();
  await expect(page.getByTestId('dataset-picker')).toHaveValue(/.+/);
  await expect(page.getByTestId('dataset-picker-shape')).toContainText('600 tokens × d_model 16');
});

/** A fragment from raw JSON, deflated and base64url-encoded like the app's links. */
function forge(json: unknown, format = 1): string {
  const bytes = deflateSync(strToU8(JSON.stringify(json)));
  return `run=${format}.${Buffer.from(bytes).toString('base64url')}`;
}

test('tampered, truncated, oversized and future-version links show a message and change nothing', async ({
  page,
  baseURL,
}) => {
  test.setTimeout(120_000);
  const good = new URL(
    shareUrl(`${baseURL}/`, {
      config: TINY_CONFIG,
      dataset: { kind: 'demo', id: 'demo-stories260K-resid_post-2' },
    }),
  ).hash.slice(1);
  const payload = {
    v: 1,
    app: '0.1.0',
    c: { ...TINY_CONFIG },
    d: { kind: 'demo', id: 'demo-stories260K-resid_post-2' },
  };
  const bad: [string, string][] = [
    ['bad base64', 'run=1.%%%not*base64'],
    ['truncated', good.slice(0, good.length - 15)],
    ['future version', good.replace('run=1.', 'run=9.')],
    ['wrong inner version', forge({ ...payload, v: 2 })],
    ['out-of-range value', forge({ ...payload, c: { ...payload.c, lr: 50 } })],
    ['extra field', forge({ ...payload, x: 1 })],
    ['extra config field', forge({ ...payload, c: { ...payload.c, evil: '1' } })],
    ['100 kB link', `run=1.${'A'.repeat(100_000)}`],
    ['script in a string field', forge({ ...payload, d: { kind: 'demo', id: '<script>alert(1)</script>' } })],
    [
      'script as architecture',
      forge({ ...payload, c: { ...payload.c, architecture: '<img src=x onerror=alert(1)>' } }),
    ],
  ];
  // First through a page load, then through hash changes in the open lab (whose form must stay as it was).
  await page.goto(`/#${bad[0][1]}`);
  await expect(page.getByTestId('share-error')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('share-opened')).toHaveCount(0);
  await openLab(page);
  await page.getByTestId('cfg-k').fill('7');
  await page.getByTestId('cfg-steps').fill('44');
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    void d.dismiss();
  });
  for (const [what, frag] of bad) {
    await page.evaluate((f) => {
      location.hash = f;
    }, frag);
    const err = page.getByTestId('share-error');
    await expect(err, what).toBeVisible();
    await expect(err, what).toContainText(/cannot be opened/);
    await expect(page.getByTestId('share-opened'), what).toHaveCount(0);
    await expect(page.getByTestId('cfg-k'), what).toHaveValue('7');
    await expect(page.getByTestId('cfg-steps'), what).toHaveValue('44');
    await expect(status(page), what).not.toHaveAttribute('data-status', /running|starting|done/);
    console.log(`[tampered] ${what}: ${(await err.textContent())?.slice(0, 140)}`);
    await err.getByRole('button', { name: 'Dismiss' }).click();
    await expect(err).toHaveCount(0);
  }
  expect(dialogs).toBe(0);
  await expect(page.getByTestId('run-row')).toHaveCount(0);
});
