/**
 * The built-in demo, end to end in the engine: the committed digits model
 * (pretrained on 0–4) with its backbone frozen, a new head trained on the
 * committed 5–9 sample with the studio's default settings, exactly as the
 * worker does it.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION } from '../data/split';
import { DEFAULT_TRAIN_CONFIG } from '../core/trainDefaults';
import { guardFrozenLayers } from './frozenLayers';
import { applyFreezePlan } from './freeze';
import { buildTransferModel, defaultCutLayer } from './head';
import { countParams, uniformFreezePlan } from '../core/params';
import { summarizeLayers } from './summary';
import { loadBuiltInModelFromDisk as loadBuiltIn, splitSampleFromDisk } from './testing/builtInFiles';
import { bitIdentical, snapshotWeights } from './testing/tinyModel';
import { trainModel } from './trainer';
import { headLayerInfos } from '../core/headSpec';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the built-in demo', () => {
  it('counts parameters as Keras does', async () => {
    const loaded = await loadBuiltIn();
    const layers = summarizeLayers(loaded.model);
    // Keras summary of digits_cnn: conv 144 + 4,608 + 18,432; BN 4 × (16 + 32 + 64), half of it moving
    // statistics; the original 5-way Dense 576 × 5 + 5.
    expect(countParams(layers, {})).toEqual({ total: 26_517, trainable: 26_293, nonTrainable: 224 });
    const upToCut = layers.slice(0, layers.findIndex((l) => l.name === defaultCutLayer(loaded.model)) + 1);
    const withHead = [...upToCut, ...headLayerInfos(upToCut[upToCut.length - 1].outputShape, 5)];
    expect(countParams(withHead, uniformFreezePlan(withHead, true))).toEqual({ total: 26_517, trainable: 2_885, nonTrainable: 23_632 });
    loaded.model.dispose();
  });

  it('reaches at least 95% validation accuracy within 10 epochs with the backbone frozen, leaving it bit-identical', async () => {
    const loaded = await loadBuiltIn();
    // The studio's defaults (the store starts from these constants; store.test.ts checks it).
    const defaults = { config: DEFAULT_TRAIN_CONFIG, validationFraction: DEFAULT_VALIDATION_FRACTION, splitSeed: DEFAULT_SPLIT_SEED };
    const { train, validation } = splitSampleFromDisk(defaults.validationFraction, defaults.splitSeed);
    const { model, headLayers } = buildTransferModel(loaded.model, defaultCutLayer(loaded.model), 5, defaults.config.seed);
    guardFrozenLayers(model);
    applyFreezePlan(model, uniformFreezePlan(summarizeLayers(loaded.model), true), headLayers);
    const backbone = await snapshotWeights(loaded.model);
    const accuracies: number[] = [];
    const result = await trainModel(model, train, validation, 5, loaded.preprocessing, defaults.config, {
      onEpoch: (m) => accuracies.push(m.validationAccuracy!),
    });
    expect(defaults.config.epochs).toBe(10);
    expect(result.epochsCompleted).toBe(10);
    expect(Math.max(...accuracies)).toBeGreaterThanOrEqual(0.95);
    expect(result.validationAccuracy).toBeGreaterThanOrEqual(0.95);
    const after = await snapshotWeights(loaded.model);
    for (const [name, before] of backbone) expect(bitIdentical(before, after.get(name)!), name).toBe(true);
    model.dispose();
  }, 240_000); // ~270 steps through the frozen CNN on the pure-JS cpu backend: tens of seconds on a busy machine
});
