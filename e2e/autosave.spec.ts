import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { makePng } from './fixtures';
import { openStudio } from './studio';

const written: string[] = [];
test.afterAll(() => {
  for (const root of written.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** `shapes/circle` and `shapes/square`, four small PNGs each. */
function writeShapes(): string {
  const root = mkdtempSync(join(tmpdir(), 'studio-autosave-'));
  written.push(root);
  for (const [c, cls] of ['circle', 'square'].entries()) {
    mkdirSync(join(root, 'shapes', cls), { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(root, 'shapes', cls, `img${i}.png`), makePng(20 + i, i + c * 3));
  }
  return join(root, 'shapes');
}

const runRows = (page: Page) =>
  page
    .getByRole('region', { name: 'Compare runs' })
    .getByRole('table', { name: /runs? of this model/ })
    .getByRole('row')
    .filter({ has: page.getByRole('checkbox') });

async function expectProject(page: Page, trainable: string): Promise<void> {
  await expect(page.getByTestId('image-count')).toHaveText('8 images', { timeout: 60_000 });
  await expect(page.getByLabel(/^Class circle: 4 images/)).toBeVisible();
  await expect(page.getByLabel(/^Class square: 4 images/)).toBeVisible();
  await expect(page.getByTestId('trainable-params')).toHaveText(trainable);
  await expect(page.getByLabel('Epochs')).toHaveValue('1');
  await expect(runRows(page)).toHaveCount(1);
}

test('autosave: a user dataset, the Full fine-tune preset, Epochs 1 and a run are saved in the browser and come back after a reload', async ({ page }) => {
  test.setTimeout(300_000);
  await openStudio(page);
  // A pristine demo is not saved.
  await expect(page.getByTestId('autosave-status')).toHaveCount(0);
  await page.getByLabel('Add folder').setInputFiles(writeShapes());
  await expect(page.getByTestId('image-count')).toHaveText('8 images');

  const frozenTrainable = await page.getByTestId('trainable-params').textContent();
  await page
    .getByRole('radiogroup', { name: 'Freeze preset' })
    .getByRole('radio', { name: /^Full fine-tune/ })
    .check();
  await expect(page.getByTestId('trainable-params')).not.toHaveText(frozenTrainable!);
  const trainable = (await page.getByTestId('trainable-params').textContent())!;

  await page.getByLabel('Epochs').fill('1');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(runRows(page)).toHaveCount(1, { timeout: 180_000 });
  await expectProject(page, trainable);
  await expect(page.getByRole('status').filter({ hasText: 'Backend:' })).toContainText(/Saved \d\d:\d\d:\d\d/, { timeout: 30_000 });

  await page.reload();
  await expect(page.getByTestId('autosave-status')).toContainText('Reopened the project saved', { timeout: 120_000 });
  await expect(page.getByTestId('autosave-status')).toContainText('8 images, 1 run');
  await expectProject(page, trainable);
});
