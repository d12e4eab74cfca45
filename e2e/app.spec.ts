import { expect, test } from '@playwright/test';

test('the lab page reports the WebGPU adapter and passes the matmul self-check (run in the lab worker)', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'SAE Lab', level: 1 })).toBeVisible();
  await expect(page.getByTestId('webgpu-banner')).toHaveCount(0);
  await expect(page.getByTestId('adapter')).toContainText(/swiftshader|nvidia|amd|intel|apple|google/i);
  console.log(`[webgpu adapter] ${await page.getByTestId('adapter').innerText()}`);
  await page.getByTestId('adapter').click(); // open the collapsed GPU details, as a user would
  const check = page.getByTestId('selfcheck');
  await expect(check).toBeVisible({ timeout: 60_000 });
  await expect(check).toHaveAttribute('data-ok', 'true');
  await expect(check).toContainText('PASS');
  expect(errors).toEqual([]);
});

test('without WebGPU the lab shows a banner saying what to do and trains on the CPU engine', async ({
  page,
}) => {
  // The lab worker owns the GPU: serve it with navigator.gpu hidden, as in a browser without WebGPU.
  await page.route('**/assets/lab-worker-*.js', async (route) => {
    const res = await route.fetch();
    const body = await res.text();
    await route.fulfill({
      response: res,
      body: `Object.defineProperty(WorkerNavigator.prototype,'gpu',{get:()=>undefined,configurable:true});\n${body}`,
    });
  });
  await page.goto('/');
  const banner = page.getByTestId('webgpu-banner');
  await expect(banner).toBeVisible();
  await expect(banner).toContainText('WebGPU is unavailable');
  await expect(banner).toContainText('--enable-unsafe-webgpu');
  await expect(banner).toContainText('CPU engine');
  // Not a dead end: the CPU engine is chosen and the Train button works once the demo is ready.
  await expect(page.getByTestId('engine-name')).toHaveText(' · CPU engine');
  await expect(page.getByTestId('dataset-picker')).toHaveValue('demo-stories260K-resid_post-2', {
    timeout: 60_000,
  });
  await expect(page.getByTestId('train')).toBeEnabled();
});
