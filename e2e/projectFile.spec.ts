import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { openStudio } from './studio';
import { expectProject, removeWrittenShapes, runRows, trainShapesProject } from './projectJourney';

test.afterAll(removeWrittenShapes);

test('save a project file, open it in a fresh browser: images, classes, freeze plan, Epochs and the run come back; a truncated file is refused', async ({
  page,
  browser,
}, testInfo) => {
  test.setTimeout(300_000);
  await openStudio(page);
  const trainable = await trainShapesProject(page);

  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save project file' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('shapes.transfer-project.zip');
  const saved = testInfo.outputPath(download.suggestedFilename());
  await download.saveAs(saved);
  await expect(page.getByTestId('project-file-status')).toContainText("Saved 'shapes.transfer-project.zip': 8 images, 1 run");

  // A fresh browser context: nothing of the first one's storage, the built-in sample loaded.
  const context = await browser.newContext({ baseURL: testInfo.project.use.baseURL, viewport: { width: 1440, height: 900 } });
  const fresh = await context.newPage();
  await openStudio(fresh);
  await expect(runRows(fresh)).toHaveCount(0);
  await fresh.getByLabel('Open project file').setInputFiles(saved);
  await expect(fresh.getByTestId('project-file-status')).toContainText("Opened 'shapes.transfer-project.zip': 8 images, 1 run", { timeout: 60_000 });
  await expect(fresh.getByTestId('project-file-status')).toContainText('The trained weights and the evaluation are back.');
  await expectProject(fresh, trainable);
  // The last run's weights are in the fresh browser's worker: Export needs no training.
  await expect(fresh.getByRole('button', { name: 'Export model' })).toBeEnabled();
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

test('a project file dropped on the Data panel (or picked with Add zip…) opens as a project, not as a dataset of its folders', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  await openStudio(page);
  await page.getByLabel('Epochs').fill('3');
  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save project file' }).click();
  const saved = testInfo.outputPath('sample.transfer-project.zip');
  await (await downloading).saveAs(saved);
  await page.getByLabel('Epochs').fill('5');
  await page.getByLabel('Epochs').blur();

  const bytes = [...readFileSync(saved)];
  const dataTransfer = await page.evaluateHandle((list) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(list)], 'sample.transfer-project.zip', { type: 'application/zip' }));
    return transfer;
  }, bytes);
  const zone = page.locator('.drop-zone');
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('autosave-status')).toContainText("Opened 'sample.transfer-project.zip'", { timeout: 60_000 });
  await expect(page.getByLabel('Epochs')).toHaveValue('3');
  // The project's own classes, not its zip folders (dataset, model, weights…).
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');
  await expect(page.getByLabel(/^Class dataset/)).toHaveCount(0);

  await page.getByLabel('Epochs').fill('6');
  await page.getByLabel('Epochs').blur();
  await page.getByLabel('Add zip').setInputFiles(saved);
  await expect(page.getByLabel('Epochs')).toHaveValue('3', { timeout: 60_000 });
  await expect(page.getByLabel(/^Class dataset/)).toHaveCount(0);
});
