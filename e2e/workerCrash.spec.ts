import { expect, test, type Page } from '@playwright/test';
import { openStudio } from './studio';

/** Makes the studio's training worker throw an uncaught error, as a crash inside tfjs would. */
async function crashTrainingWorker(page: Page): Promise<void> {
  const worker = page.workers().find((w) => w.url().includes('studio.worker'));
  if (!worker)
    throw new Error(
      `No training worker among ${
        page
          .workers()
          .map((w) => w.url())
          .join(', ') || 'no workers'
      }.`,
    );
  await worker.evaluate(() => {
    setTimeout(() => {
      throw new Error('simulated crash');
    });
  });
}

test('a crashed training worker fails the run visibly, and Restart brings the model back with the plan kept', async ({ page }) => {
  await openStudio(page);
  const conv3 = page.getByRole('checkbox', { name: 'Freeze conv3' });
  await conv3.uncheck(); // a user edit that the restart must keep
  await page.getByLabel('Epochs').fill('200');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Backend:' })).toContainText(/Epoch \d+\/200/);

  await crashTrainingWorker(page);
  const crashAlert = page.getByRole('alert').filter({ has: page.getByRole('heading', { name: 'The training worker crashed' }) });
  await expect(crashAlert).toContainText('simulated crash');
  await expect(page.getByText(/^The training worker crashed: .*simulated crash/)).toBeVisible(); // the run's own error
  await expect(page.getByRole('button', { name: 'Train', exact: true })).toBeDisabled();

  await crashAlert.getByRole('button', { name: 'Restart the training worker' }).click();
  await expect(crashAlert).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByRole('status').filter({ hasText: 'Backend:' })).toContainText(/Backend: (webgpu|webgl|wasm|cpu) · Ready/);
  await expect(conv3).not.toBeChecked();
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');

  await page.getByLabel('Epochs').fill('1');
  await page.getByRole('button', { name: 'Train', exact: true }).click();
  await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible({ timeout: 150_000 });
  await expect(page.getByRole('alert')).toHaveCount(0);
});
