import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';

const MODEL_DIR = fileURLToPath(new URL('../public/models/digits', import.meta.url));

test('Import model: a bad model.json is explained and the current model stays; a good one loads with its own freeze flags', async ({ page }) => {
  await page.goto('./');
  const tree = page.getByRole('tree', { name: 'Layers' });
  await expect(tree.getByRole('treeitem')).toHaveCount(14);
  await expect(page.getByTestId('trainable-params')).toHaveText('2,885'); // built-in demo: backbone frozen

  const broken = join(mkdtempSync(join(tmpdir(), 'studio-import-')), 'model.json');
  writeFileSync(broken, '{"format": "layers-model", "modelTopology": ');
  await page.getByLabel('Import model').setInputFiles(broken);
  await expect(page.getByRole('alert')).toContainText("'model.json' is not valid JSON");
  await expect(tree.getByRole('treeitem')).toHaveCount(14);

  await page.getByLabel('Import model').setInputFiles([join(MODEL_DIR, 'model.json')]);
  await expect(page.getByRole('alert')).toContainText("Weight file 'weights.bin' listed in 'model.json' is missing");

  await page.getByLabel('Import model').setInputFiles([join(MODEL_DIR, 'model.json'), join(MODEL_DIR, 'weights.bin')]);
  await expect(page.getByRole('alert')).toHaveCount(0);
  // The file records every layer as trainable: only BatchNorm moving statistics stay non-trainable.
  await expect(page.getByTestId('trainable-params')).toHaveText('26,293');
  await expect(page.getByTestId('non-trainable-params')).toHaveText('224');
  await expect(page.getByRole('checkbox', { name: 'Freeze conv1' })).not.toBeChecked();
});
