import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

const MODEL_DIR = fileURLToPath(new URL('../public/models/digits', import.meta.url));

test('Import by URL: a bad scheme and an unreachable server are explained, a reachable model.json loads', async ({ page, baseURL }) => {
  await page.goto('./');
  await expect(page.getByTestId('model-facts')).toContainText('Built-in: Digits CNN');
  const url = page.getByLabel('Model URL');
  const load = page.getByRole('button', { name: 'Load URL' });

  await url.fill('ftp://example.com/model.json');
  await load.click();
  await expect(page.getByRole('alert')).toHaveText(
    "'ftp://example.com/model.json' is a ftp address; only http and https URLs can be loaded. For files on this computer, use Import model.",
  );
  await url.fill('http://127.0.0.1:9/model.json');
  await load.click();
  await expect(page.getByRole('alert')).toContainText("Could not read the model 'http://127.0.0.1:9/model.json'");
  await expect(page.getByRole('alert')).toContainText('Access-Control-Allow-Origin');
  await expect(page.getByTestId('model-facts')).toContainText('Built-in: Digits CNN');

  const modelUrl = new URL('models/digits/model.json', baseURL).href;
  await url.fill(modelUrl);
  await load.click();
  await expect(page.getByTestId('model-facts')).toContainText(`From ${modelUrl} · 16 layers`);
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('Import by drag and drop: model.json and its weights dropped on the import row load', async ({ page }) => {
  await page.goto('./');
  await expect(page.getByTestId('model-facts')).toContainText('Built-in: Digits CNN');
  const files = ['model.json', 'weights.bin'].map((name) => ({ name, bytes: [...readFileSync(join(MODEL_DIR, name))] }));
  const dataTransfer = await page.evaluateHandle((list) => {
    const transfer = new DataTransfer();
    for (const f of list) transfer.items.add(new File([new Uint8Array(f.bytes)], f.name));
    return transfer;
  }, files);
  const row = page.locator('.import-row');
  await row.dispatchEvent('dragover', { dataTransfer });
  await row.dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('model-facts')).toContainText('Imported: model.json · 16 layers');
  // The file's own flags: every layer trainable.
  await expect(page.getByTestId('non-trainable-params')).toHaveText('224');
});

test('Model picker: MobileNetV2 loads with the file’s own freeze flags and its provenance, and the sample is re-fitted to 224×224', async ({ page }) => {
  await page.goto('./');
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');
  await page.getByLabel('Model', { exact: true }).selectOption({ label: 'MobileNetV2 (built-in)' });
  await expect(page.getByTestId('model-facts')).toHaveText('Built-in: MobileNetV2 · 162 layers · input 224×224×3', { timeout: 60_000 });
  await expect(page.getByText(/NSFWJS/).first()).toBeVisible();
  await expect(page.getByText('98 of 156 pretrained layers frozen.', { exact: false })).toBeVisible();
  // The digits sample is re-fitted to the new input, so Train is not blocked by the input size.
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');
  await page.getByText(/^Head: after ‘flatten_1’/).click();
  await page.getByLabel('Hidden units').fill('64');
  // The head rows are the tree's last: End brings them into view (only the rows in view are drawn).
  await page.getByRole('tree', { name: 'Layers' }).getByRole('treeitem').first().focus();
  await page.keyboard.press('End');
  await expect(page.getByRole('treeitem', { name: /head_hidden/ })).toBeVisible();
  await expect(page.getByText(/^Head: after ‘flatten_1’ · Dense 64 ReLU → softmax over 5 classes/)).toBeVisible();
});
