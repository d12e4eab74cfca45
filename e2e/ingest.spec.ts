/**
 * Browser tests of the dataset import (issue 4), against the built app:
 * - a real DataTransfer drop of the real numpy-written stories260K activations, kept across a reload and read
 *   back row for row;
 * - failing imports (truncated .npy, NaN in the last row, overlapping safetensors offsets) and a cancelled
 *   import leave the dataset list and every IndexedDB key exactly as they were;
 * - questions for raw and multi-tensor safetensors files; rename, add files, delete with confirmation; demo.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { encodeElems, npyBytes, safetensorsBytes } from '../src/data/fixtures';
import type { StoreHook } from '../src/data/test-hook';
import type { DatasetManifest } from '../src/data/types';
import { Rng } from '../src/util/rng';

declare global {
  interface Window {
    __saeLab: { store: StoreHook };
  }
}

const REAL_NPY = resolve(
  import.meta.dirname,
  // The numpy-written file of ../shared/data/stories260K/activations, shipped as the demo (identical bytes).
  '../public/demo/stories260K.resid_post.2.f32.npy',
);
const FILES_URL = '/__e2e_files__/';

/** Serve `files` (name → bytes) to the page under FILES_URL, so the page can build File objects from them. */
async function serveFiles(page: Page, files: Record<string, Uint8Array>): Promise<void> {
  await page.route(`**${FILES_URL}*`, (route) => {
    const name = decodeURIComponent(new URL(route.request().url()).pathname.slice(FILES_URL.length));
    const body = files[name];
    return body ? route.fulfill({ status: 200, body: Buffer.from(body) }) : route.fulfill({ status: 404 });
  });
}

/**
 * Drop files on the drop zone the way a user does: a DataTransfer holding File objects, with dragenter, dragover
 * and drop events dispatched on the zone. The files' bytes come from {@link serveFiles}.
 */
async function dropFiles(page: Page, names: string[]): Promise<void> {
  await page.evaluate(
    async ([base, list]) => {
      const dt = new DataTransfer();
      for (const name of list) {
        const res = await fetch(base + encodeURIComponent(name));
        if (!res.ok) throw new Error(`test file ${name}: HTTP ${res.status}`);
        dt.items.add(new File([await res.blob()], name));
      }
      const zone = document.querySelector('[data-testid=drop-zone]');
      if (!zone) throw new Error('no drop zone');
      for (const type of ['dragenter', 'dragover', 'drop'])
        zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    [FILES_URL, names] as const,
  );
}

async function openLab(page: Page): Promise<void> {
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  await page.goto('/');
  await expect(page.getByTestId('dataset-library')).toHaveAttribute('data-ready', 'true');
}

const snapshot = (page: Page) =>
  page.evaluate(async () => ({
    keys: await window.__saeLab.store.allKeys(),
    datasets: await window.__saeLab.store.listDatasets(),
  }));

const rowShape = (page: Page, name: string) =>
  page.getByTestId('dataset-row').filter({ hasText: name }).getByTestId('dataset-shape');

/** A valid float32 .npy of seeded normal values. */
function npyF32(rows: number, d: number, seed: number, mutate?: (x: Float32Array) => void): Uint8Array {
  const x = new Rng(seed).normalArray(rows * d);
  mutate?.(x);
  return npyBytes({ descr: '<f4', shape: [rows, d], data: encodeElems(x, 'f32') });
}

/**
 * Drop a 256 MiB float16 .npy built in the page (one 4 MiB block of finite values repeated), so that an import
 * runs long enough to be cancelled or interrupted mid-way.
 */
async function dropBigFile(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const d = 512;
    const rows = 262_144;
    // .npy v1.0: magic, version 1.0, header length 118 (uint16 LE), then the dict padded to 128 bytes.
    const dict =
      `{'descr': '<f2', 'fortran_order': False, 'shape': (${rows}, ${d}), }`.padEnd(117, ' ') + '\n';
    const header = new Uint8Array(128);
    header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    header.set(new TextEncoder().encode(dict), 10);
    const block = new Uint16Array(2 * 2 ** 20);
    for (let i = 0; i < block.length; i++) block[i] = 0x3c00 + (i % 977); // finite half floats in [1, 2)
    const file = new File([header, ...Array.from({ length: 64 }, () => block)], 'big.npy');
    const dt = new DataTransfer();
    dt.items.add(file);
    const zone = document.querySelector('[data-testid=drop-zone]') as Element;
    for (const type of ['dragenter', 'dragover', 'drop'])
      zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
}

/** Wait until an import has stored some rows (shards are being written). */
async function waitForRows(page: Page): Promise<void> {
  const stats = page.getByTestId('import-stats');
  await expect(stats).toHaveAttribute('data-rows-done', /^[1-9]/);
  await expect(stats).toContainText(/MB\/s · ETA/);
}

test('a real DataTransfer drop of the numpy-written stories260K file is stored, survives a reload and reads back equal', async ({
  page,
}) => {
  const bytes = new Uint8Array(readFileSync(REAL_NPY));
  await serveFiles(page, { 'stories260K.resid_post.2.f32.npy': bytes });
  await openLab(page);
  await dropFiles(page, ['stories260K.resid_post.2.f32.npy']);
  await expect(page.getByTestId('import-message')).toContainText('[81790, 64]', { timeout: 120_000 });
  await expect(rowShape(page, 'stories260K.resid_post.2.f32')).toHaveText('[81790, 64]');

  await page.reload();
  await expect(page.getByTestId('dataset-library')).toHaveAttribute('data-ready', 'true');
  await expect(rowShape(page, 'stories260K.resid_post.2.f32')).toHaveText('[81790, 64]');
  const { id, first, last, manifest } = await page.evaluate(async () => {
    const s = window.__saeLab.store;
    const m = (await s.listDatasets()).find(
      (d) => d.name === 'stories260K.resid_post.2.f32',
    ) as DatasetManifest;
    return {
      id: m.id,
      manifest: m,
      first: await s.readRows(m.id, 0, 2),
      last: await s.readRows(m.id, m.nTokens - 2, 2),
    };
  });
  expect(id).toBeTruthy();
  expect(manifest.sources).toEqual([
    {
      name: 'stories260K.resid_post.2.f32.npy',
      bytes: bytes.length,
      dtype: '<f4',
      shape: [81790, 64],
      format: 'npy',
    },
  ]);
  // The file's own rows: numpy v1.0 header of 128 bytes, then float32 little-endian, row-major.
  const data = new Float32Array(bytes.buffer.slice(128));
  const fileRow = (r: number) => Array.from(data.subarray(r * 64, (r + 1) * 64));
  expect(first).toEqual([fileRow(0), fileRow(1)]);
  expect(last).toEqual([fileRow(81788), fileRow(81789)]);
});

test('failing imports leave the dataset list and the IndexedDB store exactly as they were', async ({
  page,
}) => {
  const full = npyF32(5000, 64, 3);
  const overlapping = safetensorsBytes([
    { name: 'a', dtype: 'F32', shape: [2, 4], data: new Uint8Array(32), dataOffsets: [0, 32] },
    { name: 'b', dtype: 'F32', shape: [2, 4], data: new Uint8Array(32), dataOffsets: [16, 48] },
  ]);
  await serveFiles(page, {
    'ok.npy': npyF32(300, 64, 1),
    'truncated.npy': full.slice(0, full.length - 1000),
    // 40 000 rows × 64 = 3 shards of 16 384 rows: two are written before the NaN in the last row is met.
    'late-nan.npy': npyF32(40_000, 64, 2, (x) => {
      x[39_999 * 64 + 17] = Number.NaN;
    }),
    'overlap.safetensors': overlapping,
    'empty.npy': new Uint8Array(0),
  });
  await openLab(page);
  await dropFiles(page, ['ok.npy']);
  await expect(rowShape(page, 'ok')).toHaveText('[300, 64]');
  const before = await snapshot(page);
  expect(before.keys.length).toBeGreaterThan(1);

  const cases: [string, RegExp][] = [
    ['truncated.npy', /"truncated.npy": truncated data/],
    ['late-nan.npy', /"late-nan.npy": row 39999 \(0-based\), column 17 is NaN/],
    [
      'overlap.safetensors',
      /"overlap.safetensors": tensors "a" \[0, 32\] and "b" \[16, 48\] have overlapping data_offsets/,
    ],
    ['empty.npy', /"empty.npy": empty file/],
  ];
  for (const [name, re] of cases) {
    await dropFiles(page, [name]);
    const msg = page.getByTestId('import-message');
    await expect(msg).toHaveText(re, { timeout: 60_000 });
    await expect(msg).toHaveAttribute('role', 'alert');
    expect(await snapshot(page), `store after the failed import of ${name}`).toEqual(before);
  }
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
});

test('a cancelled import leaves the dataset list and the IndexedDB store exactly as they were', async ({
  page,
}) => {
  await serveFiles(page, { 'ok.npy': npyF32(100, 64, 1) });
  await openLab(page);
  await dropFiles(page, ['ok.npy']);
  await expect(rowShape(page, 'ok')).toHaveText('[100, 64]');
  const before = await snapshot(page);

  await dropBigFile(page);
  await waitForRows(page);
  await page.getByTestId('cancel-import').click();
  await expect(page.getByTestId('import-message')).toHaveText(/cancelled; nothing was stored/, {
    timeout: 60_000,
  });
  expect(await snapshot(page)).toEqual(before);
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
});

test('an import interrupted by closing the tab leaves no dataset, and its orphan shards go at the next start', async ({
  page,
}) => {
  await serveFiles(page, { 'ok.npy': npyF32(100, 64, 1) });
  await openLab(page);
  await dropFiles(page, ['ok.npy']);
  await expect(rowShape(page, 'ok')).toHaveText('[100, 64]');
  const before = await snapshot(page);
  await dropBigFile(page);
  await waitForRows(page);
  await expect.poll(async () => (await snapshot(page)).keys.length).toBeGreaterThan(before.keys.length);
  await page.reload(); // kills the page and its import worker mid-import
  await expect(page.getByTestId('dataset-library')).toHaveAttribute('data-ready', 'true');
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  // The startup cleanup removes the orphan shards (it retries while the dying worker still holds the lock).
  await expect.poll(() => snapshot(page), { timeout: 30_000 }).toEqual(before);
});

test('raw and multi-tensor safetensors files ask for d_model, dtype and the tensor, then import as one dataset', async ({
  page,
}) => {
  const d = 24;
  const a = new Rng(5).normalArray(10 * d);
  const b1 = Float32Array.from(new Rng(6).normalArray(2 * 3 * d), (v) => Math.round(v * 16) / 16);
  await serveFiles(page, {
    'part1.bin': encodeElems(a, 'f32'),
    'part2.safetensors': safetensorsBytes(
      [
        { name: 'other', dtype: 'F32', shape: [4, d], data: new Uint8Array(4 * d * 4) },
        { name: 'acts', dtype: 'BF16', shape: [2, 3, d], data: encodeElems(b1, 'bf16') },
      ],
      { hook: 'resid' },
    ),
  });
  await openLab(page);
  await dropFiles(page, ['part1.bin', 'part2.safetensors']);
  const plan = page.getByTestId('import-plan');
  await expect(plan).toBeVisible();
  await expect(page.getByTestId('start-import')).toBeDisabled();
  await page.getByTestId('raw-dmodel').fill('7');
  await page.getByTestId('raw-dtype').selectOption('f32');
  await expect(plan).toContainText('is not a multiple of d_model');
  await page.getByTestId('raw-dmodel').fill(String(d));
  await expect(plan).toContainText(`10 rows of ${d}`);
  await page.getByTestId('tensor-select').selectOption('acts');
  await page.getByTestId('start-import').click();
  await expect(rowShape(page, 'part1 +1')).toHaveText(`[16, ${d}]`);
  const rows = await page.evaluate(async () => {
    const s = window.__saeLab.store;
    const m = (await s.listDatasets())[0];
    return { m, rows: await s.readRows(m.id, 0, 16) };
  });
  expect(rows.m.metadata).toEqual({ hook: 'resid' });
  expect(rows.m.sources.map((s) => [s.name, s.dtype, s.tensor ?? null])).toEqual([
    ['part1.bin', 'f32', null],
    ['part2.safetensors', 'BF16', 'acts'],
  ]);
  expect(rows.rows.flat()).toEqual([...a, ...b1]);
});

test('rename, add files (d_model checked), delete with confirmation, and the one-click demo dataset', async ({
  page,
}) => {
  await serveFiles(page, {
    // Column 3 all zero: it imports, and the message and the row say which column has zero variance.
    'h1.npy': npyF32(20, 16, 1, (x) => {
      for (let r = 0; r < 20; r++) x[r * 16 + 3] = 0;
    }),
    'h2.npy': npyF32(30, 16, 2),
    'wide.npy': npyF32(5, 32, 3),
  });
  await openLab(page);
  await dropFiles(page, ['h1.npy']);
  await expect(rowShape(page, 'h1')).toHaveText('[20, 16]');
  await expect(page.getByTestId('import-message')).toContainText(
    'Imported "h1": [20, 16] (1.3 KB). 1 of 16 columns has (near) zero variance: 3.',
  );
  await expect(
    page.getByTestId('dataset-row').filter({ hasText: 'h1' }).getByTestId('dataset-zero-variance'),
  ).toHaveText(' 1 of 16 columns has (near) zero variance: 3');

  await page.getByRole('button', { name: 'Rename h1' }).click();
  await page.getByLabel('New name for h1').fill('harvest');
  await page.keyboard.press('Enter');
  await expect(rowShape(page, 'harvest')).toHaveText('[20, 16]');

  // Name its model and hook (the SAELens export writes them); token ids of the wrong length are refused with the
  // file's name and change nothing; the right ones record provenance for patched CE.
  const hookCell = page.getByTestId('dataset-row').filter({ hasText: 'harvest' }).getByTestId('dataset-hook');
  await expect(hookCell).toContainText('unknown model and hook');
  const npyI32 = (ids: number[]) =>
    npyBytes({ descr: '<i4', shape: [ids.length], data: new Uint8Array(Int32Array.from(ids).buffer) });
  const nameIt = async (tokens: number[]) => {
    await page.getByRole('button', { name: 'Model and hook of harvest' }).click();
    const form = page.getByTestId('hook-form');
    await form.getByLabel('Model').fill('stories260K');
    await form.getByLabel('Hook').fill('blocks.2.hook_resid_post');
    await form.getByLabel(/Token ids/).setInputFiles({
      name: 'ids.npy',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(npyI32(tokens)),
    });
    await form.getByRole('button', { name: 'Save' }).click();
  };
  const unnamed = await snapshot(page);
  await nameIt([1, 2, 3]);
  await expect(page.getByTestId('import-message')).toHaveText(
    /ids\.npy: 3 token ids, but the dataset "harvest" has 20 rows/,
  );
  expect(await snapshot(page)).toEqual(unnamed);
  await page.getByTestId('hook-form').getByRole('button', { name: 'Cancel' }).click();
  await nameIt([1, ...Array.from({ length: 19 }, (_, i) => 3 + i)]);
  await expect(hookCell).toContainText('stories260K · blocks.2.hook_resid_post');
  await expect(hookCell).toContainText('patched CE');

  // Attach a tokenizer (the feature dashboard decodes contexts with it): a broken tokenizer.json is refused with its
  // name and changes nothing; a llama2.c tokenizer.bin is stored and shown.
  const attach = async (name: string, buffer: Buffer) => {
    await page.getByRole('button', { name: 'Model and hook of harvest' }).click();
    const form = page.getByTestId('hook-form');
    await form.getByLabel(/Tokenizer/).setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
    await form.getByRole('button', { name: 'Save' }).click();
  };
  const named = await snapshot(page);
  await attach('tokenizer.json', Buffer.from('{"model": '));
  await expect(page.getByTestId('import-message')).toContainText(
    'tokenizer.json: not a valid tokenizer.json',
  );
  expect(await snapshot(page)).toEqual(named);
  await page.getByTestId('hook-form').getByRole('button', { name: 'Cancel' }).click();
  await attach('tokenizer.bin', readFileSync(resolve(import.meta.dirname, '../public/lm/tok512.bin')));
  await expect(hookCell.getByTestId('dataset-tokenizer')).toHaveText('tokenizer tokenizer.bin');
  await expect(hookCell).toContainText('patched CE');

  // Add a part through the file picker; a part with another d_model is refused.
  const addFiles = async (name: string) => {
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Add files to harvest' }).click();
    const bytes = name === 'h2.npy' ? npyF32(30, 16, 2) : npyF32(5, 32, 3);
    await (await chooser).setFiles({
      name,
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(bytes),
    });
  };
  await addFiles('h2.npy');
  await expect(rowShape(page, 'harvest')).toHaveText('[50, 16]');
  const before = await snapshot(page);
  await addFiles('wide.npy');
  await expect(page.getByTestId('import-message')).toHaveText(
    /"wide.npy": d_model mismatch.*"harvest" has d_model 16/,
  );
  expect(await snapshot(page)).toEqual(before);

  await page.getByTestId('load-demo').click();
  await expect(rowShape(page, 'residual (demo)')).toHaveText('[81790, 64]', { timeout: 120_000 });
  await expect(page.getByTestId('load-demo')).toBeDisabled();

  await page.getByRole('button', { name: 'Delete harvest' }).click();
  await page.getByRole('button', { name: 'Keep' }).click();
  await expect(page.getByTestId('dataset-row')).toHaveCount(2);
  await page.getByRole('button', { name: 'Delete harvest' }).click();
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  const after = await snapshot(page);
  expect(after.datasets.map((m) => m.name)).toEqual(['stories260K · layer 2 residual (demo)']);
  expect(after.keys.every((k) => !k.includes(before.datasets[0].id))).toBe(true);
});

test("ensureDemoDataset (the trainer's entry point) imports the demo once, even when called twice at once", async ({
  page,
}) => {
  await openLab(page);
  const r = await page.evaluate(async () => {
    const s = window.__saeLab.store;
    const [a, b] = await Promise.all([s.ensureDemoDataset(), s.ensureDemoDataset()]);
    const again = await s.ensureDemoDataset();
    return {
      ids: [a.id, b.id, again.id],
      list: await s.listDatasets(),
      row0: (await s.readRows(a.id, 0, 1))[0],
    };
  });
  expect(new Set(r.ids).size).toBe(1);
  expect(r.list.map((m) => [m.name, m.nTokens, m.dModel, m.builtin])).toEqual([
    ['stories260K · layer 2 residual (demo)', 81790, 64, true],
  ]);
  const bytes = new Uint8Array(readFileSync(REAL_NPY));
  expect(r.row0).toEqual(Array.from(new Float32Array(bytes.buffer.slice(128, 128 + 64 * 4))));
  await expect(rowShape(page, 'stories260K')).toHaveText('[81790, 64]');
});
