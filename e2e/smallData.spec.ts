import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { makeSmallDataImages } from '../src/engine/testing/smallData';

const MODEL_DIR = fileURLToPath(new URL('../public/models/mobilenet_v2', import.meta.url));

/** The generated two-class set (blobs, stripes) as a folder of 224×224 PNGs, `perClass` each. */
function writeSmallDataFolder(perClass: number): string {
  const root = join(mkdtempSync(join(tmpdir(), 'studio-small-')), 'blobs-and-stripes');
  for (const image of makeSmallDataImages(224, perClass)) {
    const png = new PNG({ width: 224, height: 224 });
    for (let i = 0; i < 224 * 224; i++) {
      png.data.set(image.pixels.subarray(i * 3, i * 3 + 3), i * 4);
      png.data[i * 4 + 3] = 255;
    }
    mkdirSync(join(root, image.className), { recursive: true });
    writeFileSync(join(root, image.path), PNG.sync.write(png));
  }
  return root;
}

// MobileNetV2 at 224×224 on a software backend: the feature cache of 24 images is most of the time.
test.setTimeout(480_000);

test('small data with the defaults: imported MobileNetV2, Freeze all, 2 classes × 12 images, Train untouched → ≥ 90% validation accuracy', async ({ page }) => {
  await page.goto('./');
  await expect(page.getByRole('tree', { name: 'Layers' })).toBeVisible();
  await page.getByLabel('Import model').setInputFiles([join(MODEL_DIR, 'model.json'), join(MODEL_DIR, 'weights.bin')]);
  await expect(page.getByTestId('model-facts')).toHaveText('Imported: model.json · 162 layers · input 224×224×3', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Freeze all', exact: true }).click();
  await page.getByLabel('Add folder').setInputFiles(writeSmallDataFolder(12));
  await expect(page.getByTestId('image-count')).toHaveText('24 images');

  // The recommendation and the settings shown agree: head only, trained to convergence on cached features.
  const headOnly = page.getByRole('radiogroup', { name: 'Freeze preset' }).getByRole('radio', { name: /^Train head only/ });
  await expect(headOnly).toBeChecked();
  await expect(headOnly).toHaveAccessibleDescription(
    /^12 images per class \(2 classes\): train the head only .* the head is trained to convergence on cached features/,
  );
  await expect(page.getByRole('checkbox', { name: 'Auto', exact: true })).toBeChecked();
  await expect(page.getByLabel('Epochs')).toHaveValue('10');
  await expect(
    page.getByText(
      'auto: up to 100 epochs on cached features, batch 5 (4 steps per epoch), stops when the validation loss has not improved for 10 epochs and keeps the best weights.',
    ),
  ).toBeVisible();

  await page.getByRole('button', { name: 'Train', exact: true }).click();
  const accuracy = page.getByText(/Validation accuracy: \d+\.\d%/);
  await expect(accuracy).toBeVisible({ timeout: 420_000 });
  expect(Number((await accuracy.textContent())!.match(/([\d.]+)%/)![1])).toBeGreaterThanOrEqual(90);
  // More than the ten one-batch epochs the field says: the head trained on cached features until it converged.
  // (An early stop also reads "Finished after N full epochs" in the run's summary.)
  const finished = page.getByText(/^Finished after \d+ full epochs/);
  await expect(finished).toBeVisible();
  expect(Number(/(\d+)/.exec((await finished.textContent())!)![1])).toBeGreaterThan(10);
  await expect(page.getByText(/Feature cache: built .*head trained on cached features/)).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
});
