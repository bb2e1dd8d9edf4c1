import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import { openStudio } from './studio';

/**
 * Issue 11: a model whose input leaves height and width open ([null, null,
 * null, 3], as a Keras application saved with input_shape=(None, None, 3))
 * and whose file records no inputSize is fed at 224×224. Training,
 * evaluation and Predict all run at that size.
 */

const CLASSES = { red: [200, 40, 40], green: [40, 190, 60], blue: [40, 60, 210] } as const;

/**
 * A backbone with no classifier and no pooling (include_top=False): conv →
 * BN → ReLU → conv → ReLU, so the cut output is [null, null, 6] and the
 * studio's head pools it. model.json has no userDefinedMetadata.
 */
async function writeFlexibleModel(): Promise<string[]> {
  await tf.setBackend('cpu');
  const input = tf.input({ shape: [null, null, 3] as unknown as number[], name: 'image' });
  let x = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'stem_conv', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'stem_relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 6, kernelSize: 1, name: 'mix_conv', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'out_relu' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'open_backbone' });
  const dir = mkdtempSync(join(tmpdir(), 'studio-flexible-'));
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  model.dispose();
  return [join(dir, 'model.json'), join(dir, 'weights.bin')];
}

/** A `size`×`size` PNG of `rgb` with a little position-dependent noise. */
function colourPng(size: number, rgb: readonly number[], variant: number): Buffer {
  const png = new PNG({ width: size, height: size });
  for (let i = 0; i < size * size; i++) {
    const jitter = ((i * 7 + variant * 13) % 21) - 10;
    for (let c = 0; c < 3; c++) png.data[i * 4 + c] = Math.max(0, Math.min(255, rgb[c] + jitter));
    png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

/** A folder 'colours/' of three classes (red, green, blue), `perClass` PNGs each, of sizes 24–35 px. */
function writeColourFolder(perClass: number): string {
  const root = join(mkdtempSync(join(tmpdir(), 'studio-flexible-')), 'colours');
  for (const [name, rgb] of Object.entries(CLASSES)) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < perClass; i++) writeFileSync(join(root, name, `img${i}.png`), colourPng(24 + i, rgb, i));
  }
  return root;
}

let modelFiles: string[];

test.beforeAll(async () => {
  modelFiles = await writeFlexibleModel();
});

test('a model with input [null, null, null, 3] and no recorded size is fed at 224×224: it trains, evaluates and predicts', async ({ page }) => {
  test.setTimeout(300_000);
  await openStudio(page);
  await page.getByLabel('Add folder').setInputFiles(writeColourFolder(12));
  await expect(page.getByTestId('image-count')).toHaveText('36 images');

  await page.getByLabel('Import model').setInputFiles(modelFiles);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByTestId('model-facts')).toContainText('input 224×224×3', { timeout: 60_000 });
  await expect(page.getByRole('checkbox', { name: 'Freeze mix_conv', exact: true })).toBeVisible();
  await expect(page.getByTestId('image-count')).toHaveText('36 images');

  await page
    .getByRole('radiogroup', { name: 'Freeze preset' })
    .getByRole('radio', { name: /^Train head only/ })
    .check();
  await expect(page.getByRole('checkbox', { name: 'Freeze mix_conv', exact: true })).toBeChecked();
  await page.getByLabel('Epochs').fill('3');
  await page.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByText(/Finished after 3 full epochs/)).toBeVisible({ timeout: 180_000 });
  // The cut output is [null, null, 6] in the graph; the fed 224×224 images give it a size, so the cache is used.
  await expect(page.getByText(/^Feature cache: built/)).toBeVisible();

  const evaluation = page.getByRole('region', { name: '4 · Evaluation' });
  await expect(evaluation.getByText(/^Validation set accuracy:/)).toContainText(/\d+\.\d%/);
  await expect(evaluation).toContainText(/of \d+ images? correct/);
  await expect(evaluation.getByRole('alert')).toHaveCount(0);
  await expect(evaluation.getByRole('table', { name: /Confusion matrix, validation set/ }).getByRole('button')).toHaveCount(9);

  const predict = page.getByRole('region', { name: '5 · Predict' });
  await predict.getByLabel('Pick images to predict').setInputFiles([{ name: 'green.png', mimeType: 'image/png', buffer: colourPng(40, CLASSES.green, 5) }]);
  const top = predict.getByRole('list', { name: 'Top 3 classes for green.png' });
  await expect(top.getByRole('listitem')).toHaveCount(3);
  await expect(top.getByRole('listitem').first()).toContainText(/\d+\.\d%/);
  await expect(predict.getByRole('alert')).toHaveCount(0);
});
