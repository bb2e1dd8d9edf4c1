/**
 * Issue 14, training: the exported bundle (the digits CNN cut at 'flatten' + the studio's head, recipe.json from
 * core/pytorchRecipe.ts, the built-in sample as PNG class folders) trains under torchrun with 2 CPU processes
 * (gloo) and single-process, with the studio's freeze plan: frozen parameters and buffers bit-identical, trained
 * ones moved, both processes identical, ≥ 90% on the held-out digits, the seed's checks printed, and out/ loads
 * back into tfjs and predicts what PyTorch predicts.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, torchrunArgs, readWeightBytes, requirePythonTorch, writeDigitsBundle } from '../../scripts/torchBundle';
import type { PytorchRecipe } from '../core/pytorchRecipe';
import { auditPytorchRun, readPytorchRun, type NamedWeightBytes } from '../core/pytorchRun';
import { loadLayersModelFromFiles } from '../engine/modelFiles';

const FROZEN_BLOCKS = { conv1: true, bn1: true, relu1: true, pool1: true, conv2: true, bn2: true, relu2: true, pool2: true };
let root = '';

/** Runs /usr/bin/python3 with `args` in `cwd`; returns status and output (the test asserts on them). */
function run(args: string[], cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync(PYTHON, args, { cwd, encoding: 'utf8', timeout: 280_000, env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, output: `${result.stdout}\n${result.stderr}` };
}

/** Weight names of `dir`'s model whose bytes equal / differ from the bundle's. */
function compareWeights(bundle: string, out: string): { same: string[]; moved: string[] } {
  const before = readWeightBytes(bundle);
  const after = readWeightBytes(out);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  const same: string[] = [];
  const moved: string[] = [];
  for (const [name, bytes] of before) (bytes.equals(after.get(name)!) ? same : moved).push(name);
  return { same: same.sort(), moved: moved.sort() };
}

const layerOf = (weight: string) => weight.split('/')[0];

/** A model folder's weights as the studio's audit reads them: model.json's specs and weights.bin. */
function namedWeightBytes(dir: string): NamedWeightBytes {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { weights: NamedWeightBytes['weightSpecs'] }[] };
  const bytes = readFileSync(join(dir, 'weights.bin'));
  return { weightSpecs: json.weightsManifest[0].weights, weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
}

beforeAll(async () => {
  requirePythonTorch();
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'ts-torch-train-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('train.py under torchrun (2 processes, gloo) on the built-in sample', () => {
  let recipe: PytorchRecipe;
  let result: ReturnType<typeof run>;
  const bundle = () => join(root, 'ddp');

  beforeAll(async () => {
    recipe = await writeDigitsBundle(bundle(), join(root, 'digits'), {
      plan: FROZEN_BLOCKS,
      // Phase 2 at epoch 2 (index 1): conv2 + bn2 unfreeze at a tenth of the rate — a fresh optimizer and a fresh DDP wrap.
      config: { epochs: 2, unfreezeSchedule: [{ epoch: 1, unfreeze: ['conv2', 'bn2'], learningRateFactor: 0.1, label: 'unfreeze conv2' }] },
    });
    result = run([...torchrunArgs(2), 'train.py', '--data', '../digits', '--out', 'out'], bundle(), { TS_TORCH_DIGEST_DIR: join(bundle(), 'digests') });
  }, 290_000);

  it('exits 0 and prints the seed checks: frozen parameters by name, the studio counts, the optimizer assertion', () => {
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toContain('[default0]:Frozen parameters (6):');
    for (const name of ['conv1/kernel', 'bn1/gamma', 'bn1/beta', 'conv2/kernel', 'bn2/gamma', 'bn2/beta']) expect(result.stdout).toContain(`  ${name} [`);
    const { trainable, nonTrainable } = recipe.counts;
    expect(result.stdout).toContain(
      `Trainable parameters: ${trainable.toLocaleString('en-US')}; non-trainable: ${nonTrainable.toLocaleString('en-US')} (the same as the studio shows)`,
    );
    expect(result.stdout).toMatch(/Check passed: all \d+ parameters the optimizer holds have requires_grad = True/);
    expect(result.stdout).toContain('epoch 2: unfreeze conv2 (fresh optimizer, learning-rate factor 0.1)');
    expect(result.stdout).toContain('2 process(es), device cpu, backend gloo');
    expect(result.stdout).not.toContain('[default1]:Frozen'); // only rank 0 logs
  });

  it('leaves every frozen parameter and BN buffer bit-identical and moves every trained one', () => {
    const { same, moved } = compareWeights(bundle(), join(bundle(), 'out'));
    const stillFrozen = (weight: string) => ['conv1', 'bn1'].includes(layerOf(weight));
    expect(same).toEqual(['bn1/beta', 'bn1/gamma', 'bn1/moving_mean', 'bn1/moving_variance', 'conv1/kernel']);
    expect(moved.filter(stillFrozen)).toEqual([]);
    // Unfrozen at epoch 2 (BN statistics too: bn2 ran in training mode), and everything trained from the start.
    expect(moved).toEqual(expect.arrayContaining(['conv2/kernel', 'bn2/gamma', 'bn2/moving_mean', 'conv3/kernel', 'bn3/moving_variance', 'head_dense/kernel']));
  });

  it('ends with both processes holding identical weights, buffers included', () => {
    const rank0 = JSON.parse(readFileSync(join(bundle(), 'digests/rank0.json'), 'utf8')) as Record<string, string>;
    const rank1 = JSON.parse(readFileSync(join(bundle(), 'digests/rank1.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(rank0).length).toBe(17);
    expect(rank1).toEqual(rank0);
  });

  it('writes metadata.json in the studio export shape, ≥ 90% on the held-out digits', () => {
    const metadata = JSON.parse(readFileSync(join(bundle(), 'out/metadata.json'), 'utf8'));
    expect(metadata.format).toBe('transfer-studio-export');
    expect(metadata.labels).toEqual(recipe.classNames);
    expect(metadata.epochs).toHaveLength(2);
    expect(metadata.epochs[1].validationAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(metadata.trainedWith).toMatchObject({ framework: 'pytorch', processes: 2, recipe: { exportedAt: recipe.exportedAt } });
    expect(metadata.planChanges).toEqual([expect.objectContaining({ epoch: 2, unfrozen: ['conv2', 'bn2'], learningRateFactor: 0.1 })]);
    expect(metadata.identicalToSource).toMatchObject({ conv1: true, bn1: true, conv2: false, bn3: false });
    expect(metadata.freezePlanAtEnd).toMatchObject({ conv1: true, conv2: false, conv3: false });
    const model = JSON.parse(readFileSync(join(bundle(), 'out/model.json'), 'utf8'));
    const flags = Object.fromEntries(model.modelTopology.config.layers.map((l: any) => [l.name, l.config.trainable]));
    expect(flags).toMatchObject({ conv1: false, bn1: false, conv2: true, conv3: true, head_dense: true });
  });

  it('the studio reads out/metadata.json as a PyTorch run and its freeze audit passes (core/pytorchRun.ts)', () => {
    const read = readPytorchRun(JSON.parse(readFileSync(join(bundle(), 'out/metadata.json'), 'utf8')));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.run).toMatchObject({ processes: 2, backend: 'pytorch-cpu', dataset: { name: 'digits', images: 1000 } });
    expect(read.run.epochs.map((e) => e.epoch)).toEqual([0, 1]);
    const audit = auditPytorchRun(read.run, namedWeightBytes(bundle()), namedWeightBytes(join(bundle(), 'out')));
    expect(audit.failed).toEqual([]);
    expect(audit.frozenLayers).toBe(2); // conv1 and bn1: conv2 and bn2 were unfrozen at epoch 2
  });

  it('out/ loads into tfjs and predicts what train.py --predict and its --onnx export compute (within 1e-4)', async () => {
    const files = recipe.split.files.filter((f) => f.subset === 'validation').slice(0, 12);
    const paths = files.map((f) => join(root, 'digits', f.path));
    const predicted = run(['train.py', '--predict', ...paths, '--out', 'probs.json', '--weights', 'out'], bundle());
    expect(predicted.status, predicted.output).toBe(0);
    const probs = JSON.parse(readFileSync(join(bundle(), 'probs.json'), 'utf8')) as Record<string, number[]>;
    const dir = join(bundle(), 'out');
    const { model } = await loadLayersModelFromFiles('model.json', readFileSync(join(dir, 'model.json'), 'utf8'), async (path) => {
      const bytes = readFileSync(join(dir, path));
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    });
    const pixels = paths.flatMap((path) =>
      Array.from(
        PNG.sync.read(readFileSync(path)).data.filter((_, i) => i % 4 === 0),
        (v) => v / 255,
      ),
    );
    const studio = tf.tidy(() => (model.predict(tf.tensor4d(pixels, [paths.length, 28, 28, 1])) as tf.Tensor).arraySync() as number[][]);
    model.dispose();
    const worst = paths.reduce((max, path, i) => Math.max(max, ...probs[path].map((p, c) => Math.abs(p - studio[i][c]))), 0);
    expect(worst).toBeLessThanOrEqual(1e-4);
    // train.py --onnx of the trained out/: ONNX Runtime gives the same probabilities.
    const exported = run(['train.py', '--onnx', 'trained.onnx', '--weights', 'out'], bundle());
    expect(exported.status, exported.output).toBe(0);
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(readFileSync(join(bundle(), 'trained.onnx')));
    const output = await session.run({ input: new ort.Tensor('float32', Float32Array.from(pixels), [paths.length, 1, 28, 28]) });
    const onnx = Array.from(output.probabilities.data as Float32Array);
    await session.release();
    expect(Math.max(...onnx.map((p, k) => Math.abs(p - studio[Math.floor(k / 5)][k % 5])))).toBeLessThanOrEqual(1e-4);
  });
});

describe('train.py single-process: early stopping, momentum, cosine, augmentation, multipliers, BN inference mode', () => {
  it('keeps a multiplier-0 layer and an inference-mode BN layer’s statistics still, trains the rest, and reads the bundled images', async () => {
    const dir = join(root, 'single');
    const recipe = await writeDigitsBundle(dir, '', {
      plan: FROZEN_BLOCKS,
      includeImages: true,
      testFraction: 0.1,
      batchNormOverrides: { bn3: 'inference' },
      config: {
        epochs: 3,
        optimizer: 'momentum',
        schedule: 'cosine',
        learningRate: 0.01,
        earlyStopping: { patience: 1 },
        rateMultipliers: { conv3: 0, head_dense: 2 },
        augmentation: { flip: false, crop: 0.1, rotation: 10, brightness: 0.1, contrast: 0.1 },
      },
    });
    expect(recipe.freezePlan.conv3).toBe(true);
    const result = run(['train.py', '--out', 'out'], dir);
    expect(result.status, result.output).toBe(0);
    expect(result.stdout).toContain('(the same as the studio shows)');
    expect(result.stdout).toContain('1 process(es), device cpu, backend single process');
    const { same, moved } = compareWeights(dir, join(dir, 'out'));
    // conv3 at multiplier 0 is still; bn3 in 'inference' keeps its statistics but trains gamma and beta.
    expect(same).toEqual(expect.arrayContaining(['conv3/kernel', 'bn3/moving_mean', 'bn3/moving_variance', 'conv1/kernel', 'bn2/moving_mean']));
    expect(moved.sort()).toEqual(['bn3/beta', 'bn3/gamma', 'head_dense/bias', 'head_dense/kernel']);
    const metadata = JSON.parse(readFileSync(join(dir, 'out/metadata.json'), 'utf8'));
    expect(metadata.metrics.outcome.validationLoss).toBe(Math.min(...metadata.epochs.map((e: { validationLoss: number }) => e.validationLoss)));
    expect(metadata.batchNormModes).toEqual({ bn3: 'inference' });
    const tests = recipe.split.files.filter((f) => f.subset === 'test').length;
    expect(tests).toBeGreaterThan(50);
    expect(result.stdout).toContain(`Test (${tests} images, never trained on): loss `);
    expect(metadata.metrics.test).toMatchObject({ images: tests, accuracy: expect.any(Number) });
    // The same run with two loader processes draws the same augmentations and batches: bit-identical weights.
    const again = run(['train.py', '--out', 'out-workers', '--workers', '2'], dir);
    expect(again.status, again.output).toBe(0);
    expect(readFileSync(join(dir, 'out-workers/weights.bin')).equals(readFileSync(join(dir, 'out/weights.bin')))).toBe(true);
  });
});
