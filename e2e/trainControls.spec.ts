import { expect, test } from '@playwright/test';
import { openStudio } from './studio';

test('SGD with momentum and a cosine schedule train the built-in sample', async ({ page }) => {
  await openStudio(page);
  await page.getByText('Advanced', { exact: true }).click();
  await page.getByLabel('Optimizer').selectOption({ label: 'SGD with momentum' });
  await page.getByLabel('Learning-rate schedule').selectOption({ label: 'Cosine decay' });
  await expect(page.getByRole('spinbutton', { name: 'Patience' })).toBeDisabled();
  await page.getByLabel('Epochs').fill('2');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByLabel('Optimizer')).toBeDisabled();
  await expect(page.getByText(/Finished after 2 full epochs/)).toBeVisible({ timeout: 120_000 });
  await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible();
  await expect(page.getByLabel('Optimizer')).toBeEnabled();
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('early stopping with patience 1 ends the run before 30 epochs and says which weights were kept', async ({ page }) => {
  test.setTimeout(400_000);
  await openStudio(page);
  await page.getByText('Advanced', { exact: true }).click();
  await page.getByRole('checkbox', { name: 'Early stopping' }).check();
  const patience = page.getByRole('spinbutton', { name: 'Patience' });
  await expect(patience).toBeEnabled();
  await patience.fill('1');
  await page.getByLabel('Epochs').fill('30');
  await page.getByRole('spinbutton', { name: /^Learning rate/ }).fill('0.05');
  await page.getByRole('button', { name: 'Train' }).click();
  const ending = page.getByText(
    /^Stopped early after epoch (\d+) \(no better validation loss for 1 epoch\); the weights of epoch (\d+) \(best validation loss\) were kept\.$/,
  );
  await expect(ending).toBeVisible({ timeout: 360_000 });
  const [, after, kept] = /after epoch (\d+).*weights of epoch (\d+)/.exec((await ending.textContent())!)!;
  expect(Number(after)).toBeLessThan(30);
  expect(Number(kept)).toBe(Number(after) - 1);
  await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible();
});
