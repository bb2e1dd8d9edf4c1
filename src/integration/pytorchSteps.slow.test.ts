/**
 * Issue 14: a training step in the PyTorch bundle is the studio's training step. The digits bundle is trained
 * for a few batches by the studio's own engine (guardFrozenLayers, applyFreezePlan with still layers, BN modes,
 * createTrainableSet, trainStep on the tfjs cpu backend) and by the bundle's Python (apply_freeze_plan,
 * param_groups, make_optimizer, train_mode, the clipped cross-entropy) from the same weights on the same batches:
 * every weight, BN statistics included, must agree — Adam (ε 1e-7), momentum and SGD, multipliers, BN in
 * training mode and in 'inference' mode, frozen layers still.
 */
import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARITY_SCRIPT, PYTHON, requirePythonTorch, writeDigitsBundle } from '../../scripts/torchBundle';
import { HEAD_LAYER_NAMES } from '../core/headSpec';
import { withStillLayers } from '../core/rateMultipliers';
import type { BatchNormOverrides, TrainConfig } from '../core/types';
import { applyFreezePlan } from '../engine/freeze';
import { guardFrozenLayers, setBatchNormOverrides } from '../engine/frozenLayers';
import { loadLayersModelFromFiles } from '../engine/modelFiles';
import { loadSampleFromDisk } from '../engine/testing/builtInFiles';
import { createTrainableSet } from '../engine/trainableSet';
import { trainStep } from '../engine/trainStep';

const BATCH = 8;
const STEPS = 3;
let root = '';

beforeAll(async () => {
  requirePythonTorch();
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'ts-torch-steps-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** STEPS × BATCH sample images spread over the classes, as [N, 28, 28, 1] floats in [0, 1], and their labels. */
function batches(): { inputs: Float32Array; labels: number[] } {
  const sample = loadSampleFromDisk();
  const picked = Array.from({ length: STEPS * BATCH }, (_, i) => (i * 211) % sample.labels.length);
  const inputs = new Float32Array(picked.length * 784);
  picked.forEach((index, k) => {
    for (let p = 0; p < 784; p++) inputs[k * 784 + p] = sample.pixels[index * 784 + p] / 255;
  });
  return { inputs, labels: picked.map((index) => sample.labels[index]) };
}

/** The studio's engine on the bundle's model.json: STEPS steps of trainStep; returns every weight by name. */
async function studioSteps(dir: string, config: TrainConfig, plan: Record<string, boolean>, overrides: BatchNormOverrides): Promise<Map<string, Float32Array>> {
  const { model } = await loadLayersModelFromFiles('model.json', readFileSync(join(dir, 'model.json'), 'utf8'), async (path) => {
    const bytes = readFileSync(join(dir, path));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  });
  guardFrozenLayers(model);
  setBatchNormOverrides(model, overrides);
  applyFreezePlan(model, withStillLayers(plan, config.rateMultipliers), new Set(HEAD_LAYER_NAMES));
  const set = createTrainableSet(model, config, config.learningRate)!;
  const { inputs, labels } = batches();
  for (let step = 0; step < STEPS; step++) {
    const xs = tf.tensor4d(inputs.subarray(step * BATCH * 784, (step + 1) * BATCH * 784), [BATCH, 28, 28, 1]);
    const ys = tf.oneHot(tf.tensor1d(labels.slice(step * BATCH, (step + 1) * BATCH), 'int32'), 5).toFloat() as tf.Tensor2D;
    await trainStep(model, xs, ys, set);
  }
  const out = new Map<string, Float32Array>();
  for (const weight of model.weights) out.set(weight.originalName, (await weight.read().data()) as Float32Array);
  set.dispose();
  model.dispose();
  return out;
}

const CASES: { name: string; config: Partial<TrainConfig>; overrides: BatchNormOverrides }[] = [
  {
    name: 'adam, multipliers, BN in training mode',
    config: { optimizer: 'adam', learningRate: 0.001, rateMultipliers: { head_dense: 2, bn3: 0.5 } },
    overrides: {},
  },
  {
    name: "momentum, BN 'inference', a still conv",
    config: { optimizer: 'momentum', learningRate: 0.01, rateMultipliers: { conv3: 0 } },
    overrides: { bn3: 'inference' },
  },
  { name: "sgd, BN 'train-stats' on a frozen layer", config: { optimizer: 'sgd', learningRate: 0.05 }, overrides: { bn2: 'train-stats' } },
];

describe('a PyTorch training step is the studio training step', () => {
  it.each(CASES)('$name: every weight and BN statistic agrees after 3 steps', async ({ name, config, overrides }) => {
    const dir = join(root, name.replace(/\W+/g, '-'));
    const plan = { conv1: true, bn1: true, relu1: true, pool1: true, conv2: true, bn2: true, relu2: true, pool2: true };
    const recipe = await writeDigitsBundle(dir, join(root, 'images'), { plan, config: { ...config, epochs: 1 }, batchNormOverrides: overrides });
    const { inputs, labels } = batches();
    writeFileSync(join(dir, 'inputs.bin'), new Uint8Array(inputs.buffer));
    writeFileSync(join(dir, 'labels.json'), JSON.stringify(labels));
    execFileSync(PYTHON, [PARITY_SCRIPT, '--train-steps', dir, join(dir, 'inputs.bin'), join(dir, 'labels.json'), String(BATCH), join(dir, 'torch.json')], {
      timeout: 120_000,
    });
    const torch = JSON.parse(readFileSync(join(dir, 'torch.json'), 'utf8')) as Record<string, number[]>;
    const studio = await studioSteps(dir, recipe.config, plan, overrides);
    const source = await studioSource(dir);
    expect(Object.keys(torch).sort()).toEqual([...studio.keys()].sort());
    let moved = 0;
    // Adam divides by √v: a weight whose gradient is near 0 (a max-pooling tie the two frameworks route differently)
    // may take a visibly different step, so a few values may be off by a fraction of one step, never by more.
    const step = recipe.config.learningRate * 2 * STEPS;
    for (const [weight, values] of studio) {
      const off = Array.from(values, (v, i) => Math.abs(v - torch[weight][i]));
      const close = off.filter((d) => d <= 2e-5).length / off.length;
      expect(close, `${weight}: share of values within 2e-5 of tfjs`).toBeGreaterThanOrEqual(recipe.config.optimizer === 'adam' ? 0.98 : 1);
      expect(Math.max(...off), `${weight}: max abs diff between tfjs and PyTorch`).toBeLessThanOrEqual(Math.max(2e-5, 0.05 * step));
      if (values.some((v, i) => v !== source.get(weight)![i])) moved++;
    }
    expect(moved, 'weights the steps moved').toBeGreaterThanOrEqual(4);
  });
});

/** The bundle's weights before training, by name. */
async function studioSource(dir: string): Promise<Map<string, Float32Array>> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { weightsManifest: { weights: { name: string; shape: number[] }[] }[] };
  const bytes = readFileSync(join(dir, 'weights.bin'));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const spec of json.weightsManifest[0].weights) {
    const size = spec.shape.reduce((p, d) => p * d, 1);
    out.set(spec.name, all.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}
