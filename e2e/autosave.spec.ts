import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { makePng } from './fixtures';
import { openStudio } from './studio';
import { expectProject, removeWrittenShapes, trainShapesProject, writeShapes } from './projectJourney';

const extra: string[] = [];
test.afterAll(() => {
  removeWrittenShapes();
  for (const root of extra.splice(0)) rmSync(root, { recursive: true, force: true });
});

test('autosave: a user dataset, the Full fine-tune preset, Epochs 1 and a run (with its trained weights) are saved in the browser and come back after a reload', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openStudio(page);
  // A pristine demo is not saved.
  await expect(page.getByTestId('autosave-status')).toHaveCount(0);
  const trainable = await trainShapesProject(page);
  await expect(page.getByRole('status').filter({ hasText: 'Backend:' })).toContainText(/Saved \d\d:\d\d:\d\d/, { timeout: 30_000 });
  // The stored project keeps the last run's trained weights (fetched from the worker once the run is done).
  await page.getByRole('button', { name: 'Projects', exact: true }).click();
  const shapes = page.getByRole('dialog', { name: 'Projects' }).getByRole('listitem', { name: 'shapes', exact: true });
  await expect(shapes.getByTestId('project-details')).toContainText('8 images · 1 run · trained weights');
  await page.getByRole('dialog', { name: 'Projects' }).getByRole('button', { name: 'Close' }).click();

  await page.reload();
  await expect(page.getByTestId('autosave-status')).toContainText("Reopened the project 'shapes' saved", { timeout: 120_000 });
  await expect(page.getByTestId('autosave-status')).toContainText('8 images, 1 run');
  await expectProject(page, trainable, 60_000);
});

test('autosave: a full disk is named with what the save needed and what to do; the studio keeps its images, the saved version stays listed, and the save goes through once room is made', async ({
  page,
}) => {
  test.setTimeout(240_000);
  // The browser's own failure, as Chromium reports it: the part's transaction aborts with a QuotaExceededError.
  await page.addInitScript(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      const request = put.call(this, value, key);
      if (this.name === 'parts' && (window as { diskFull?: boolean }).diskFull) {
        const tx = this.transaction;
        Object.defineProperty(tx, 'error', { value: new DOMException('The quota has been exceeded.', 'QuotaExceededError'), configurable: true });
        tx.abort();
      }
      return request;
    };
  });
  await openStudio(page);
  await page.getByLabel('Add folder').setInputFiles(writeShapes());
  await expect(page.getByTestId('image-count')).toHaveText('8 images');
  await expect(page.getByTestId('autosave-status')).toContainText(/Saved \d\d:\d\d:\d\d/, { timeout: 30_000 });

  await page.evaluate(() => ((window as { diskFull?: boolean }).diskFull = true));
  const root = mkdtempSync(join(tmpdir(), 'studio-quota-'));
  extra.push(root);
  mkdirSync(join(root, 'shapes', 'triangle'), { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(join(root, 'shapes', 'triangle', `tri${i}.png`), makePng(30 + i, 7 + i));
  await page.getByLabel('Add folder').setInputFiles(join(root, 'shapes'));
  await expect(page.getByTestId('image-count')).toHaveText('12 images');
  const status = page.getByTestId('autosave-status');
  await expect(status).toContainText(/Not saved: the browser's storage is full \(this save needed [\d.]+ (B|KB) more\)/, { timeout: 30_000 });
  await expect(status).toContainText('Delete a project (Projects) or use Save project file');
  // The studio keeps working with what is in memory…
  await expect(page.getByLabel(/^Class triangle: 4 images/)).toBeVisible();
  // …and the listed project is the version saved before, not a partial one.
  await page.getByRole('button', { name: 'Projects', exact: true }).click();
  const shapes = page.getByRole('dialog', { name: 'Projects' }).getByRole('listitem', { name: 'shapes', exact: true });
  await expect(shapes.getByTestId('project-details')).toContainText('8 images · 0 runs');
  // Leaving the project now would lose its unsaved images: New project is refused, saying why.
  await page.getByRole('dialog', { name: 'Projects' }).getByRole('button', { name: 'New project' }).click();
  await expect(page.getByTestId('projects-outcome')).toContainText(
    "Not switched, so the open project's latest changes are not lost. Not saved: the browser's storage is full",
  );
  await expect(page.getByTestId('image-count')).toHaveText('12 images');

  // A duplicate made now copies the version saved (8 images).
  const dialog = page.getByRole('dialog', { name: 'Projects' });
  await shapes.getByRole('button', { name: 'Duplicate' }).click();
  const copy = dialog.getByRole('listitem', { name: 'shapes (copy)', exact: true });
  await expect(copy.getByTestId('project-details')).toContainText('8 images · 0 runs');
  // Room is made (here: the disk is no longer full, and a project is deleted): the failed save is tried again at once.
  await page.evaluate(() => ((window as { diskFull?: boolean }).diskFull = false));
  await copy.getByRole('button', { name: 'Delete…' }).click();
  await copy.getByRole('button', { name: 'Delete for good' }).click();
  await expect(page.getByTestId('projects-outcome')).toContainText("Deleted 'shapes (copy)'");
  await expect(page.getByTestId('projects-outcome')).toContainText('The open project is saved now.');
  await expect(shapes.getByTestId('project-details')).toContainText('12 images · 0 runs');
  await dialog.getByRole('button', { name: 'Close' }).click();

  await page.reload();
  await expect(page.getByTestId('autosave-status')).toContainText("Reopened the project 'shapes'", { timeout: 120_000 });
  await expect(page.getByTestId('autosave-status')).not.toContainText('Recovered');
  await expect(page.getByTestId('image-count')).toHaveText('12 images');
});

test('autosave: a page killed in the middle of a save (parts written, manifest not) reopens the version saved before, saying the save did not finish', async ({
  context,
}) => {
  test.setTimeout(240_000);
  // The page hangs (as a crash would) when its save reaches the manifest's transaction: the new parts are written, the manifest never is.
  await context.addInitScript(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'versions' && (window as { hangOnManifest?: boolean }).hangOnManifest) for (;;);
      return put.call(this, value, key);
    };
  });
  const page = await context.newPage();
  await openStudio(page);
  await page.getByLabel('Add folder').setInputFiles(writeShapes());
  await expect(page.getByTestId('autosave-status')).toContainText(/Saved \d\d:\d\d:\d\d/, { timeout: 30_000 });

  await page.evaluate(() => ((window as { hangOnManifest?: boolean }).hangOnManifest = true));
  const root = mkdtempSync(join(tmpdir(), 'studio-crash-'));
  extra.push(root);
  mkdirSync(join(root, 'shapes', 'triangle'), { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(join(root, 'shapes', 'triangle', `tri${i}.png`), makePng(30 + i, 7 + i));
  await page.getByLabel('Add folder').setInputFiles(join(root, 'shapes'));
  await expect(page.getByTestId('image-count')).toHaveText('12 images');
  // The save starts 1 s after the change and hangs in the manifest's transaction.
  await page.waitForTimeout(4000);
  await page.close({ runBeforeUnload: false });

  const again = await context.newPage();
  await again.goto('./');
  const status = again.getByTestId('autosave-status');
  await expect(status).toContainText("Reopened the project 'shapes'", { timeout: 120_000 });
  await expect(status).toContainText(/Recovered: a save started .* did not finish; this is the version saved/);
  await expect(again.getByTestId('image-count')).toHaveText('8 images');
});
