/**
 * A PyTorch bundle as the studio exports it (issue 14), made by code for the slow tests: the built-in digits
 * CNN cut at 'flatten' with the studio's head, a freeze plan, recipe.json from core/pytorchRecipe.ts, the
 * Python sources of pytorch/, and the built-in sample written as PNGs in class folders.
 */
import { PNG } from 'pngjs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { headLayerInfos, DEFAULT_HEAD } from '../src/core/headSpec';
import { buildPytorchRecipe, type PytorchRecipe } from '../src/core/pytorchRecipe';
import { DEFAULT_TRAIN_CONFIG } from '../src/core/trainDefaults';
import type { BatchNormOverrides, FreezePlan, HeadConfig, TrainConfig } from '../src/core/types';
import { stratifiedSplit } from '../src/data/split';
import { serializeModel } from '../src/engine/exportModel';
import { applyFreezePlan } from '../src/engine/freeze';
import { buildTransferModel } from '../src/engine/head';
import { summarizeLayers } from '../src/engine/summary';
import { loadBuiltInModelFromDisk, loadSampleFromDisk } from '../src/engine/testing/builtInFiles';

/** Weights of a tfjs Layers model folder by name, each as its raw bytes (model.json's manifest, one weight file). */
export function readWeightBytes(dir: string): Map<string, Buffer> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    weightsManifest: { paths: string[]; weights: { name: string; shape: number[] }[] }[];
  };
  const out = new Map<string, Buffer>();
  for (const group of json.weightsManifest) {
    const data = Buffer.concat(group.paths.map((path) => readFileSync(join(dir, path))));
    let offset = 0;
    for (const spec of group.weights) {
      const size = spec.shape.reduce((p, d) => p * d, 1) * 4;
      out.set(spec.name, data.subarray(offset, offset + size));
      offset += size;
    }
  }
  return out;
}

/**
 * Throws, saying what to install, when /usr/bin/python3 cannot import torch, numpy and PIL (the slow tests need
 * them; .ci/run installs Debian's packages). A test fails on it rather than skipping: CI must run these.
 */
export function requirePythonTorch(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy, PIL'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `${PYTHON} cannot import torch, numpy and PIL (${(probe.stderr || String(probe.error)).trim().split('\n').pop()}). ` +
        'Install them: apt-get install python3-torch python3-numpy python3-pil (.ci/run does this).',
    );
  }
}

/** The repository's pytorch/ folder. */
export const PYTORCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '../pytorch');
/** The parity checker (Python, not part of the bundle): fixtures against load_model, ONNX export, weight comparison. */
export const PARITY_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'torchParity.py');
/** Debian's interpreter, which has torch, numpy and PIL (a pyenv python3 earlier on PATH may not). */
export const PYTHON = '/usr/bin/python3';

/** `python3 -m torch.distributed.run` for `processes` local processes, in the form Debian's torch 1.13 with Python 3.11 needs (TORCH-FACTS #2), before the script's own arguments. */
export function torchrunArgs(processes: number): string[] {
  return ['-m', 'torch.distributed.run', '--standalone', `--nproc_per_node=${processes}`, '--redirects', '1', '--tee', '1'];
}

/** Copies train.py and the package (every file pytorch/bundle-files.json names) and the README into `dir`, as the zip lays them out. */
export function copyBundleSources(dir: string): void {
  const list = JSON.parse(readFileSync(join(PYTORCH_DIR, 'bundle-files.json'), 'utf8')) as { files: string[]; readme: string; readmeInZip: string };
  for (const file of list.files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(PYTORCH_DIR, file), join(dir, file));
  }
  copyFileSync(join(PYTORCH_DIR, list.readme), join(dir, list.readmeInZip));
}

/** Writes the built-in sample (1,000 MNIST digits 5–9, 28×28 grey) as `dir/<class>/<nnnn>.png`; returns each image's path, class and SHA-256. */
export function writeSampleFolders(dir: string): { path: string; className: string; hash: string }[] {
  const written = writtenSamples.get(dir);
  if (written) return written;
  const sample = loadSampleFromDisk();
  const { height, width } = sample.shape;
  const counters = sample.classNames.map(() => 0);
  const images = Array.from(sample.labels, (label, i) => {
    const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8 });
    const pixels = sample.pixels.subarray(i * height * width, (i + 1) * height * width);
    for (let p = 0; p < height * width; p++) {
      png.data[p * 4] = png.data[p * 4 + 1] = png.data[p * 4 + 2] = pixels[p];
      png.data[p * 4 + 3] = 255;
    }
    const bytes = PNG.sync.write(png, { colorType: 0 });
    const className = sample.classNames[label];
    const path = `${className}/${String(++counters[label]).padStart(4, '0')}.png`;
    mkdirSync(join(dir, className), { recursive: true });
    writeFileSync(join(dir, path), bytes);
    return { path, className, hash: createHash('sha256').update(bytes).digest('hex') };
  });
  writtenSamples.set(dir, images);
  return images;
}

/** Sample folders this process wrote, by directory: bundles of one test share one copy. */
const writtenSamples = new Map<string, { path: string; className: string; hash: string }[]>();

/** What a digits bundle is made with. */
export interface DigitsBundleOptions {
  /** Pretrained layers frozen (the rest of the pretrained layers and the head train). */
  plan: FreezePlan;
  head?: HeadConfig;
  config?: Partial<TrainConfig>;
  /** Write the sample into `dir/data/` ("Include my images"); otherwise the caller passes --data. */
  includeImages?: boolean;
  validationFraction?: number;
  /** Held out for testing only (default 0). */
  testFraction?: number;
  batchNormOverrides?: BatchNormOverrides;
}

/**
 * Writes a complete bundle into `dir`: model.json + weights.bin of the digits transfer model (trainable flags =
 * the plan), recipe.json, train.py and transfer_studio_torch/, and the sample in `dir/data/` or `dataDir`.
 * Returns the recipe.
 */
export async function writeDigitsBundle(dir: string, dataDir: string, options: DigitsBundleOptions): Promise<PytorchRecipe> {
  mkdirSync(dir, { recursive: true });
  copyBundleSources(dir);
  const images = writeSampleFolders(options.includeImages ? join(dir, 'data') : dataDir);
  const sample = loadSampleFromDisk();
  const head = options.head ?? DEFAULT_HEAD;
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, epochs: 2, ...options.config };
  const { model: base } = await loadBuiltInModelFromDisk();
  const cut = 'flatten';
  const { model, headLayers } = buildTransferModel(base, cut, sample.classNames.length, config.seed, head);
  applyFreezePlan(model, options.plan, headLayers);
  const artifacts = await serializeModel(model);
  const modelJson = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData));
  const rows = summarizeLayers(base, cut);
  const layers = [...rows, ...headLayerInfos(rows[rows.length - 1].outputShape, sample.classNames.length, head)];
  const fractions = { validationFraction: options.validationFraction ?? 0.2, testFraction: options.testFraction ?? 0 };
  const split = stratifiedSplit(sample.labels, { ...fractions, seed: 1 });
  const recipe = buildPytorchRecipe({
    studio: { name: 'Transfer Studio', version: '0.1.0' },
    exportedAt: new Date('2026-12-01T12:00:00Z'),
    model: { name: 'digits', label: 'Digits CNN', sourceHash: null },
    inputShape: { height: 28, width: 28, channels: 1 },
    preprocessing: { range: [0, 1], resize: 'stretch' },
    cutLayer: cut,
    head,
    classNames: sample.classNames,
    layers,
    freezePlan: options.plan,
    batchNormOverrides: options.batchNormOverrides ?? {},
    config,
    images: images.map((image) => ({ path: image.path, className: image.className, hash: image.hash })),
    split: { seed: 1, ...fractions, ...split },
  });
  writeFileSync(join(dir, 'recipe.json'), `${JSON.stringify(recipe, null, 2)}\n`);
  model.dispose();
  return recipe;
}
