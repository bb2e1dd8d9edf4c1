import type { Preprocessing } from '../core/types';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { guardFrozenLayers } from './frozenLayers';
import { applyFreezePlan } from './freeze';
import { buildTransferModel, defaultCutLayer } from './head';
import { bitIdentical, createTinyImages, createTinyModel, snapshotWeights } from './testing/tinyModel';
import { trainModel } from './trainer';
import type { FreezePlan, TrainConfig } from '../core/types';

const config: TrainConfig = { epochs: 2, batchSize: 8, learningRate: 0.01, seed: 3 };
const preprocessing: Preprocessing = { range: [0, 1], resize: 'stretch' };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function prepare(plan: FreezePlan, guard = true) {
  const base = createTinyModel();
  const transfer = buildTransferModel(base, defaultCutLayer(base), 2, 11);
  if (guard) guardFrozenLayers(transfer.model);
  applyFreezePlan(transfer.model, plan, transfer.headLayers);
  return { base, ...transfer };
}

function changed(before: Map<string, Float32Array>, after: Map<string, Float32Array>) {
  return [...before.keys()].filter((name) => !bitIdentical(before.get(name)!, after.get(name)!));
}

describe('guardFrozenLayers', () => {
  it('runs frozen layers in inference mode: a frozen Dropout passes its input, an unfrozen one drops', async () => {
    const input = tf.input({ shape: [64] });
    const dropout = tf.layers.dropout({ rate: 0.5, name: 'drop' });
    const model = tf.model({ inputs: input, outputs: dropout.apply(input) as tf.SymbolicTensor });
    guardFrozenLayers(model);
    const x = tf.ones([4, 64]);
    dropout.trainable = false;
    const frozen = model.apply(x, { training: true }) as tf.Tensor;
    expect((await frozen.sum().data())[0]).toBe(256);
    dropout.trainable = true;
    const trained = model.apply(x, { training: true }) as tf.Tensor;
    expect((await trained.equal(0).sum().data())[0]).toBeGreaterThan(0);
    tf.dispose([x, frozen, trained]);
  });
});

describe('trainModel with a freeze plan', () => {
  const train = createTinyImages(40, 2, 1);
  const validation = createTinyImages(10, 2, 2);

  it('leaves every frozen weight bit-identical, BN statistics included, and moves every trainable one', async () => {
    const { model } = prepare({ conv1: true, bn1: true, relu1: true });
    const before = await snapshotWeights(model);
    await trainModel(model, train, validation, 2, preprocessing, config);
    const after = await snapshotWeights(model);
    const moved = changed(before, after);
    const frozen = [...before.keys()].filter((n) => /^(conv1|bn1)\//.test(n));
    expect(frozen.length).toBe(5); // conv1 kernel; bn1 gamma, beta, moving mean, moving variance
    for (const name of frozen) expect(moved).not.toContain(name);
    const trainable = [...before.keys()].filter((n) => !/^(conv1|bn1)\//.test(n));
    expect(trainable.length).toBeGreaterThan(0);
    // Every other weight moves: gradients for kernels and biases, and the
    // trainable bn2's moving statistics are updated by its training-mode call.
    for (const name of trainable) expect(moved).toContain(name);
  });

  it("shows why the guard exists: unguarded, tfjs rewrites a frozen BN layer's moving statistics", async () => {
    const { model } = prepare({ conv1: true, bn1: true, relu1: true }, false);
    const before = await snapshotWeights(model);
    await trainModel(model, train, validation, 2, preprocessing, config);
    const moved = changed(before, await snapshotWeights(model));
    expect(moved.some((n) => n.startsWith('bn1/moving_mean'))).toBe(true);
    expect(moved.some((n) => n.startsWith('bn1/gamma'))).toBe(false);
  });

  it('takes an unfreeze between runs into account', async () => {
    const { model, headLayers } = prepare({ conv1: true, bn1: true });
    const first = await snapshotWeights(model);
    await trainModel(model, train, validation, 2, preprocessing, { ...config, epochs: 1 });
    const second = await snapshotWeights(model);
    expect(changed(first, second).filter((n) => n.startsWith('conv1/'))).toEqual([]);
    applyFreezePlan(model, {}, headLayers);
    const result = await trainModel(model, train, validation, 2, preprocessing, { ...config, epochs: 1 });
    const third = await snapshotWeights(model);
    expect(changed(second, third).filter((n) => n.startsWith('conv1/') || n.startsWith('bn1/')).length).toBe(5);
    expect(result.optimizerVariables.map((v) => v.name)).toContain(model.getLayer('conv1').weights[0].name);
  });

  it('never touches variables of another model in the same engine', async () => {
    const other = createTinyModel(99);
    const before = await snapshotWeights(other);
    const { model } = prepare({});
    await trainModel(model, train, validation, 2, preprocessing, config);
    expect(changed(before, await snapshotWeights(other))).toEqual([]);
  });

  it('keeps tf.memory().numTensors flat from epoch to epoch and across the run', async () => {
    const { model } = prepare({ conv1: true, bn1: true });
    const counts: number[] = [];
    const startCount = tf.memory().numTensors;
    await trainModel(
      model,
      train,
      validation,
      2,
      preprocessing,
      { ...config, epochs: 4 },
      {
        onEpoch: () => counts.push(tf.memory().numTensors),
      },
    );
    expect(counts).toHaveLength(4);
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(startCount);
  });

  it('stops at the next batch boundary and still reports validation accuracy', async () => {
    const { model } = prepare({});
    let batches = 0;
    const result = await trainModel(
      model,
      train,
      validation,
      2,
      preprocessing,
      { ...config, epochs: 5 },
      {
        onBatch: () => batches++,
        shouldStop: () => batches >= 3,
      },
    );
    expect(result.stopped).toBe(true);
    expect(result.batches).toBe(3);
    expect(result.epochsCompleted).toBe(0);
    expect(result.validationAccuracy).not.toBeNull();
  });

  it('learns the tiny task (loss falls, validation accuracy high)', async () => {
    const { model } = prepare({});
    const epochs: number[] = [];
    const result = await trainModel(
      model,
      train,
      validation,
      2,
      preprocessing,
      { ...config, epochs: 8, learningRate: 0.05 },
      {
        onEpoch: (m) => epochs.push(m.trainLoss),
      },
    );
    expect(epochs[epochs.length - 1]).toBeLessThan(epochs[0]);
    expect(result.validationAccuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('refuses to train when nothing is trainable', async () => {
    const { model } = prepare({});
    for (const layer of model.layers) layer.trainable = false;
    await expect(trainModel(model, train, validation, 2, preprocessing, config)).rejects.toThrow(/every layer is frozen/);
  });
});
