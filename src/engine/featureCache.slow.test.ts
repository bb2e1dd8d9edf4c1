/** The feature cache on the built-in digits model (slow: trains through the real model on the cpu backend). */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION } from '../data/split';
import { DEFAULT_TRAIN_CONFIG } from '../core/trainDefaults';
import { buildFeatures, trainHeadOnFeatures } from './featureCache';
import { applyFreezePlan } from './freeze';
import { guardFrozenLayers } from './frozenLayers';
import { frozenPrefixOf, releaseFrozenPrefixes } from './frozenPrefix';
import { buildTransferModel, defaultCutLayer } from './head';
import { uniformFreezePlan } from '../core/params';
import { summarizeLayers } from './summary';
import { loadBuiltInModelFromDisk as loadBuiltIn, splitSampleFromDisk } from './testing/builtInFiles';
import { headWeights, maxDiff } from './testing/compare';
import { trainModel } from './trainer';
import type { EpochMetrics } from '../core/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('training the head on cached features', () => {
  it('on the built-in digits model: agrees with the plain run and runs no pretrained layer while training on features', async () => {
    // What makes the cached run fast, stated without a clock (bench/quickBench.ts head_cached_speedup measures the speed-up).
    const loaded = await loadBuiltIn();
    // The studio's defaults (the store starts from these constants; store.test.ts checks it).
    const defaults = { config: DEFAULT_TRAIN_CONFIG, validationFraction: DEFAULT_VALIDATION_FRACTION, splitSeed: DEFAULT_SPLIT_SEED };
    const { train, validation } = splitSampleFromDisk(defaults.validationFraction, defaults.splitSeed);
    const config = { ...defaults.config, epochs: 2 };
    const make = () => {
      const t = buildTransferModel(loaded.model, defaultCutLayer(loaded.model), 5, config.seed);
      guardFrozenLayers(t.model);
      applyFreezePlan(t.model, uniformFreezePlan(summarizeLayers(loaded.model), true), t.headLayers);
      return t;
    };
    const plain = make();
    const cached = make();
    // Both transfer models share the loaded model's layers up to the cut; a call of one of them is a forward pass through it.
    // A conv → BatchNorm → ReLU chain of the frozen prefix runs as one fused convolution instead (engine/frozenPrefix.ts):
    // its layers are not called, its fused convolution is counted as a kernel below.
    const chains = frozenPrefixOf(plain.model)!.folded;
    releaseFrozenPrefixes();
    const folded = new Set(chains.flatMap((c) => c.split('+')));
    expect(chains.length).toBeGreaterThan(0);
    const backbone = plain.model.layers.filter((l) => l.getClassName() !== 'InputLayer' && !plain.headLayers.has(l.name) && !folded.has(l.name));
    expect(backbone.length).toBeGreaterThan(3);
    const spies = backbone.map((l) => vi.spyOn(l as unknown as { call: (...args: unknown[]) => unknown }, 'call'));
    const callsPerLayer = () => {
      const counts = spies.map((s) => s.mock.calls.length);
      spies.forEach((s) => s.mockClear());
      return counts;
    };
    try {
      const plainEpochs: EpochMetrics[] = [];
      let plainResult: Awaited<ReturnType<typeof trainModel>> | undefined;
      const profile = await tf.profile(async () => {
        plainResult = await trainModel(plain.model, train, validation, 5, loaded.preprocessing, config, { onEpoch: (m) => plainEpochs.push(m) });
      });
      const plainHead = await headWeights(plain.model, plain.headLayers);
      // Through the whole model, every training step runs every pretrained layer (each folded chain as one fused convolution).
      for (const count of callsPerLayer()) expect(count).toBeGreaterThanOrEqual(plainResult!.batches);
      const fused = profile.kernels.filter((k) => k.name === 'FusedConv2D' || k.name === 'FusedDepthwiseConv2D').length;
      expect(fused).toBeGreaterThanOrEqual(chains.length * plainResult!.batches);

      const tensorsBefore = tf.memory().numTensors;
      const trainFeatures = await buildFeatures(cached.model, cached.headLayers, train, loaded.preprocessing, config.batchSize);
      const validationFeatures = await buildFeatures(cached.model, cached.headLayers, validation, loaded.preprocessing, config.batchSize);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      // The build runs the backbone once per batch of images, as the plain run does each epoch.
      const batchesOf = (set: { labels: ArrayLike<number> }) => Math.ceil(set.labels.length / config.batchSize);
      expect(callsPerLayer()).toEqual(backbone.map(() => batchesOf(train) + batchesOf(validation)));
      const cachedEpochs: EpochMetrics[] = [];
      const cachedResult = await trainHeadOnFeatures(cached.model, cached.headLayers, trainFeatures, validationFeatures, 5, config, {
        onEpoch: (m) => cachedEpochs.push(m),
      });
      // On features, the same number of steps runs no pretrained layer at all.
      expect(cachedResult.batches).toBe(plainResult!.batches);
      expect(callsPerLayer()).toEqual(backbone.map(() => 0));
      const cachedHead = await headWeights(cached.model, cached.headLayers);
      cachedEpochs.forEach((m, i) => expect(Math.abs(m.trainLoss - plainEpochs[i].trainLoss)).toBeLessThan(1e-5));
      for (const [name, values] of plainHead) expect(maxDiff(values, cachedHead.get(name)!), name).toBeLessThan(1e-5);
    } finally {
      spies.forEach((s) => s.mockRestore());
      loaded.model.dispose();
    }
  }, 240_000);
});
