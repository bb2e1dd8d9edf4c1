import { expect, test, type Page } from '@playwright/test';
import { writeMixedFolder, writeSingleClassFolder } from './fixtures';
import { openStudio } from './studio';

async function count(page: Page, testId: string): Promise<number> {
  const text = await page.getByTestId(testId).textContent();
  return Number(text!.replace(/,/g, ''));
}

test('the first minute: built-in model and sample, freeze toggles change the totals, train, curves and accuracy', async ({ page }) => {
  await openStudio(page);
  const tree = page.getByRole('tree', { name: 'Layers' });
  // 13 pretrained layers up to the cut ('flatten') plus the studio's new head.
  await expect(tree.getByRole('treeitem')).toHaveCount(14);
  await page.getByText('About this model', { exact: true }).click();
  await expect(page.getByText('Original classifier ‘dropout’, ‘predictions’ replaced')).toBeVisible();

  await page.getByRole('button', { name: 'Unfreeze all' }).click();
  const allTrainable = await count(page, 'trainable-params');
  const total = await count(page, 'total-params');
  await page.getByRole('button', { name: 'Freeze all', exact: true }).click();
  const headOnly = await count(page, 'trainable-params');
  expect(headOnly).toBe(576 * 5 + 5); // the new Dense head over 576 features, 5 classes
  expect(allTrainable).toBeGreaterThan(headOnly);
  expect(await count(page, 'total-params')).toBe(total);
  expect(await count(page, 'non-trainable-params')).toBe(total - headOnly);

  // One click unfreezes conv3: its 18,432 kernel weights become trainable.
  const conv3 = page.getByRole('checkbox', { name: 'Freeze conv3' });
  await expect(conv3).toBeChecked();
  await conv3.uncheck();
  expect(await count(page, 'trainable-params')).toBe(headOnly + 3 * 3 * 32 * 64);
  await expect(page.getByRole('checkbox', { name: 'Freeze head_dense' })).toBeDisabled();

  // Keyboard: Space on a focused tree item toggles its freeze.
  await tree.getByRole('treeitem').filter({ hasText: 'conv3' }).focus();
  await page.keyboard.press('Space');
  await expect(conv3).toBeChecked();

  await page.getByLabel('Filter layers').fill('bn');
  await expect(tree.getByRole('treeitem')).toHaveCount(3);
  await page.getByLabel('Filter layers').fill('');

  await page.getByLabel('Epochs').fill('10');
  const train = page.getByRole('button', { name: 'Train' });
  const stop = page.getByRole('button', { name: 'Stop' });
  await train.click();
  await expect(stop).toBeEnabled();
  await expect(train).toBeDisabled();
  await expect(page.getByRole('status').filter({ hasText: 'Backend:' })).toContainText(/Epoch \d+\/10 · batch \d+/);
  const accuracy = page.getByText(/Validation accuracy: \d+\.\d%/);
  await expect(accuracy).toBeVisible({ timeout: 150_000 });
  await expect(train).toBeEnabled();
  await expect(stop).toBeDisabled();
  const percent = Number((await accuracy.textContent())!.match(/([\d.]+)%/)![1]);
  // The classic transfer experiment: backbone from digits 0–4, head on 5–9.
  expect(percent).toBeGreaterThanOrEqual(95);

  const batchChart = page.getByRole('figure', { name: 'Loss per batch' });
  expect(Number(await batchChart.getAttribute('data-points'))).toBe(10 * Math.ceil(850 / 32));
  await expect(batchChart).toContainText(/270 batches; last loss/);
  const epochChart = page.getByRole('figure', { name: 'Accuracy per epoch' });
  await expect(epochChart).toHaveAttribute('data-points', '10');
});

test('Stop ends a run at a batch boundary and still reports validation accuracy', async ({ page }) => {
  await openStudio(page);
  await page.getByLabel('Epochs').fill('200');
  await page.getByRole('button', { name: 'Train' }).click();
  const status = page.getByRole('status').filter({ hasText: 'Backend:' });
  await expect(status).toContainText(/Epoch \d+\/200/);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByText(/Stopped after \d+ full epochs?/)).toBeVisible();
  await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible();
  await expect(page.getByRole('button', { name: 'Train' })).toBeEnabled();
});

test('adding a folder: the good images are counted, every bad file is named, no script from the data runs', async ({ page }) => {
  await openStudio(page);
  const { dir, files, goodCount } = writeMixedFolder();
  await page.getByLabel('Add folder').setInputFiles(dir);
  // The first folder replaces the built-in sample.
  await expect(page.getByTestId('image-count')).toHaveText(`${goodCount} images`);
  const rejected = page.getByRole('region', { name: 'Rejected files' });
  for (const file of files.filter((f) => f.rejectedBecause)) {
    const item = rejected.getByRole('listitem').filter({ hasText: file.path });
    await expect(item).toHaveCount(1);
    await expect(item).toContainText(file.rejectedBecause!);
  }
  await expect(page.getByRole('list', { name: 'Classes' }).getByRole('listitem', { name: /^Class / })).toHaveCount(2);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).toBeUndefined();

  // A second folder adds to the user's data instead of replacing it.
  await page.getByLabel('Add folder').setInputFiles(writeSingleClassFolder(3));
  await expect(page.getByTestId('image-count')).toHaveText(`${goodCount + 3} images`);
  await expect(page.getByRole('list', { name: 'Classes' }).getByRole('listitem', { name: /^Class / })).toHaveCount(3);
  await page.getByLabel('Epochs').fill('2');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible();
});

test('a folder with a single class is explained and training waits for a second class', async ({ page }) => {
  await openStudio(page);
  await page.getByLabel('Add folder').setInputFiles(writeSingleClassFolder(3));
  await expect(page.getByRole('list', { name: 'Dataset problems' })).toContainText("Only one class ('only')");
  await expect(page.getByRole('button', { name: 'Train' })).toBeDisabled();
  await expect(page.getByText('Training needs at least two classes with images.')).toBeVisible();
});

test('settings can be typed digit by digit, and an out-of-range value is explained, not silently taken', async ({ page }) => {
  await openStudio(page);
  const rate = page.getByRole('spinbutton', { name: /^Learning rate/ });
  await rate.fill('');
  await rate.pressSequentially('0.003');
  await expect(rate).toHaveValue('0.003');
  await page.getByLabel('Epochs').fill('0');
  await expect(page.getByLabel('Epochs')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('Epochs must be a whole number from 1 to 500; 10 is used.')).toBeVisible();
  await page.getByLabel('Epochs').fill('3');
  await expect(page.getByText(/Epochs must be/)).toHaveCount(0);
});
