import { expect, test, type Page } from '@playwright/test';
import { openStudio } from './studio';

/** The RGBA bytes of the four preview canvases, concatenated. */
async function previewPixels(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const canvases = [...document.querySelectorAll<HTMLCanvasElement>('canvas[aria-label^="Augmented preview"]')];
    return canvases.flatMap((canvas) => [...canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data]);
  });
}

test('augmentation is off by default, previews four augmented images, reshuffles them, and a bad crop blocks Train', async ({ page }) => {
  await openStudio(page);
  await page.getByText('Augmentation', { exact: true }).click();
  const toggle = page.getByRole('checkbox', { name: 'Augment training images' });
  await expect(toggle).not.toBeChecked();
  await expect(page.getByRole('spinbutton', { name: 'Random crop' })).toBeDisabled();
  await expect(page.getByRole('img', { name: /Augmented preview/ })).toHaveCount(0);

  await toggle.check();
  await expect(page.getByRole('checkbox', { name: 'Horizontal flip' })).toBeChecked();
  await expect(page.getByRole('spinbutton', { name: 'Random crop' })).toHaveValue('0.1');
  await expect(page.getByRole('spinbutton', { name: 'Rotation (degrees)' })).toHaveValue('10');
  const previews = page.getByRole('img', { name: /^Augmented preview \d of 4$/ });
  await expect(previews).toHaveCount(4);
  await expect(page.getByRole('img', { name: 'Augmented preview 1 of 4' })).toBeVisible();

  const before = await previewPixels(page);
  expect(before.length).toBeGreaterThan(0);
  // Not blank: the digits have dark and light pixels.
  expect(new Set(before).size).toBeGreaterThan(2);
  await page.getByRole('button', { name: 'Shuffle preview' }).click();
  await expect.poll(async () => (await previewPixels(page)).some((v, i) => v !== before[i])).toBe(true);

  await page.getByRole('spinbutton', { name: 'Random crop' }).fill('0.7');
  const message = 'Crop 0.7 is too large: keep at least half of each side (crop < 0.5).';
  await expect(page.getByRole('alert').filter({ hasText: message })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Train' })).toBeDisabled();
  await expect(page.locator('.toolbar').getByText(message)).toBeVisible();
  await expect(previews).toHaveCount(0);

  await page.getByRole('spinbutton', { name: 'Random crop' }).fill('0.2');
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Train' })).toBeEnabled();
  await expect(previews).toHaveCount(4);

  // Off again: Train is not blocked by the (kept) settings and the preview goes away.
  await toggle.uncheck();
  await expect(previews).toHaveCount(0);
  await expect(page.getByRole('spinbutton', { name: 'Random crop' })).toHaveValue('0.2');
});
