import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import { makePng } from './fixtures';
import { manifestWeights, sameBits, type ManifestJson } from './modelWeights';

const MODEL_DIR = fileURLToPath(new URL('../public/models/mobilenet_v2', import.meta.url));

interface KerasLayer {
  class_name: string;
  config: { name: string; trainable?: boolean };
}

/** Two classes of 224×224 PNGs: a bright square near the top left, or near the bottom right. */
function writeTwoClassFolder(perClass: number): string {
  const root = join(mkdtempSync(join(tmpdir(), 'studio-mobilenet-')), 'squares');
  for (const [name, base] of [
    ['top-left', 0],
    ['bottom-right', 30],
  ] as const) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < perClass; i++) writeFileSync(join(root, name, `${i}.png`), makePng(224, base + i));
  }
  return root;
}

// MobileNetV2 at 224×224 on a software backend: a short run, but a long test.
test.setTimeout(420_000);

test('MobileNetV2: import by file, freeze state from the file, freeze all, train, export — frozen weights bit-identical to the source', async ({ page }) => {
  const source = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8')) as ManifestJson & {
    modelTopology: { model_config: { config: { layers: KerasLayer[] } } };
  };
  const sourceWeights = manifestWeights(source, new Uint8Array(readFileSync(join(MODEL_DIR, 'weights.bin'))));
  const layers = source.modelTopology.model_config.config.layers;
  const cut = layers.findIndex((l) => l.config.name === 'flatten_1');
  const backbone = layers.slice(1, cut + 1);
  // What the file's own flags leave trainable up to the cut, counted from the manifest (BN moving statistics never train), plus the new 2-class head on 1,280 features.
  const trainableInFile = backbone
    .filter((l) => l.config.trainable !== false)
    .flatMap((l) => [...sourceWeights.keys()].filter((name) => name.startsWith(`${l.config.name}/`) && !/moving_(mean|variance)/.test(name)))
    .reduce((sum, name) => sum + sourceWeights.get(name)!.length, 0);
  const headParams = 1280 * 2 + 2;

  await page.goto('./');
  await expect(page.getByRole('tree', { name: 'Layers' })).toBeVisible();
  await page.getByLabel('Import model').setInputFiles([join(MODEL_DIR, 'model.json'), join(MODEL_DIR, 'weights.bin')]);
  await expect(page.getByTestId('model-facts')).toHaveText('Imported: model.json · 162 layers · input 224×224×3', { timeout: 60_000 });
  // Keras' model.summary() of the file as imported (its own classifier and trainable flags).
  await expect(page.getByTestId('source-trainable')).toHaveText('2,279,365');
  await expect(page.getByTestId('source-non-trainable')).toHaveText('340,096');
  await expect(page.getByTestId('source-params')).toContainText('= 2,619,461 params');
  await expect(page.getByRole('alert')).toHaveCount(0);
  // Two classes decoded at the model's input size (the head is sized for them).
  await page.getByLabel('Add folder').setInputFiles(writeTwoClassFolder(6));
  await expect(page.getByTestId('image-count')).toHaveText('12 images');
  await expect(page.getByTestId('trainable-params')).toHaveText((trainableInFile + headParams).toLocaleString('en-US'));
  await expect(page.getByRole('checkbox', { name: 'Freeze Conv1', exact: true })).toBeChecked();

  await page.getByRole('button', { name: 'Freeze all', exact: true }).click();
  await expect(page.getByTestId('trainable-params')).toHaveText(headParams.toLocaleString('en-US'));

  await page.getByLabel('Epochs').fill('1');
  await page.getByLabel('Batch size').fill('8');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible({ timeout: 360_000 });

  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export model' }).click();
  const zip = unzipSync(new Uint8Array(readFileSync((await (await downloading).path())!)));
  const exportedJson = JSON.parse(strFromU8(zip['model.json'])) as ManifestJson;
  const exported = manifestWeights(exportedJson, zip['weights.bin']);
  const metadata = JSON.parse(strFromU8(zip['metadata.json']));
  expect(metadata.cutLayer).toBe('flatten_1');
  expect(metadata.preprocessing).toMatchObject({ range: [0, 1], resize: 'stretch' });

  // Every pretrained weight up to the cut, BatchNorm statistics included, comes back under its source name with the same bits.
  const backboneWeights = [...sourceWeights.keys()].filter((name) => backbone.some((l) => name.startsWith(`${l.config.name}/`)));
  expect(backboneWeights.length).toBe(sourceWeights.size - 6); // all but dense_1..3 kernel and bias
  for (const name of backboneWeights) {
    expect(exported.has(name), name).toBe(true);
    expect(sameBits(exported.get(name)!, sourceWeights.get(name)!), name).toBe(true);
  }
  expect([...exported.keys()].filter((name) => !sourceWeights.has(name)).sort()).toEqual(['head_dense/bias', 'head_dense/kernel']);
  expect(exported.size).toBe(backboneWeights.length + 2);
});
