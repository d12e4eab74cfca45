/**
 * The feature dashboard (issue 15, part A): a short demo run on the engine the lab picks (the fast CPU engine on
 * SwiftShader), its feature pass, one latent's top contexts decoded to TinyStories text with their activations,
 * logit effects and decoder neighbours, "try a text", the `#feature=<run>/<index>` deep link in a fresh load (the
 * stored pass reopens without a new pass), and deleting the run deletes the stored pass.
 */
import { expect, type Page, test } from '@playwright/test';
import { openLab } from './lab-client';

async function featureKeys(page: Page): Promise<string[]> {
  return page.evaluate(
    () =>
      new Promise<string[]>((res, rej) => {
        const r = indexedDB.open('sae-lab-features');
        r.onerror = () => rej(r.error);
        r.onsuccess = () => {
          const db = r.result;
          if (!db.objectStoreNames.contains('features')) return res([]);
          const q = db.transaction('features').objectStore('features').getAllKeys();
          q.onsuccess = () => res(q.result.map(String));
          q.onerror = () => rej(q.error);
        };
      }),
  );
}

test('a demo run opens in the feature dashboard: contexts, logits, neighbours, try a text, deep link', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await openLab(page, 'auto');
  await page.locator('details > summary', { hasText: 'Advanced' }).click();
  const fields = { dSae: '128', k: '8', batchSize: '256', steps: '40', lr: '0.003', evalInterval: '20' };
  for (const [field, value] of Object.entries(fields)) await page.getByTestId(`cfg-${field}`).fill(value);
  await page.getByTestId('train').click();
  await expect(page.getByTestId('summary-table')).toBeVisible({ timeout: 120_000 });
  const row = page.getByTestId('run-row').first();
  await expect(row.getByTestId('run-features')).toBeEnabled({ timeout: 30_000 });
  await row.getByTestId('run-features').click();
  await page.getByTestId('feature-compute').click();
  const t0 = Date.now();
  await expect(page.getByTestId('feature-list')).toBeVisible({ timeout: 120_000 });
  console.log(`[features] pass shown after ${Date.now() - t0} ms`);
  await expect(page.getByTestId('feature-error')).toHaveCount(0);

  // The list is sorted by density: its first row is a live latent.
  const first = page.getByTestId('feature-row').first();
  const latent = Number(await first.getAttribute('data-latent'));
  await first.click();
  const contexts = page.getByTestId('feature-top-contexts').getByTestId('feature-context');
  await expect(contexts).toHaveCount(20);
  const acts = await contexts.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-activation'))));
  for (let i = 1; i < acts.length; i++) expect(acts[i]).toBeLessThanOrEqual(acts[i - 1]);
  expect(acts[0]).toBeGreaterThan(0);
  const text = (await page.getByTestId('feature-top-contexts').innerText()).toLowerCase();
  console.log(
    `[features] latent ${latent} top context: ${(await contexts.first().innerText()).replace(/\s+/g, ' ')}`,
  );
  // Readable TinyStories English: common words of the corpus, no byte-fallback garbage.
  expect(text).toMatch(/\b(the|was|and|she|he|a|to)\b/);
  expect(text).not.toMatch(/<0x[0-9a-f]{2}>/);

  await expect(page.getByTestId('feature-logits').getByTestId('feature-logit-top')).toHaveCount(10);
  await expect(page.getByTestId('feature-logits')).toContainText('final RMSNorm weight folded in');
  const neighbours = page.getByTestId('feature-neighbours').getByTestId('feature-neighbour');
  await expect(neighbours).toHaveCount(10);
  const next = Number(await neighbours.first().getAttribute('data-latent'));
  await neighbours.first().click();
  await expect(page.getByTestId('feature-latent')).toHaveAttribute('data-latent', String(next));

  await page.getByTestId('feature-try-run').click();
  await expect(page.getByTestId('feature-try-result')).toContainText('upon');
  expect(await page.getByTestId('feature-try-latent').count()).toBeGreaterThan(0);

  // Deep link: a fresh load of #feature=<run>/<index> opens that latent from the stored pass.
  await page.getByTestId('feature-copy-link').click();
  const link = await page.getByTestId('feature-link').inputValue();
  expect(link).toMatch(new RegExp(`#feature=[^/]+/${next}$`));
  await page.goto('about:blank');
  await page.goto(link);
  await expect(page.getByTestId('feature-latent')).toHaveAttribute('data-latent', String(next), {
    timeout: 60_000,
  });
  await expect(page.getByTestId('feature-top-contexts').getByTestId('feature-context').first()).toBeVisible();
  await expect(page.getByTestId('feature-progress')).toHaveCount(0);

  // Deleting the run deletes its stored pass.
  expect((await featureKeys(page)).length).toBe(1);
  const r = page.getByTestId('run-row').first();
  await r.getByTestId('run-delete').click();
  await r.getByTestId('run-delete-confirm').click();
  await expect(page.getByTestId('run-row')).toHaveCount(0);
  await expect.poll(() => featureKeys(page)).toEqual([]);
});
