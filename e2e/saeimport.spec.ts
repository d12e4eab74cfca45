/**
 * Importing an SAE trained elsewhere (src/saes/, src/ui/SaeImport.tsx): a generated SAELens folder (TopK, d_in 64 =
 * the demo's d_model) is picked in `import-sae`, appears as an imported run, is evaluated on the demo (held-out
 * metrics in its row) and exported again; the export re-reads to bit-identical weights. A Gemma Scope folder goes
 * through the folder input. `@long` (npm run test:long): the same evaluation on the GPU and the CPU engine agrees. A malformed folder gives
 * its message in `import-sae-message` and adds no run. (The 8 malformed cases with the stores compared key by key
 * are src/saes/store.test.ts.)
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Download, expect, type Page, test } from '@playwright/test';
import { fixtureWeights, gemmaScopeNpz, saeLensFolder } from '../src/saes/fixtures';
import { readSaeFiles, type SaeFile } from '../src/saes/readers';
import { openLab } from './lab-client';

const asPayload = (files: SaeFile[]) =>
  files.map((f) => ({
    name: f.name.split('/').pop() as string,
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(f.bytes),
  }));

test('import a SAELens folder → run → evaluate on the demo → export; a Gemma Scope folder', async ({
  page,
}) => {
  await openLab(page, 'auto');
  const w = fixtureWeights(64, 96, 5);
  const input = page.getByTestId('import-sae');
  const message = page.getByTestId('import-sae-message');
  const rows = page.getByTestId('run-row');
  const before = await rows.count();

  // A malformed folder first: message naming the file, no run added.
  const broken = saeLensFolder(w, {
    architecture: 'topk',
    k: 8,
    tensors: (t) => t.filter((x) => x.name !== 'b_enc'),
  });
  await input.setInputFiles(asPayload(broken));
  await expect(message).toContainText('"sae_weights.safetensors": missing tensor "b_enc"');
  await expect(rows).toHaveCount(before);

  await input.setInputFiles(asPayload(saeLensFolder(w, { architecture: 'topk', k: 8 })));
  await expect(message).toContainText('SAELens SAE read as TopK, d_in 64, d_sae 96');
  await expect(rows).toHaveCount(before + 1);
  const row = rows.filter({ hasText: 'imported topk-96 (SAELens)' });
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('run-ev')).toHaveText('—');

  await row.getByTestId('imported-evaluate').click();
  await expect(row.getByTestId('imported-eval-message')).toContainText('held-out EV', { timeout: 60_000 });
  await expect(row.getByTestId('run-ev')).not.toHaveText('—');
  const ev = Number(await row.getByTestId('run-ev').textContent());
  expect(Number.isFinite(ev)).toBe(true);
  // Patched CE follows in the background (about 45 s more on this machine's CPU; not awaited here).
  console.log(`[saeimport] ${await row.getByTestId('imported-eval-message').textContent()}`);

  // Opened like any run: the summary's held-out EV is the row's.
  await row.getByTestId('run-open').click();
  const held = Number(await page.getByTestId('summary-ev').getAttribute('data-heldout-value'));
  expect(held).toBeCloseTo(ev, 3);
  await expect(row).toContainText('imported, done');

  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await row.getByTestId('export-weights').click();
  await expect.poll(() => downloads.length).toBe(2);
  const files: SaeFile[] = [];
  for (const d of downloads)
    files.push({
      name: `export/${d.suggestedFilename()}`,
      bytes: new Uint8Array(await readFile((await d.path()) as string)),
    });
  const again = await readSaeFiles(files);
  expect(again.k).toBe(8);
  expect(again.params.wEnc).toEqual(w.wEnc);
  expect(again.params.wDec).toEqual(w.wDec);
  expect(again.params.bEnc).toEqual(w.bEnc);
  expect(again.params.bDec).toEqual(w.bDec);
  // The demo names its model and hook, so the export does too.
  expect([again.modelName, again.hookName]).toEqual(['stories260K', 'blocks.2.hook_resid_post']);

  // A Gemma Scope folder through the folder input (webkitdirectory): recognised, other files skipped unread.
  const dir = await mkdtemp(join(tmpdir(), 'saeimport-'));
  const sae = join(dir, 'average_l0_20');
  await mkdir(sae);
  await writeFile(join(sae, 'params.npz'), gemmaScopeNpz(fixtureWeights(64, 48, 6)).bytes);
  await writeFile(join(sae, 'README.md'), 'not an SAE file: skipped unread');
  await page.getByTestId('import-sae-folder').setInputFiles(sae);
  await expect(page.getByTestId('import-sae-message')).toContainText(
    'Gemma Scope SAE read as JumpReLU, d_in 64, d_sae 48 (Gemma Scope encodes x·W_enc + b_enc',
  );
  await expect(
    page.getByTestId('run-row').filter({ hasText: 'imported average_l0_20 (Gemma Scope)' }),
  ).toHaveCount(1);
});

/** Held-out EV and L0 of the imported SAELens TopK fixture evaluated on the demo with the page's engine. */
async function evaluateOnDemo(page: Page): Promise<{ ev: number; l0: string | null }> {
  const row = page.getByTestId('run-row').filter({ hasText: 'imported topk-96 (SAELens)' });
  await row.getByTestId('imported-evaluate').click();
  await expect(row.getByTestId('imported-eval-message')).toContainText('held-out EV', { timeout: 120_000 });
  await row.getByTestId('run-open').click();
  return {
    ev: Number(await page.getByTestId('summary-ev').getAttribute('data-heldout-value')),
    l0: await page.getByTestId('summary-l0').getAttribute('data-heldout-value'),
  };
}

// The GPU engine's pipelines take ~20 s to compile on SwiftShader under load: not part of `npm test`.
test('an imported SAE evaluated on the GPU engine and on the CPU engine: same L0, EV to rounding @long', async ({
  page,
}) => {
  await openLab(page, 'gpu');
  await page
    .getByTestId('import-sae')
    .setInputFiles(asPayload(saeLensFolder(fixtureWeights(64, 96, 5), { architecture: 'topk', k: 8 })));
  await expect(page.getByTestId('import-sae-message')).toContainText('SAELens SAE read as TopK');
  const gpu = await evaluateOnDemo(page);
  await openLab(page, 'cpu');
  const cpu = await evaluateOnDemo(page);
  console.log(`[saeimport] held-out EV: GPU engine ${gpu.ev}, CPU engine ${cpu.ev}`);
  expect(gpu.l0).toBe(cpu.l0);
  expect(Math.abs(gpu.ev - cpu.ev)).toBeLessThan(1e-4 * Math.abs(cpu.ev));
});
