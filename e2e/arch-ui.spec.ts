/**
 * The architecture picker end to end in the built app, on the built-in demo dataset: pick JumpReLU, ReLU + L1,
 * Matryoshka BatchTopK,
 * or BatchTopK with AuxK, train (short runs), watch the architecture's own live curves (sparsity loss, AuxK loss, achieved
 * L0) arrive during the run, read the summary, and export: cfg.json records the architecture and
 * sae_weights.safetensors carries `threshold` [d_sae] as SAELens does.
 */
import { expect, type Page, test } from '@playwright/test';
import { chart, exportZip, openLab, series, status } from './lab-client';

/**
 * These UI runs use the engine a user of this adapter gets (the fast CPU engine on SwiftShader): the UI is the same
 * for every engine, and the GPU engine's steps for each architecture are tied to the CPU engine's by
 * e2e/arch-step.spec.ts (3 steps and 50-step tracks). On the GPU engine these four runs cost about 4 minutes of CI.
 */
const ARCH_UI_ENGINE = 'cpu';

/** Pick an architecture, open the advanced section, fill the fields; no field may show an error. */
async function configure(page: Page, architecture: string, fields: Record<string, string>): Promise<void> {
  await page.getByTestId('cfg-architecture').selectOption(architecture);
  await page.locator('details > summary', { hasText: 'Advanced' }).click();
  for (const [field, value] of Object.entries(fields)) {
    const el = page.getByTestId(`cfg-${field}`);
    if (value === 'true') await el.check();
    else await el.fill(value);
  }
  await expect(page.locator('[data-testid^="cfg-error-"]')).toHaveCount(0);
}

/** Train, requiring points on `charts` while the run is still going, and wait for the summary. */
async function trainWithLiveCurves(page: Page, steps: number, charts: string[]): Promise<void> {
  await page.getByTestId('train').click();
  await expect(status(page)).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
  for (const id of charts) {
    await expect
      .poll(async () => (await chart(page, id))?.pointsWhileRunning ?? 0, { timeout: 300_000 })
      .toBeGreaterThanOrEqual(2);
  }
  await expect(status(page)).toHaveAttribute('data-status', 'done', { timeout: 600_000 });
  await expect(status(page)).toHaveAttribute('data-step', String(steps));
  await expect(page.getByTestId('summary-table')).toBeVisible();
}

/** Click Export (one zip); return cfg.json and the safetensors header. */
async function exportRun(page: Page) {
  const { cfg, st } = await exportZip(page);
  const n = Number(st.readBigUInt64LE(0));
  return {
    cfg,
    header: JSON.parse(st.subarray(8, 8 + n).toString('utf8')),
    bytes: st.length,
    headerBytes: n,
  };
}

test('JumpReLU from the picker: live sparsity loss and achieved L0, summary θ, export with threshold', async ({
  page,
}) => {
  test.setTimeout(900_000);
  await openLab(page, ARCH_UI_ENGINE);
  // Fields a JumpReLU run does not use are hidden; its own are shown.
  await page.getByTestId('cfg-architecture').selectOption('jumprelu');
  await expect(page.getByTestId('cfg-k')).toHaveCount(0);
  await expect(page.getByTestId('cfg-l0Coefficient')).toBeVisible();
  await configure(page, 'jumprelu', {
    dSae: '128',
    batchSize: '256',
    steps: '40',
    lr: '0.001',
    l0Coefficient: '0.3',
    sparsityWarmupSteps: '10',
    thresholdInit: '0.1',
    bandwidth: '0.01',
  });
  await trainWithLiveCurves(page, 40, ['sparsity', 'l0', 'loss']);
  const sparsity = await series(page, 'sparsityLoss');
  expect(sparsity.at(-1)).toBeGreaterThan(0);
  await expect(page.getByTestId('summary-architecture')).toContainText('JumpReLU');
  expect(
    Number(await page.getByTestId('summary-threshold').getAttribute('data-train-value')),
  ).toBeGreaterThan(0);
  const out = await exportRun(page);
  expect(out.cfg).toMatchObject({
    architecture: 'jumprelu',
    d_in: 64,
    d_sae: 128,
    normalize_activations: 'none',
  });
  expect(out.cfg.sae_lab).toMatchObject({ architecture: 'jumprelu' });
  expect(out.cfg.sae_lab.config).toMatchObject({ architecture: 'jumprelu', l0Coefficient: 0.3 });
  expect(out.header.threshold).toMatchObject({ dtype: 'F32', shape: [128] });
  expect(out.bytes).toBe(8 + out.headerBytes + 4 * (2 * 64 * 128 + 128 + 64 + 128));
});

test('BatchTopK + AuxK from the picker: live AuxK loss, L0 = k in training, export as JumpReLU with θ', async ({
  page,
}) => {
  test.setTimeout(900_000);
  await openLab(page, ARCH_UI_ENGINE);
  await configure(page, 'batchtopk', {
    dSae: '256',
    k: '4',
    batchSize: '256',
    steps: '40',
    lr: '0.001',
    auxk: 'true',
    auxkDeadWindowTokens: '512',
    deadWindowTokens: '512',
  });
  await trainWithLiveCurves(page, 40, ['auxk', 'l0', 'dead']);
  const l0 = await series(page, 'l0');
  for (const v of l0) expect(v).toBeCloseTo(4, 1);
  const auxk = await series(page, 'auxkLoss');
  expect(Math.max(...auxk)).toBeGreaterThan(0);
  await expect(page.getByTestId('summary-architecture')).toContainText('BatchTopK');
  const out = await exportRun(page);
  expect(out.cfg).toMatchObject({ architecture: 'jumprelu', d_in: 64, d_sae: 256 });
  expect(out.cfg.sae_lab).toMatchObject({ architecture: 'batchtopk', k: 4, auxk: true });
  expect(out.header.threshold).toMatchObject({ dtype: 'F32', shape: [256] });
});

test('ReLU + L1 from the picker: live sparsity loss and achieved L0, export as standard', async ({
  page,
}) => {
  test.setTimeout(900_000);
  await openLab(page, ARCH_UI_ENGINE);
  await page.getByTestId('cfg-architecture').selectOption('relu');
  await expect(page.getByTestId('cfg-k')).toHaveCount(0);
  await expect(page.getByTestId('cfg-l1Coefficient')).toBeVisible();
  await configure(page, 'relu', {
    dSae: '128',
    batchSize: '256',
    steps: '40',
    lr: '0.003',
    l1Coefficient: '2',
    sparsityWarmupSteps: '10',
  });
  await trainWithLiveCurves(page, 40, ['sparsity', 'l0', 'loss']);
  const sparsity = await series(page, 'sparsityLoss');
  expect(sparsity.every(Number.isFinite)).toBe(true);
  expect(sparsity.at(-1)).toBeGreaterThan(0);
  const l0 = await series(page, 'l0');
  expect(l0.at(-1)).toBeLessThan(l0[0]);
  await expect(page.getByTestId('summary-architecture')).toContainText('ReLU');
  const out = await exportRun(page);
  expect(out.cfg).toMatchObject({ architecture: 'standard', d_in: 64, d_sae: 128 });
  expect(out.cfg.sae_lab).toMatchObject({ architecture: 'relu' });
  expect(out.cfg.sae_lab.config).toMatchObject({ architecture: 'relu', l1Coefficient: 2 });
  expect(out.header.threshold).toBeUndefined();
  expect(out.bytes).toBe(8 + out.headerBytes + 4 * (2 * 64 * 128 + 128 + 64));
});

test('Matryoshka BatchTopK from the picker: L0 = k in training, summary, export as JumpReLU with θ', async ({
  page,
}) => {
  test.setTimeout(900_000);
  await openLab(page, ARCH_UI_ENGINE);
  await configure(page, 'matryoshka', {
    dSae: '64',
    k: '4',
    batchSize: '128',
    steps: '20',
    lr: '0.003',
    matryoshkaWidths: '0.25, 0.5, 1',
  });
  await expect(page.getByTestId('cfg-thresholdEmaRate')).toBeVisible();
  // The prefix widths (a list field): a decreasing list is refused next to the field, a good one clears it.
  const widths = page.getByTestId('cfg-matryoshkaWidths');
  await widths.fill('0.5, 0.25, 1');
  await expect(page.getByTestId('cfg-error-matryoshkaWidths')).toContainText('strictly increasing');
  await widths.fill('0.25, 0.5, 1');
  await expect(page.locator('[data-testid^="cfg-error-"]')).toHaveCount(0);
  await trainWithLiveCurves(page, 20, ['l0', 'loss']);
  const l0 = await series(page, 'l0');
  for (const v of l0) expect(v).toBeCloseTo(4, 1);
  await expect(page.getByTestId('summary-architecture')).toContainText('Matryoshka');
  const out = await exportRun(page);
  expect(out.cfg).toMatchObject({ architecture: 'jumprelu', d_in: 64, d_sae: 64 });
  expect(out.cfg.sae_lab).toMatchObject({
    architecture: 'matryoshka',
    k: 4,
    matryoshka_widths: [16, 32, 64],
  });
  expect(out.cfg.sae_lab.config).toMatchObject({ matryoshkaWidths: [0.25, 0.5, 1] });
  expect(out.header.threshold).toMatchObject({ dtype: 'F32', shape: [64] });
});
