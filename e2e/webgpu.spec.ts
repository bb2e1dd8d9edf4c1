import { expect, test } from '@playwright/test';

// Run by the 'webgpu' project: Chromium with --enable-unsafe-webgpu, which offers
// SwiftShader's software adapter on machines without a GPU. Slow, so kept small.
test('the worker trains on webgpu when an adapter exists', async ({ page }) => {
  await page.goto('./');
  const status = page.getByRole('status').filter({ hasText: 'Backend:' });
  await expect(status).toContainText('Backend: webgpu', { timeout: 60_000 });
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');
  await page.getByLabel('Epochs').fill('1');
  await page.getByLabel('Batch size').fill('64');
  await page.getByRole('button', { name: 'Train' }).click();
  const accuracy = page.getByText(/Validation accuracy: \d+\.\d%/);
  await expect(accuracy).toBeVisible({ timeout: 170_000 });
  await expect(page.getByText(/on webgpu; the optimizer updated 2 variables/)).toBeVisible();
  const percent = Number((await accuracy.textContent())!.match(/([\d.]+)%/)![1]);
  // One epoch of the head on frozen features already separates most digits;
  // a broken read-back (zeros, TFJS-FACTS #8) would sit near chance (20%).
  expect(percent).toBeGreaterThan(50);
  expect(Number(await page.getByRole('figure', { name: 'Loss per batch' }).getAttribute('data-points'))).toBe(Math.ceil(850 / 64));
});
