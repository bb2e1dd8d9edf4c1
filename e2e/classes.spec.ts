import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { makePng } from './fixtures';
import { openStudio } from './studio';

/** A folder 'zoo/' with classes cat (4), dog (4) and fox (3); every image differs from every other. */
function writeZooFolder(): string {
  const root = mkdtempSync(join(tmpdir(), 'studio-classes-'));
  const sizes: Record<string, number> = { cat: 4, dog: 4, fox: 3 };
  let variant = 0;
  for (const [name, n] of Object.entries(sizes)) {
    mkdirSync(join(root, 'zoo', name), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(root, 'zoo', name, `${name}${i}.png`), makePng(20 + variant, variant++));
  }
  return join(root, 'zoo');
}

const classList = (page: Page) => page.getByRole('list', { name: 'Classes' });
/** A class card by its exact name (its accessible name is "Class <name>: <n> images"). */
const card = (page: Page, name: string) => classList(page).getByRole('listitem', { name: new RegExp(`^Class ${name}: `) });

async function expectClasses(page: Page, expected: Record<string, string>) {
  const cards = classList(page).getByRole('listitem', { name: /^Class / });
  await expect(cards).toHaveCount(Object.keys(expected).length);
  for (const [name, counts] of Object.entries(expected)) await expect(card(page, name)).toContainText(counts);
}

test('classes are renamed, merged, deleted, created, filled one image at a time and by paste, and Train uses the result', async ({ page }) => {
  await openStudio(page);
  await page.getByLabel('Add folder').setInputFiles(writeZooFolder());
  await expect(page.getByTestId('image-count')).toHaveText('11 images');
  await expectClasses(page, {
    cat: '4 images · 3 train / 1 val / 0 test',
    dog: '4 images · 3 train / 1 val / 0 test',
    fox: '3 images · 2 train / 1 val / 0 test',
  });

  // Rename cat → kitten; renaming onto a taken name is refused with a pointer to Merge.
  await page.getByRole('button', { name: 'Rename cat' }).click();
  await page.getByLabel('New name for cat').fill('kitten');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expectClasses(page, { kitten: '4 images', dog: '4 images', fox: '3 images' });
  await page.getByRole('button', { name: 'Rename dog' }).click();
  await page.getByLabel('New name for dog').fill('fox');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(card(page, 'dog').getByRole('alert')).toHaveText("A class named 'fox' already exists. To put the images of 'dog' into it, use Merge instead.");
  await card(page, 'dog').getByRole('button', { name: 'Cancel' }).click();
  await expect(card(page, 'dog').getByRole('alert')).toHaveCount(0);

  // Merge fox into dog.
  await page.getByRole('button', { name: 'Merge into…: merge fox into another class' }).click();
  await page.getByRole('combobox', { name: 'Merge fox into' }).selectOption('dog');
  await page.getByRole('button', { name: 'Merge 3 images' }).click();
  await expectClasses(page, { kitten: '4 images', dog: '7 images · 6 train / 1 val / 0 test' });
  await expect(page.getByTestId('image-count')).toHaveText('11 images');

  // Delete kitten: the confirm step says how many images go.
  await page.getByRole('button', { name: 'Delete kitten' }).click();
  await expect(page.getByRole('group', { name: 'Confirm deleting kitten' })).toContainText('its 4 images');
  await page.getByRole('button', { name: 'Delete kitten and 4 images' }).click();
  await expectClasses(page, { dog: '7 images' });
  await expect(page.getByTestId('image-count')).toHaveText('7 images');
  await expect(page.getByRole('button', { name: 'Train' })).toBeDisabled();

  // A new class, empty at first; a duplicate name is refused, quoting it.
  await page.getByLabel('New class name').fill('dog');
  await page.getByRole('button', { name: 'New class' }).click();
  await expect(page.getByRole('form', { name: 'New class' }).getByRole('alert')).toHaveText("A class named 'dog' already exists. Pick another name.");
  await page.getByLabel('New class name').fill(' bird ');
  await page.getByRole('button', { name: 'New class' }).click();
  await expectClasses(page, { dog: '7 images', bird: '0 images' });
  await expect(page.getByRole('list', { name: 'Dataset problems' })).toContainText("Class 'bird' has no usable images");
  await expect(page.getByRole('button', { name: 'Train' })).toBeDisabled();

  // Single images through the card's own picker.
  await page.getByLabel('Add images to bird').setInputFiles([40, 41, 42].map((v) => ({ name: `b${v}.png`, mimeType: 'image/png', buffer: makePng(30, v) })));
  await expectClasses(page, { dog: '7 images', bird: '3 images · 2 train / 1 val / 0 test' });
  await expect(page.getByTestId('image-count')).toHaveText('10 images');

  // Remove one image of bird.
  await card(page, 'bird').getByRole('button', { name: 'Remove single images/bird/b41.png' }).click();
  await expectClasses(page, { dog: '7 images', bird: '2 images' });

  // Paste an image into the selected class.
  const select = page.getByRole('button', { name: 'Select bird for pasted images' });
  await expect(select).toHaveAttribute('aria-pressed', 'false');
  await select.click();
  await expect(select).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByRole('button', { name: 'Select dog for pasted images' })).toHaveAttribute('aria-pressed', 'false');
  await expect(page.getByTestId('paste-target')).toHaveText('bird');
  await page.evaluate(async (base64) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'image.png', { type: 'image/png' }));
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  }, makePng(30, 77).toString('base64'));
  await expect(page.getByText('Pasted an image into ‘bird’.')).toBeVisible();
  await expectClasses(page, { dog: '7 images', bird: '3 images' });
  await expect(page.getByTestId('image-count')).toHaveText('10 images');

  // Train on the edited classes.
  await page.getByLabel('Epochs').fill('1');
  const train = page.getByRole('button', { name: 'Train' });
  await expect(train).toBeEnabled();
  await train.click();
  await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible({ timeout: 150_000 });

  if (process.env.CLASSES_SCREENSHOT) await page.locator('.data-panel').screenshot({ path: process.env.CLASSES_SCREENSHOT });
});

test('editing the built-in sample makes it the user dataset, and single images join its classes', async ({ page }) => {
  await openStudio(page);
  await expect(page.getByText('built-in sample', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Rename 5' }).click();
  await page.getByLabel('New name for 5').fill('five');
  await page.getByRole('button', { name: 'Save name' }).click();
  await expect(page.getByText('your copy of the sample')).toBeVisible();
  await expect(page.getByTestId('dataset-source')).toContainText('it is now your dataset, and folders you add join it');
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');
  await page.getByLabel('Add images to five').setInputFiles([{ name: 'mine.png', mimeType: 'image/png', buffer: makePng(28, 3) }]);
  await expect(page.getByTestId('image-count')).toHaveText('1,001 images');
  await expect(classList(page).getByRole('listitem', { name: /^Class / })).toHaveCount(5);
  // The sample's own images stay once the added image is in (nothing re-derives them away).
  await expect(page.getByRole('button', { name: 'Train' })).toBeEnabled();
  await expect(page.getByTestId('image-count')).toHaveText('1,001 images');
  await expect(card(page, '6')).not.toContainText(/^6 ?0 images/);

  // The test split is a setting of its own; the cards show it per class.
  await page.getByLabel('Test split (%)').fill('10');
  await expect(card(page, '6')).toContainText(/ \/ [1-9]\d* test/);
  await expect(page.getByTestId('dataset-source')).toContainText(/\d+ test \(held out\)/);
});
