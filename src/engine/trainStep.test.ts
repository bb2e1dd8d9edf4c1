import * as tf from '@tensorflow/tfjs';
import { releaseFrozenPrefixes } from './frozenPrefix';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageSource } from './batchSource';
import { applyFreezePlan } from './freeze';
import { guardFrozenLayers } from './frozenLayers';
import { bitIdentical, createTinyImages, createTinyModel, snapshotWeights } from './testing/tinyModel';
import { createTrainableSet } from './trainableSet';
import { trainStep } from './trainStep';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('one training step', () => {
  it('moves only the set’s variables, returns the loss, and leaves no tensor behind', async () => {
    const model = createTinyModel();
    guardFrozenLayers(model);
    applyFreezePlan(model, { conv1: true, bn1: true }, new Set());
    // SGD: no optimizer slots are created by the step, so the tensor count can be compared.
    const set = createTrainableSet(model, { epochs: 1, batchSize: 8, learningRate: 0.1, seed: 1, optimizer: 'sgd' }, 0.1)!;
    const source = imageSource(createTinyImages(8, 2), 2, { range: [0, 1], resize: 'stretch' });
    const before = await snapshotWeights(model);
    const tensors = tf.memory().numTensors;
    const { xs, ys } = source.batch([0, 1, 2, 3, 4, 5, 6, 7]);
    const { loss, correct } = await trainStep(model, xs, ys, set);
    // The frozen prefix's folded weights (conv1 + bn1 + relu1: a filter and a bias) are kept for the next step, until released.
    expect(tf.memory().numTensors).toBe(tensors + 2);
    releaseFrozenPrefixes();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(loss).toBeGreaterThan(0);
    expect(correct).toBeGreaterThanOrEqual(0);
    expect(correct).toBeLessThanOrEqual(8);
    const after = await snapshotWeights(model);
    const moved = [...before.keys()].filter((n) => !bitIdentical(before.get(n)!, after.get(n)!)).map((n) => n.split('/')[0]);
    expect([...new Set(moved)].sort()).toEqual(['bn2', 'classifier', 'conv2']);
    set.dispose();
    model.dispose();
  });

  it('disposes its batch when the step throws', async () => {
    const model = createTinyModel();
    const set = createTrainableSet(model, { epochs: 1, batchSize: 2, learningRate: 0.1, seed: 1 }, 0.1)!;
    const xs = tf.zeros([2, 3, 3, 1]); // the wrong size: the forward pass throws
    const ys = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    await expect(trainStep(model, xs, ys, set)).rejects.toThrow();
    expect(xs.isDisposed && ys.isDisposed).toBe(true);
    set.dispose();
    model.dispose();
  });
});
