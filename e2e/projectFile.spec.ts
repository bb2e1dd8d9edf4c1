import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { makePng } from './fixtures';
import { openStudio } from './studio';

/** Temporary folders this file wrote, removed after the tests. */
const written: string[] = [];
test.afterAll(() => {
  for (const root of written.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** `shapes/circle` and `shapes/square`, four small PNGs each. */
function writeShapes(): string {
  const root = mkdtempSync(join(tmpdir(), 'studio-project-'));
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

/** What the journey checks before saving and after opening. */
async function expectProject(page: Page, trainable: string): Promise<void> {
  await expect(page.getByTestId('image-count')).toHaveText('8 images');
  await expect(page.getByLabel(/^Class circle: 4 images/)).toBeVisible();
  await expect(page.getByLabel(/^Class square: 4 images/)).toBeVisible();
  await expect(page.getByTestId('trainable-params')).toHaveText(trainable);
  await expect(page.getByLabel('Epochs')).toHaveValue('1');
  await expect(runRows(page)).toHaveCount(1);
}

test('save a project file, open it in a fresh browser: images, classes, freeze plan, Epochs and the run come back; a truncated file is refused', async ({
  page,
  browser,
}, testInfo) => {
  test.setTimeout(300_000);
  await openStudio(page);
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

  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save project file' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('shapes.transfer-project.zip');
  const saved = join(written[0], download.suggestedFilename());
  await download.saveAs(saved);
  await expect(page.getByTestId('project-file-status')).toContainText("Saved 'shapes.transfer-project.zip': 8 images, 1 run");

  // A fresh browser context: nothing of the first one's storage, the built-in sample loaded.
  const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: { width: 1440, height: 900 } });
  const fresh = await context.newPage();
  await openStudio(fresh);
  await expect(runRows(fresh)).toHaveCount(0);
  await fresh.getByLabel('Open project file').setInputFiles(saved);
  await expect(fresh.getByTestId('project-file-status')).toContainText("Opened 'shapes.transfer-project.zip': 8 images, 1 run", { timeout: 60_000 });
  await expect(fresh.getByTestId('project-file-status')).toContainText('The trained weights are not reopened yet: train again to export, evaluate or predict.');
  await expectProject(fresh, trainable);
  await expect(runRows(fresh).getByRole('rowheader')).toHaveText([/^Run 1 · /]);

  // A truncated copy: refused with its reason, and the studio keeps what it has.
  const bytes = readFileSync(saved);
  await fresh
    .getByLabel('Open project file')
    .setInputFiles({ name: 'cut.transfer-project.zip', mimeType: 'application/zip', buffer: bytes.subarray(0, Math.floor(bytes.length / 2)) });
  const alert = fresh.getByRole('alert').filter({ hasText: 'cut.transfer-project.zip' });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText(/Download or copy it again|Choose a project file saved by Transfer Studio/);
  await expectProject(fresh, trainable);
  await context.close();
});
