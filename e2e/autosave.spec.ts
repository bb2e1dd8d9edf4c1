import { expect, test } from '@playwright/test';
import { openStudio } from './studio';
import { expectProject, removeWrittenShapes, trainShapesProject } from './projectJourney';

test.afterAll(removeWrittenShapes);

test('autosave: a user dataset, the Full fine-tune preset, Epochs 1 and a run are saved in the browser and come back after a reload', async ({ page }) => {
  test.setTimeout(300_000);
  await openStudio(page);
  // A pristine demo is not saved.
  await expect(page.getByTestId('autosave-status')).toHaveCount(0);
  const trainable = await trainShapesProject(page);
  await expect(page.getByRole('status').filter({ hasText: 'Backend:' })).toContainText(/Saved \d\d:\d\d:\d\d/, { timeout: 30_000 });

  await page.reload();
  await expect(page.getByTestId('autosave-status')).toContainText('Reopened the project saved', { timeout: 120_000 });
  await expect(page.getByTestId('autosave-status')).toContainText('8 images, 1 run');
  await expectProject(page, trainable, 60_000);
});
