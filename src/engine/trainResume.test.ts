import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageSource } from './batchSource';
import { appliedFreezePlan, applyFreezePlan } from './freeze';
import { guardFrozenLayers } from './frozenLayers';
import { buildTransferModel, defaultCutLayer } from './head';
import { assignNamedWeights, originalNames, packWeights, WeightsMismatchError, type NamedWeights } from './namedWeights';
import { trainRun, type TrainableRun } from './trainer';
import { bitIdentical, createTinyImages, createTinyModel } from './testing/tinyModel';
import type { EpochMetrics, FreezePlan, Preprocessing, TrainConfig } from '../core/types';

const preprocessing: Preprocessing = { range: [0, 1], resize: 'stretch' };
const train = createTinyImages(24, 2, 3);
const validation = createTinyImages(8, 2, 4);
/** conv1 and bn1 stay frozen until the schedule's step at epoch 3 (from 0) unfreezes bn1. */
const PLAN: FreezePlan = { conv1: true, bn1: true, relu1: true, conv2: false, bn2: false, relu2: false, flatten: false };
const CONFIG: TrainConfig = {
  epochs: 4,
  batchSize: 8,
  learningRate: 0.05,
  seed: 9,
  // Plain SGD keeps no state between steps: a resumed run must then land on exactly the uninterrupted run's weights.
  optimizer: 'sgd',
  schedule: 'cosine',
  unfreezeSchedule: [
    { epoch: 1, unfreeze: ['relu1'], learningRateFactor: 0.5, label: 'unfreeze relu1' },
    { epoch: 3, unfreeze: ['bn1'], label: 'unfreeze bn1' },
  ],
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function prepare(): TrainableRun {
  const tiny = createTinyModel();
  const transfer = buildTransferModel(tiny, defaultCutLayer(tiny), 2, 11);
  guardFrozenLayers(transfer.model);
  applyFreezePlan(transfer.model, PLAN, transfer.headLayers);
  const target = { model: transfer.model, train: imageSource(train, 2, preprocessing), validation: imageSource(validation, 2, preprocessing) };
  return { model: transfer.model, headLayers: transfer.headLayers, currentTarget: () => target };
}

/** Every weight by original name, as bits. */
async function weightsByName(model: tf.LayersModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const weight of model.weights) out.set(weight.originalName, Float32Array.from((await weight.read().data()) as Float32Array));
  return out;
}

describe('a run resumed from its checkpoint', () => {
  it('ends with the bits of the uninterrupted run: same batches, rates, schedule steps and BN statistics', async () => {
    const whole = prepare();
    let checkpoint: { weights: NamedWeights; factor: number; plan: FreezePlan } | null = null;
    const wholeEpochs: EpochMetrics[] = [];
    await trainRun(whole, CONFIG, {
      onEpoch: (metrics) => wholeEpochs.push(metrics),
      onCheckpoint: ({ epoch, values, learningRateFactor }) => {
        if (epoch === 2)
          checkpoint = { weights: packWeights(values, originalNames(whole.model)), factor: learningRateFactor, plan: appliedFreezePlan(whole.model) };
      },
    });
    expect(checkpoint).not.toBeNull();
    const saved = checkpoint!;
    expect(saved.factor).toBe(0.5);
    // A checkpoint holds what the run changes, not the frozen layers.
    expect(saved.weights.weightSpecs.map((spec) => spec.name)).not.toContain('conv1/kernel');

    const resumed = prepare();
    const before = await weightsByName(resumed.model);
    applyFreezePlan(resumed.model, saved.plan, resumed.headLayers);
    assignNamedWeights(resumed.model, saved.weights, false);
    const tensors = tf.memory().numTensors;
    const resumedEpochs: EpochMetrics[] = [];
    const result = await trainRun(
      resumed,
      CONFIG,
      { onEpoch: (metrics) => resumedEpochs.push(metrics) },
      { resume: { epoch: 2, learningRateFactor: saved.factor } },
    );
    expect(tf.memory().numTensors).toBe(tensors);

    expect(resumedEpochs.map((m) => m.epoch)).toEqual([2, 3]);
    expect(resumedEpochs.map((m) => m.trainLoss)).toEqual(wholeEpochs.slice(2).map((m) => m.trainLoss));
    expect(result.epochsCompleted).toBe(4);
    expect(result.batches).toBe(12);
    const expected = await weightsByName(whole.model);
    const got = await weightsByName(resumed.model);
    for (const [name, bits] of expected) expect(bitIdentical(got.get(name)!, bits), name).toBe(true);
    // Frozen for the whole run: untouched by the checkpoint and the resumed part.
    expect(bitIdentical(got.get('conv1/kernel')!, before.get('conv1/kernel')!)).toBe(true);
    // The step at epoch 3 was applied in the resumed part (bn1 trained there), the one at epoch 1 was not applied again.
    expect(bitIdentical(got.get('bn1/gamma')!, before.get('bn1/gamma')!)).toBe(false);
  });
});

describe('assignNamedWeights', () => {
  it('refuses, naming the weight, a name the model lacks, a wrong shape, short bytes or (complete) a missing weight — and writes nothing', async () => {
    const run = prepare();
    const names = originalNames(run.model);
    const all = new Map([...names.keys()].map((variable) => [variable, new Float32Array(variable.size).fill(0.25) as tf.TypedArray]));
    const packed = packWeights(all, names);
    const before = await weightsByName(run.model);
    const renamed = { ...packed, weightSpecs: packed.weightSpecs.map((s, i) => (i === 0 ? { ...s, name: 'nope/kernel' } : s)) };
    expect(() => assignNamedWeights(run.model, renamed, true)).toThrow(/'nope\/kernel' is not a weight/);
    const reshaped = { ...packed, weightSpecs: packed.weightSpecs.map((s, i) => (i === 0 ? { ...s, shape: [...s.shape, 1] } : s)) };
    expect(() => assignNamedWeights(run.model, reshaped, true)).toThrow(WeightsMismatchError);
    expect(() => assignNamedWeights(run.model, { ...packed, weightData: packed.weightData.slice(0, 8) }, true)).toThrow(/end before/);
    const partial = {
      weightSpecs: packed.weightSpecs.slice(1),
      weightData: packed.weightData.slice(packed.weightSpecs[0].shape.reduce((a, b) => a * b, 1) * 4),
    };
    expect(() => assignNamedWeights(run.model, partial, true)).toThrow(/lack '/);
    const after = await weightsByName(run.model);
    for (const [name, bits] of before) expect(bitIdentical(after.get(name)!, bits), name).toBe(true);
    assignNamedWeights(run.model, packed, true);
    for (const bits of (await weightsByName(run.model)).values()) expect(bits.every((v) => v === 0.25)).toBe(true);
  });
});
