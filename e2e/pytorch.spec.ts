/**
 * Take the run to PyTorch (issue 14): the built-in digits model with a plan, *Export PyTorch project* with the
 * sample's images, the zip unpacked in Node (recipe.json and model.json's flags follow the plan), the *PyTorch code*
 * view following a toggle; then the bundle's train.py run by Debian's Python for one epoch, and its out/ imported back:
 * a PyTorch run in Compare runs, its frozen layers unchanged bit for bit against the source.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import * as tf from '@tensorflow/tfjs';
import { strFromU8, unzipSync } from 'fflate';
import { openStudio } from './studio';

const PYTHON = '/usr/bin/python3';
const TRAIN_PY = new URL('../pytorch/train.py', import.meta.url);

/** Every leaf layer's trainable flag in a tfjs model.json. */
function trainableFlags(modelJson: { modelTopology: { config: { layers: { class_name: string; config: { name: string; trainable?: boolean } }[] } } }) {
  const layers = modelJson.modelTopology.config.layers.filter((l) => l.class_name !== 'InputLayer');
  return Object.fromEntries(layers.map((l) => [l.config.name, l.config.trainable !== false]));
}

/** axe-core (WCAG 2.x A/AA and best practices) on the PyTorch controls: the export, the code view and the PyTorch run panel. */
async function pytorchViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page })
    .include('.pytorch-export')
    .include('details:has(.pytorch-code)')
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  return violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Whether train.py can run here: the bundle's sources are in the repo and Python has torch. */
function pythonReady(): boolean {
  if (!existsSync(TRAIN_PY)) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import torch, numpy, PIL'], { stdio: 'ignore', timeout: 60_000 });
    return true;
  } catch {
    return false;
  }
}

test('Export PyTorch project: recipe and flags follow the plan, the code view follows a toggle, and train.py’s run comes back audited', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await openStudio(page);
  // The digits demo loads with its backbone frozen; train the last conv block too.
  await page.getByRole('checkbox', { name: 'Freeze conv3' }).uncheck();
  await page.getByRole('checkbox', { name: 'Freeze bn3' }).uncheck();
  await page.getByLabel('Epochs').fill('1');

  // The plan as PyTorch code, and how it follows a toggle.
  await page.getByText('PyTorch code', { exact: true }).click();
  const code = page.getByLabel('PyTorch code of the freeze plan');
  await expect(code).toContainText('param.requires_grad = not is_frozen(name)');
  await expect(code).toContainText('frozen_names = {"conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "relu3", "pool3", "flatten"}');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByRole('button', { name: 'Copy PyTorch code' }).click();
  await expect(page.getByText('Copied.', { exact: true })).toBeVisible();
  const before = await code.textContent();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(before);
  await page.getByRole('checkbox', { name: 'Freeze relu3' }).uncheck();
  await expect(code).not.toHaveText(before!);
  await expect(code).toContainText('frozen_names = {"conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "pool3", "flatten"}');
  await page.getByRole('checkbox', { name: 'Freeze conv2' }).uncheck();
  await expect(code).toContainText('frozen_names = {"conv1", "bn1", "relu1", "pool1", "bn2", "relu2", "pool2", "pool3", "flatten"}');
  await page.getByRole('checkbox', { name: 'Freeze conv2' }).check();

  // The export needs no run.
  const exportButton = page.getByRole('button', { name: 'Export PyTorch project' });
  await expect(exportButton).toBeEnabled();
  await page.getByRole('checkbox', { name: 'Include my images' }).check();
  const downloading = page.waitForEvent('download');
  await exportButton.click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('digits_cnn-pytorch.zip');
  await expect(page.getByRole('status').filter({ hasText: 'Downloaded digits_cnn-pytorch.zip' })).toContainText(
    'the pretrained weights and a freshly initialised head, and 1,000 images in data/',
  );
  const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
  for (const name of ['README.md', 'train.py', 'transfer_studio_torch/__init__.py', 'model.json', 'weights.bin', 'recipe.json'])
    expect(Object.keys(zip)).toContain(name);
  expect(Object.keys(zip).filter((p) => p.startsWith('data/'))).toHaveLength(1000);

  const recipe = JSON.parse(strFromU8(zip['recipe.json']));
  expect(recipe).toMatchObject({
    format: 'transfer-studio-recipe',
    version: 1,
    model: { name: 'digits_cnn', sourceHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    inputShape: { height: 28, width: 28, channels: 1 },
    preprocessing: { range: [0, 1], resize: 'stretch' },
    cut: 'flatten',
    classNames: ['5', '6', '7', '8', '9'],
    config: { epochs: 1, seed: expect.any(Number), optimizer: 'adam' },
  });
  expect(recipe.freezePlan).toMatchObject({ conv1: true, bn2: true, conv3: false, bn3: false, relu3: false, pool3: true, head_dense: false });
  const trainable = Number((await page.getByTestId('trainable-params').textContent())!.replace(/\D/g, ''));
  expect(recipe.counts.trainable).toBe(trainable);
  expect(recipe.split.files).toHaveLength(1000);
  expect(recipe.split.files[0]).toMatchObject({ path: expect.stringMatching(/^5\/\d{4}\.png$/), label: '5', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(new Set(recipe.split.files.map((f: { subset: string }) => f.subset))).toEqual(new Set(['train', 'validation']));
  const flags = trainableFlags(JSON.parse(strFromU8(zip['model.json'])));
  for (const [layer, frozen] of Object.entries(recipe.freezePlan)) expect(flags[layer], layer).toBe(!frozen);

  // The round trip: train.py for one epoch on the bundled images, out/ back into the studio.
  test.skip(!pythonReady(), 'pytorch/train.py or Python with torch is not available here');
  const dir = mkdtempSync(join(tmpdir(), 'studio-pytorch-'));
  for (const [path, bytes] of Object.entries(zip)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  // The code view's text runs on the bundle's own package: every requires_grad and mode is the plan's.
  const report = 'import json\nset_modes()\nprint(json.dumps({n: [[p.requires_grad for p in l.parameters()], l.training] for n, l in layers.items()}))\n';
  writeFileSync(join(dir, 'plan.py'), `${await code.textContent()}${report}`);
  const modes = JSON.parse(execFileSync(PYTHON, ['plan.py'], { cwd: dir, encoding: 'utf8', timeout: 120_000 }).trim().split('\n').pop()!) as Record<
    string,
    [boolean[], boolean]
  >;
  for (const [layer, frozen] of Object.entries(recipe.freezePlan) as [string, boolean][]) {
    expect(modes[layer], layer).toBeDefined();
    expect(
      modes[layer][0].every((grad) => grad === !frozen),
      `${layer} requires_grad`,
    ).toBe(true);
    expect(modes[layer][1], `${layer} training`).toBe(!frozen);
  }
  // Layers with weights have parameters there: the checks above were not vacuous.
  expect(modes.conv3[0].length).toBeGreaterThan(0);
  expect(modes.bn1[0]).toEqual([false, false]);

  const log = execFileSync(PYTHON, ['train.py', '--epochs', '1'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  await testInfo.attach('train.py output', { body: log, contentType: 'text/plain' });
  const out = ['model.json', 'weights.bin', 'metadata.json'].map((name) => join(dir, 'out', name));
  await page.getByLabel('Import model').setInputFiles(out);
  const panel = page.getByRole('region', { name: 'PyTorch run' });
  await expect(panel).toContainText(/PyTorch run: Run 1 · PyTorch/);
  await expect(panel.getByRole('status')).toContainText(/Passed: all 4 frozen layers unchanged bit for bit against the source model/);
  const runs = page.getByRole('region', { name: 'Compare runs' });
  await expect(runs.getByRole('rowheader').filter({ hasText: 'Run 1 · PyTorch' })).toBeVisible();
  await expect(runs).toContainText(/pytorch-cpu · torch \S+ · 1 process/);
  await panel.getByText(/Layers audited against the source/).click();
  await expect(panel.getByRole('table', { name: 'PyTorch run freeze audit' }).getByRole('row')).toHaveCount(7);
  expect(await pytorchViolations(page)).toEqual([]);
  // The source model stays loaded: the PyTorch run sits beside the studio's runs.
  await expect(page.getByRole('checkbox', { name: 'Freeze conv1' })).toBeChecked();
  await expect(page.getByRole('alert')).toHaveCount(0);
});

/** A small model with a LayerNormalization layer (no PyTorch counterpart in the bundle), saved as model.json + weights.bin. */
async function writeLayerNormModel(): Promise<string[]> {
  await tf.setBackend('cpu');
  const input = tf.input({ shape: [8, 8, 3], name: 'input' });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, name: 'conv' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.layerNormalization({ name: 'norm' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 2, activation: 'softmax', name: 'predictions' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'layer_norm_net' });
  const dir = mkdtempSync(join(tmpdir(), 'studio-pytorch-unsupported-'));
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const modelJson = {
        format: 'layers-model',
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

test('Export PyTorch project names a layer the PyTorch interpreter cannot build, before the click', async ({ page }) => {
  await openStudio(page);
  await page.getByLabel('Import model').setInputFiles(await writeLayerNormModel());
  await expect(page.getByRole('checkbox', { name: 'Freeze norm' })).toBeVisible();
  const exportButton = page.getByRole('button', { name: 'Export PyTorch project' });
  await expect(exportButton).toBeDisabled();
  await expect(exportButton).toHaveAccessibleDescription(
    /The PyTorch project cannot be made: its interpreter does not build LayerNormalization \('norm'\)\. Cut the model before that layer/,
  );
});
