import { describe, expect, it } from 'vitest';
import { AUTO_MAX_EPOCHS, cachedFeaturesBlocker, resolveTrainConfig, type AutoEpochsInput } from './autoEpochs';
import type { LayerInfo, TrainConfig } from './types';

const row = (name: string, className: string, trainableParams: number, nonTrainableParams = 0, origin: LayerInfo['origin'] = 'pretrained'): LayerInfo => ({
  name,
  className,
  outputShape: [4],
  trainableParams,
  nonTrainableParams,
  frozenInSource: false,
  origin,
  parent: null,
});

/** conv → BN → ReLU → Dropout → flatten, then the studio's head. */
const layers: LayerInfo[] = [
  row('conv', 'Conv2D', 30),
  row('bn', 'BatchNormalization', 6, 6),
  row('relu', 'ReLU', 0),
  row('drop', 'Dropout', 0),
  row('flat', 'Flatten', 0),
  row('head_dense', 'Dense', 10, 0, 'head'),
];
const allFrozen = { conv: true, bn: true, relu: true, drop: true, flat: true };
const defaults: TrainConfig = { epochs: 10, batchSize: 32, learningRate: 0.001, seed: 1, optimizer: 'adam', schedule: 'constant', earlyStopping: null };
const step = { epoch: 2, unfreeze: ['conv'], label: 'unfreeze conv' };

const input = (patch: Partial<AutoEpochsInput> = {}): AutoEpochsInput => ({
  config: defaults,
  auto: true,
  layers,
  plan: allFrozen,
  batchNormOverrides: {},
  unfreezeSchedule: [],
  trainImages: 20,
  hasValidation: true,
  ...patch,
});

describe('cachedFeaturesBlocker', () => {
  it.each([
    ['everything below the head frozen', {}, null],
    ['weightless trainable layers (ReLU, Flatten) do not matter', { plan: { ...allFrozen, relu: false, flat: false } }, null],
    ['a trainable conv', { plan: { ...allFrozen, conv: false } }, "layers below the head train ('conv' is not frozen)"],
    [
      'a layer the plan leaves out is trainable',
      { plan: { bn: true, relu: true, drop: true, flat: true } },
      "layers below the head train ('conv' is not frozen)",
    ],
    ['a trainable Dropout (random in training)', { plan: { ...allFrozen, drop: false } }, "layers below the head train ('drop' is not frozen)"],
    ['a frozen BN training its statistics', { batchNormOverrides: { bn: 'train-stats' as const } }, "'bn' trains its BatchNorm statistics"],
    ['a schedule', { unfreezeSchedule: [step] }, 'an unfreezing schedule trains layers below the head'],
    ['augmentation', { augmentation: { flip: true, crop: 0, rotation: 0, brightness: 0, contrast: 0 } }, 'augmentation is on (every epoch sees new pixels)'],
    ['augmentation all at zero is off', { augmentation: { flip: false, crop: 0, rotation: 0, brightness: 0, contrast: 0 } }, null],
    ['no model yet', { layers: [] }, 'no model is loaded'],
  ])('%s', (_, patch, expected) => {
    expect(cachedFeaturesBlocker({ layers, plan: allFrozen, batchNormOverrides: {}, unfreezeSchedule: [], augmentation: null, ...patch })).toBe(expected);
  });
});

describe('resolveTrainConfig', () => {
  it.each([
    // name, input patch, epochs, batch size, patience, explanation
    [
      '20 images on cached features: up to 100 epochs, batch 5, patience 10',
      {},
      AUTO_MAX_EPOCHS,
      5,
      10,
      'auto: up to 100 epochs on cached features, batch 5 (4 steps per epoch), stops when the validation loss has not improved for 10 epochs and keeps the best weights.',
    ],
    [
      '850 images keep batch 32',
      { trainImages: 850 },
      100,
      32,
      10,
      'auto: up to 100 epochs on cached features, stops when the validation loss has not improved for 10 epochs and keeps the best weights.',
    ],
    ['3 images: batch 1', { trainImages: 3 }, 100, 1, 10, 'batch 1 (3 steps per epoch)'],
    ['a smaller batch the user chose stays', { config: { ...defaults, batchSize: 2 } }, 100, 2, 10, 'up to 100 epochs on cached features, stops'],
    ['the user’s own patience wins', { config: { ...defaults, earlyStopping: { patience: 3 } } }, 100, 5, 3, 'has not improved for 3 epochs'],
    [
      'no validation set: 50 epochs, no early stopping',
      { hasValidation: false },
      50,
      5,
      null,
      'auto: 50 epochs on cached features, batch 5 (4 steps per epoch); no validation images to stop early on.',
    ],
    [
      'layers below the head train: the Epochs field',
      { plan: { ...allFrozen, conv: false } },
      10,
      32,
      null,
      "auto: 10 epochs — layers below the head train ('conv' is not frozen).",
    ],
    [
      'a schedule: the Epochs field',
      { unfreezeSchedule: [step], config: { ...defaults, epochs: 4 } },
      4,
      32,
      null,
      'auto: 4 epochs — an unfreezing schedule trains layers below the head.',
    ],
    ['auto off: the Epochs field as typed', { auto: false, config: { ...defaults, epochs: 1 } }, 1, 32, null, 'Auto off: 1 epoch as set.'],
  ] as const)('%s', (_, patch, epochs, batchSize, patience, explanation) => {
    const got = resolveTrainConfig(input(patch as Partial<AutoEpochsInput>));
    expect(got.config.epochs).toBe(epochs);
    expect(got.config.batchSize).toBe(batchSize);
    expect(got.config.earlyStopping?.patience ?? null).toBe(patience);
    expect(got.explanation).toContain(explanation);
  });

  it('changes nothing else in the config', () => {
    const config: TrainConfig = { ...defaults, learningRate: 0.01, seed: 7, optimizer: 'sgd', fromPretrained: false };
    const { config: resolved, mode } = resolveTrainConfig(input({ config }));
    expect(mode).toBe('cached');
    // The Epochs field's number is kept for a run that cannot use the cache after all.
    expect(resolved).toEqual({ ...config, epochs: 100, batchSize: 5, earlyStopping: { patience: 10 }, epochsWithoutCache: config.epochs });
    expect(resolveTrainConfig(input({ config, auto: false })).config).toBe(config);
    expect(resolveTrainConfig(input({ config, plan: {} })).mode).toBe('not-cached');
  });

  it('counts a layer at learning-rate multiplier 0 as frozen, as the worker does', () => {
    const trained = Object.fromEntries(Object.keys(input({}).plan).map((name) => [name, false]));
    expect(resolveTrainConfig(input({ plan: trained })).mode).toBe('not-cached');
    const still = Object.fromEntries(Object.keys(trained).map((name) => [name, 0]));
    expect(resolveTrainConfig(input({ plan: trained, rateMultipliers: still })).mode).toBe('cached');
  });
});
