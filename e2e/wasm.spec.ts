import { expect, test } from '@playwright/test';

const preset = (page: import('@playwright/test').Page, label: string) =>
  page.getByRole('radiogroup', { name: 'Freeze preset' }).getByRole('radio', { name: new RegExp(`^${label}`) });

// ?backend=wasm forces tfjs' WebAssembly backend: a full fine-tune of the built-in digits model runs every
// convolution's backward pass on it (the gradient kernels the studio registers, engine/wasmKernels.ts).
test('?backend=wasm trains the built-in digits model on wasm, threaded when cross-origin isolated, and the run record says wasm', async ({ page }) => {
  await page.goto('./?backend=wasm');
  const status = page.getByRole('status').filter({ hasText: 'Backend:' });
  await expect(status).toContainText('Backend: wasm · Ready', { timeout: 60_000 });
  // vite preview sends COOP + COEP: the page is isolated and the notes say wasm runs threads.
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect(status).toHaveAttribute('title', /wasm: SIMD, \d+ threads?/);
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');

  await preset(page, 'Full fine-tune').check();
  await page.getByLabel('Epochs').fill('2');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(status).toContainText(/Backend: wasm · Epoch \d\/2/, { timeout: 60_000 });
  const accuracy = page.getByText(/Validation accuracy: \d+\.\d%/);
  await expect(accuracy).toBeVisible({ timeout: 170_000 });
  await expect(page.getByText(/ on wasm; the optimizer updated \d+ variables/)).toBeVisible();
  await expect(status).toContainText('Backend: wasm · Done · 2 epochs');
  // Every layer trained, through the conv and depthwise gradients on wasm: it learns the digits (chance is 20%).
  expect(Number(/([\d.]+)%/.exec((await accuracy.textContent())!)![1])).toBeGreaterThan(60);

  const runs = page.getByRole('region', { name: 'Compare runs' });
  const row = runs.getByRole('table', { name: /runs? of this model/ }).getByRole('row', { name: /Run 1/ });
  await expect(row.getByRole('cell').last()).toHaveText(/^wasm/);
});
