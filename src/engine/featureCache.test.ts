import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFeatures, featureCacheBlocker, featureCacheKey, hashImageSet, trainHeadOnFeatures } from './featureCache';
import { applyFreezePlan } from './freeze';
import { guardFrozenLayers } from './frozenLayers';
import { buildTransferModel } from './head';
import { headWeights, maxDiff } from './testing/compare';
import { bitIdentical, createFlexibleTinyModel, createTinyImages, createTinyModel, snapshotWeights } from './testing/tinyModel';
import { trainModel } from './trainer';
import type { EpochMetrics, HeadConfig, Preprocessing, TrainConfig } from '../core/types';

const preprocessing: Preprocessing = { range: [0, 1], resize: 'stretch' };
const frozenBackbone = { conv1: true, bn1: true, relu1: true, conv2: true, bn2: true, relu2: true, flatten: true };
const hidden: HeadConfig = { pooling: 'avg', hiddenUnits: 8, dropout: 0 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function prepare(plan: Record<string, boolean>, head?: HeadConfig) {
  const base = createTinyModel();
  const transfer = buildTransferModel(base, 'flatten', 2, 11, head);
  guardFrozenLayers(transfer.model);
  applyFreezePlan(transfer.model, plan, transfer.headLayers);
  return transfer;
}

describe('featureCacheBlocker', () => {
  it('is true with every pretrained layer frozen (weightless ReLU/Flatten may stay trainable) and false, naming it, when one is trained', () => {
    const all = prepare(frozenBackbone);
    expect(featureCacheBlocker(all.model, all.headLayers)).toBeNull();
    const weightlessOpen = prepare({ conv1: true, bn1: true, conv2: true, bn2: true });
    expect(featureCacheBlocker(weightlessOpen.model, weightlessOpen.headLayers)).toBeNull();
    const conv2 = prepare({ conv1: true, bn1: true, bn2: true });
    expect(featureCacheBlocker(conv2.model, conv2.headLayers)).not.toBeNull();
    expect(featureCacheBlocker(conv2.model, conv2.headLayers)).toBe("'conv2' is trained");
    const bn1 = prepare({ conv1: true, conv2: true, bn2: true });
    expect(featureCacheBlocker(bn1.model, bn1.headLayers)).toBe("'bn1' is trained");
  });
});

describe('a model with open height and width ([null, null, 3])', () => {
  const flexibleFrozen = { conv1: true, bn1: true, relu1: true, conv2: true, bn2: true, relu2: true };
  function prepareFlexible() {
    const transfer = buildTransferModel(createFlexibleTinyModel(), 'relu2', 2, 11, hidden);
    guardFrozenLayers(transfer.model);
    applyFreezePlan(transfer.model, flexibleFrozen, transfer.headLayers);
    return transfer;
  }

  it('caches features at the size the images are fed and trains the head on them as through the model', async () => {
    const shape = { height: 8, width: 8, channels: 3 };
    const train = createTinyImages(24, 2, 1, shape);
    const validation = createTinyImages(8, 2, 2, shape);
    const config: TrainConfig = { epochs: 2, batchSize: 8, learningRate: 0.01, seed: 5 };

    const cached = prepareFlexible();
    // The cut output is [null, null, 4] in the graph; the fed 8×8 images make it 4×4×4.
    expect(cached.model.getLayer('relu2').outputShape).toEqual([null, null, null, 4]);
    expect(featureCacheBlocker(cached.model, cached.headLayers)).toBeNull();
    const before = tf.memory().numTensors;
    const trainFeatures = await buildFeatures(cached.model, cached.headLayers, train, preprocessing, 5);
    const validationFeatures = await buildFeatures(cached.model, cached.headLayers, validation, preprocessing, 8);
    expect(tf.memory().numTensors).toBe(before);
    expect(trainFeatures.shape).toEqual([4, 4, 4]);
    expect(trainFeatures.features.length).toBe(24 * 64);
    expect(trainFeatures.features.every(Number.isFinite)).toBe(true);
    // 12×12 images of the same model give 6×6 features: the size comes from the images, not from the graph.
    const larger = await buildFeatures(cached.model, cached.headLayers, createTinyImages(3, 2, 3, { height: 12, width: 12, channels: 3 }), preprocessing, 2);
    expect(larger.shape).toEqual([6, 6, 4]);
    expect(larger.features.length).toBe(3 * 144);

    const cachedEpochs: EpochMetrics[] = [];
    await trainHeadOnFeatures(cached.model, cached.headLayers, trainFeatures, validationFeatures, 2, config, { onEpoch: (m) => cachedEpochs.push(m) });
    const plain = prepareFlexible();
    const plainEpochs: EpochMetrics[] = [];
    await trainModel(plain.model, train, validation, 2, preprocessing, config, { onEpoch: (m) => plainEpochs.push(m) });
    expect(cachedEpochs).toHaveLength(2);
    cachedEpochs.forEach((m, i) => expect(Math.abs(m.validationLoss! - plainEpochs[i].validationLoss!)).toBeLessThan(1e-5));
    const a = await headWeights(plain.model, plain.headLayers);
    const b = await headWeights(cached.model, cached.headLayers);
    expect(a.size).toBe(4);
    for (const [name, values] of a) expect(maxDiff(values, b.get(name)!), name).toBeLessThan(1e-5);
  });

  it('still refuses images whose channels differ from the fixed ones, naming both shapes', async () => {
    const transfer = prepareFlexible();
    const grey = createTinyImages(2, 2, 1, { height: 8, width: 8, channels: 1 });
    const before = tf.memory().numTensors;
    await expect(buildFeatures(transfer.model, transfer.headLayers, grey, preprocessing, 2)).rejects.toThrow(
      "The images are 8×8×1, but the model takes ?×?×3 (? is any size). Decode them at the model's input size.",
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('feature cache key', () => {
  it('changes with the model, cut, preprocessing or dataset content, not with the head', () => {
    const set = createTinyImages(16, 2, 1);
    const parts = { modelId: 'abc', cutLayer: 'flatten', preprocessing };
    const key = featureCacheKey(parts, hashImageSet(set));
    // A head change is not part of the key at all; an identical copy of the data hashes equal.
    const copy = { pixels: set.pixels.slice(), labels: set.labels.slice(), shape: { ...set.shape } };
    expect(featureCacheKey({ ...parts }, hashImageSet(copy))).toBe(key);
    expect(featureCacheKey({ ...parts, modelId: 'def' }, hashImageSet(set))).not.toBe(key);
    expect(featureCacheKey({ ...parts, cutLayer: 'relu2' }, hashImageSet(set))).not.toBe(key);
    expect(featureCacheKey({ ...parts, preprocessing: { range: [-1, 1], resize: 'stretch' } }, hashImageSet(set))).not.toBe(key);
    const onePixel = { ...copy, pixels: copy.pixels.slice() };
    onePixel.pixels[37] ^= 1;
    expect(featureCacheKey(parts, hashImageSet(onePixel))).not.toBe(key);
    const oneLabel = { ...copy, labels: copy.labels.slice() };
    oneLabel.labels[3] = 1 - oneLabel.labels[3];
    expect(featureCacheKey(parts, hashImageSet(oneLabel))).not.toBe(key);
  });
});

describe('training the head on cached features', () => {
  it('matches training through the frozen model: head weights and per-epoch losses within 1e-5, backbone bit-identical, no tensor leak', async () => {
    const train = createTinyImages(40, 2, 1);
    const validation = createTinyImages(12, 2, 2);
    const config: TrainConfig = { epochs: 3, batchSize: 8, learningRate: 0.01, seed: 5, schedule: 'cosine', optimizer: 'adam' };

    const plain = prepare(frozenBackbone, hidden);
    const plainEpochs: EpochMetrics[] = [];
    const plainResult = await trainModel(plain.model, train, validation, 2, preprocessing, config, { onEpoch: (m) => plainEpochs.push(m) });

    const cached = prepare(frozenBackbone, hidden);
    const backboneBefore = await snapshotWeights(cached.model);
    const tensorsBefore = tf.memory().numTensors;
    const trainFeatures = await buildFeatures(cached.model, cached.headLayers, train, preprocessing, 8);
    const validationFeatures = await buildFeatures(cached.model, cached.headLayers, validation, preprocessing, 8);
    expect(trainFeatures.shape).toEqual([4 * 4 * 4]);
    expect(trainFeatures.features.length).toBe(40 * 64);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const cachedEpochs: EpochMetrics[] = [];
    const tensorsPerEpoch: number[] = [];
    const cachedResult = await trainHeadOnFeatures(cached.model, cached.headLayers, trainFeatures, validationFeatures, 2, config, {
      onEpoch: (m) => {
        cachedEpochs.push(m);
        tensorsPerEpoch.push(tf.memory().numTensors);
      },
    });
    expect(new Set(tensorsPerEpoch).size).toBe(1);

    expect(cachedResult.batches).toBe(plainResult.batches);
    const described = (r: typeof plainResult) => r.optimizerVariables.map((v) => [v.name.replace(/_\d+$/, ''), v.shape]);
    expect(described(cachedResult)).toEqual(described(plainResult));
    expect(cachedEpochs).toHaveLength(3);
    cachedEpochs.forEach((m, i) => {
      expect(Math.abs(m.trainLoss - plainEpochs[i].trainLoss)).toBeLessThan(1e-5);
      expect(Math.abs(m.validationLoss! - plainEpochs[i].validationLoss!)).toBeLessThan(1e-5);
      expect(m.trainAccuracy).toBe(plainEpochs[i].trainAccuracy);
    });
    const a = await headWeights(plain.model, plain.headLayers);
    const b = await headWeights(cached.model, cached.headLayers);
    expect(a.size).toBe(4); // hidden kernel+bias, softmax kernel+bias
    for (const [name, values] of a) expect(maxDiff(values, b.get(name)!), name).toBeLessThan(1e-5);
    // The head moved (the comparison is not between two untouched heads).
    const initial = await headWeights(prepare(frozenBackbone, hidden).model, cached.headLayers);
    expect(maxDiff(initial.get([...initial.keys()][0])!, b.get([...initial.keys()][0])!)).toBeGreaterThan(1e-3);
    const backboneAfter = await snapshotWeights(cached.model);
    for (const [name, before] of backboneBefore) {
      if (cached.headLayers.has(name.split('/')[0])) continue; // the head was trained
      expect(bitIdentical(before, backboneAfter.get(name)!), name).toBe(true);
    }
    // The transfer model itself now predicts with the trained head (shared variables, no copy).
    const x = tf.tensor4d(
      Float32Array.from(train.pixels.subarray(0, 64), (v) => v / 255),
      [1, 8, 8, 1],
    );
    const fromTransfer = cached.model.predict(x) as tf.Tensor;
    const fromPlain = plain.model.predict(x) as tf.Tensor;
    expect(maxDiff((await fromTransfer.data()) as Float32Array, (await fromPlain.data()) as Float32Array)).toBeLessThan(1e-5);
    tf.dispose([x, fromTransfer, fromPlain]);
  });

  it('refuses to train on features when a pretrained layer is trainable', async () => {
    const open = prepare({ conv1: true, bn1: true, bn2: true });
    const empty = { features: new Float32Array(0), shape: [64], labels: new Int32Array(0), millis: 0 };
    await expect(trainHeadOnFeatures(open.model, open.headLayers, empty, null, 2, { epochs: 1, batchSize: 4, learningRate: 0.01, seed: 1 })).rejects.toThrow(
      "'conv2' is trained",
    );
  });
});
