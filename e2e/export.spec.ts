import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import { manifestWeights, sameBits, type ManifestJson } from './modelWeights';

const MODEL_DIR = fileURLToPath(new URL('../public/models/digits', import.meta.url));

type ModelJson = ManifestJson & { modelTopology: { config: { layers: { name: string; class_name: string }[] } } };

test('Export model: after a head-only run the zip holds the frozen backbone bit for bit, the new head, metadata, and imports back', async ({ page }) => {
  await page.goto('./');
  await expect(page.getByRole('status').filter({ hasText: 'Backend:' })).toContainText(/Backend: (webgpu|webgl|wasm|cpu)/);
  await expect(page.getByTestId('image-count')).toHaveText('1,000 images');

  const exportButton = page.getByRole('button', { name: 'Export model' });
  await expect(exportButton).toBeDisabled();
  await expect(exportButton).toHaveAccessibleDescription('Train first: the export holds the model of the last finished run.');

  await page.getByLabel('Epochs').fill('1');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByText(/Validation accuracy: \d+\.\d%/)).toBeVisible({ timeout: 150_000 });
  await expect(exportButton).toBeEnabled();

  const downloading = page.waitForEvent('download');
  await exportButton.click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('digits_cnn-transfer.zip');
  await expect(page.getByRole('status').filter({ hasText: 'Downloaded' })).toHaveText(
    'Downloaded digits_cnn-transfer.zip: model.json, weights.bin and metadata.json.',
  );
  const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
  expect(Object.keys(zip).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);

  const metadata = JSON.parse(strFromU8(zip['metadata.json']));
  const source = JSON.parse(readFileSync(join(MODEL_DIR, 'model.json'), 'utf8')) as ModelJson;
  const sourceLayers = source.modelTopology.config.layers.filter((l) => l.class_name !== 'InputLayer').map((l) => l.name);
  expect(metadata.classNames).toEqual(['5', '6', '7', '8', '9']);
  expect(metadata.preprocessing).toEqual({ range: [0, 1], resize: 'stretch', inputSize: [28, 28], channels: 1 });
  expect(metadata.sourceModel).toMatchObject({ name: 'digits_cnn', sourceHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(metadata.training.config).toMatchObject({ epochs: 1, batchSize: 32 });
  expect(metadata.metrics.outcome).toMatchObject({ stopped: false, epochsCompleted: 1 });
  expect(metadata.metrics.finalEpoch).toMatchObject({ epoch: 0 });
  // The built-in demo freezes the whole backbone: every pretrained layer up to the cut, in model order.
  const upToCut = sourceLayers.slice(0, sourceLayers.indexOf(metadata.cutLayer) + 1);
  expect(upToCut.length).toBeGreaterThan(10);
  expect(metadata.freezePlan).toEqual(Object.fromEntries(upToCut.map((name) => [name, true])));
  expect(Object.keys(metadata.freezePlan)).toEqual(upToCut);
  expect(metadata.planChanges).toEqual([]);
  // Measured at export: every pretrained layer with weights is bit for bit the source (all were frozen, BN statistics included).
  expect(Object.keys(metadata.identicalToSource)).toEqual(['conv1', 'bn1', 'conv2', 'bn2', 'conv3', 'bn3']);
  expect(Object.values(metadata.identicalToSource).every((same) => same === true)).toBe(true);

  // Every pretrained weight keeps the source file's name and, being frozen, its exact bytes (BN moving statistics included).
  const exportedJson = JSON.parse(strFromU8(zip['model.json'])) as ModelJson & { userDefinedMetadata: Record<string, unknown> };
  expect(exportedJson.weightsManifest[0].paths).toEqual(['weights.bin']);
  expect(exportedJson.userDefinedMetadata.preprocessing).toEqual(metadata.preprocessing);
  const exported = manifestWeights(exportedJson, zip['weights.bin']);
  const sourceWeights = manifestWeights(source, new Uint8Array(readFileSync(join(MODEL_DIR, 'weights.bin'))));
  const shared = [...exported.keys()].filter((name) => sourceWeights.has(name));
  expect(shared.sort()).toEqual(
    ['conv1', 'conv2', 'conv3']
      .map((c) => `${c}/kernel`)
      .concat(['bn1', 'bn2', 'bn3'].flatMap((bn) => ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => `${bn}/${w}`)))
      .sort(),
  );
  for (const name of shared) expect(sameBits(exported.get(name)!, sourceWeights.get(name)!), name).toBe(true);
  expect([...exported.keys()].filter((name) => !sourceWeights.has(name)).sort()).toEqual(['head_dense/bias', 'head_dense/kernel']);

  // The export imports back into the studio: model.json + weights.bin, its freeze flags and provenance read from the file.
  const dir = mkdtempSync(join(tmpdir(), 'studio-export-'));
  for (const name of ['model.json', 'weights.bin']) writeFileSync(join(dir, name), zip[name]);
  await page.getByLabel('Import model').setInputFiles([join(dir, 'model.json'), join(dir, 'weights.bin')]);
  await page.getByText('About this model', { exact: true }).click();
  await expect(page.getByText("Pretrained on MNIST digits 5–9 (sample), fine-tuned in Transfer Studio from 'digits_cnn'")).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByRole('checkbox', { name: 'Freeze conv1' })).toBeChecked();
});
