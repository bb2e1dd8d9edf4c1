import { expect, test, type Page } from '@playwright/test';
import { writeBlockModel, type BlockModelFixture } from './treeFixture';

let fixture: BlockModelFixture;

test.beforeAll(async () => {
  fixture = await writeBlockModel();
});

const count = async (page: Page, id: string) => Number((await page.getByTestId(id).textContent())!.replace(/,/g, ''));
const presets = (page: Page) => page.getByRole('radiogroup', { name: 'Freeze preset' });
const preset = (page: Page, label: string) => presets(page).getByRole('radio', { name: new RegExp(`^${label}`) });

test('digits: the recommendation quotes the sample; full fine-tune and head only set the totals', async ({ page }) => {
  await page.goto('./');
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');
  await expect(page.getByTestId('trainable-params')).toHaveText('2,885'); // the built-in demo loads with its backbone frozen
  await expect(preset(page, 'Train head only')).toBeChecked();

  // 200 images in each of 5 classes, 3 blocks (conv1…, conv2…, conv3…): fine-tune the top block.
  const recommended = preset(page, 'Fine-tune top blocks');
  await expect(recommended).toHaveAccessibleName(/Recommended/);
  await expect(recommended).toHaveAccessibleDescription(
    '200 images per class (5 classes): fine-tune the top 1 block of 3 — enough data to adapt the last, most task-specific features, too little to retrain the early ones.',
  );
  await expect(presets(page).getByText('Recommended')).toHaveCount(1);

  await preset(page, 'Full fine-tune').check();
  // Everything trains but the BatchNorm moving statistics.
  await expect(page.getByTestId('non-trainable-params')).toHaveText('224');
  expect(await count(page, 'trainable-params')).toBe((await count(page, 'total-params')) - 224);
  await expect(page.getByRole('checkbox', { name: 'Freeze conv1', exact: true })).not.toBeChecked();

  await preset(page, 'Train head only').check();
  await expect(page.getByTestId('trainable-params')).toHaveText('2,885');
  await expect(page.getByRole('checkbox', { name: 'Freeze conv3', exact: true })).toBeChecked();

  await recommended.check();
  await expect(page.getByLabel('Trained top blocks')).toHaveValue('1');
  await expect(page.getByRole('checkbox', { name: 'Freeze conv2', exact: true })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'Freeze conv3', exact: true })).not.toBeChecked();
});

test('block model: fine-tune the top 2 blocks trains exactly them and the head; one toggle makes it custom', async ({ page }) => {
  await page.goto('./');
  const tree = page.getByRole('tree', { name: 'Layers' });
  await expect(tree.getByRole('treeitem').first()).toBeVisible();
  await page.getByLabel('Import model').setInputFiles(fixture.files);
  await expect(tree.getByRole('treeitem', { name: /^block_1,/ })).toBeVisible({ timeout: 60_000 });
  // The stem, then block_1 … block_99 (the top conv and pooling go with block_99).
  await expect(presets(page)).toContainText(`${fixture.blockCount + 1} blocks`);

  await preset(page, 'Train head only').check();
  await expect(preset(page, 'Train head only')).toBeChecked();
  const headOnly = await count(page, 'trainable-params');

  await preset(page, 'Fine-tune top blocks').check();
  const slider = page.getByLabel('Trained top blocks');
  await slider.fill('2');
  await expect(slider).toHaveValue('2');
  await expect(slider).toHaveAttribute('aria-valuetext', '2, from block_98');
  await expect(preset(page, 'Fine-tune top blocks')).toBeChecked();
  const trained = fixture.names.filter((name) => /^block_(98|99)_/.test(name) || name === 'top_conv' || name === 'top_pool');
  const expected = headOnly + trained.reduce((sum, name) => sum + fixture.trainable[name], 0);
  await expect(page.getByTestId('trainable-params')).toHaveText(expected.toLocaleString('en-US'));
  // The tree draws only the rows in view (the top); the blocks there are frozen.
  await expect(page.getByRole('checkbox', { name: 'Freeze group block_7', exact: true })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: 'Freeze stem_conv', exact: true })).toBeChecked();

  await page.getByRole('checkbox', { name: 'Freeze group block_7', exact: true }).uncheck();
  await expect(preset(page, 'Custom')).toBeChecked();
  await expect(presets(page).getByRole('radio', { checked: true })).toHaveCount(1);
  await expect(page.getByTestId('trainable-params')).toHaveText(
    (expected + fixture.names.filter((n) => n.startsWith('block_7_')).reduce((s, n) => s + fixture.trainable[n], 0)).toLocaleString('en-US'),
  );

  // Freezing it again is the preset once more: derived from the plan, not remembered.
  await page.getByRole('checkbox', { name: 'Freeze group block_7', exact: true }).check();
  await expect(preset(page, 'Fine-tune top blocks')).toBeChecked();
});
