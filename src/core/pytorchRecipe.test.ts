import { describe, expect, it } from 'vitest';
import { buildPytorchRecipe, recipeImagePaths, resolvedRecipeConfig, type PytorchRecipeInput } from './pytorchRecipe';
import type { LayerInfo } from './types';

function layer(name: string, className: string, trainableParams: number, nonTrainableParams = 0, extra: Partial<LayerInfo> = {}): LayerInfo {
  return { name, className, outputShape: [4, 4, 8], trainableParams, nonTrainableParams, frozenInSource: false, origin: 'pretrained', parent: null, ...extra };
}

/** conv1 → bn1 → conv2 (inside nested 'backbone') → cut, then the studio's head. */
const layers: LayerInfo[] = [
  layer('conv1', 'Conv2D', 224, 0, { parent: 'backbone' }),
  layer('bn1', 'BatchNormalization', 16, 16, { parent: 'backbone' }),
  layer('conv2', 'Conv2D', 584, 0, { parent: 'backbone' }),
  layer('head_pool', 'GlobalAveragePooling2D', 0, 0, { origin: 'head', outputShape: [8] }),
  layer('head_dense', 'Dense', 27, 0, { origin: 'head', outputShape: [3] }),
];

function input(patch: Partial<PytorchRecipeInput> = {}): PytorchRecipeInput {
  return {
    studio: { name: 'Transfer Studio', version: '0.1.0' },
    exportedAt: new Date('2026-12-01T12:00:00.000Z'),
    model: { name: 'tiny', label: 'Imported: model.json', sourceHash: 'ab'.repeat(32) },
    inputShape: { height: 8, width: 8, channels: 3 },
    preprocessing: { range: [-1, 1], resize: 'center-crop' },
    cutLayer: 'backbone',
    head: { pooling: 'avg', hiddenUnits: 0, dropout: 0 },
    classNames: ['cat', 'dog', 'owl'],
    layers,
    freezePlan: { conv1: true, bn1: true, conv2: false },
    batchNormOverrides: { bn1: 'train-stats', conv2: 'inference', elsewhere: 'inference' },
    config: { epochs: 7, batchSize: 4, learningRate: 0.001, seed: 3 },
    images: [
      { path: 'pets/cat/a.png', className: 'cat', hash: '01' },
      { path: 'more/cat/a.png', className: 'cat', hash: '02' },
      { path: 'dog/b.jpg', className: 'dog', hash: '03' },
      { path: 'owl/c:1.png', className: 'owl' },
    ],
    split: { seed: 42, validationFraction: 0.25, testFraction: 0.25, train: [0, 2], validation: [1], test: [3] },
    ...patch,
  };
}

describe('buildPytorchRecipe', () => {
  it('states the format, the model files and the settings verbatim', () => {
    const recipe = buildPytorchRecipe(input());
    expect(recipe).toMatchObject({
      format: 'transfer-studio-recipe',
      version: 1,
      studio: { name: 'Transfer Studio', version: '0.1.0' },
      exportedAt: '2026-12-01T12:00:00.000Z',
      model: { name: 'tiny', sourceHash: 'ab'.repeat(32), topology: 'model.json', weights: 'weights.bin' },
      inputShape: { height: 8, width: 8, channels: 3 },
      preprocessing: { range: [-1, 1], resize: 'center-crop' },
      cut: 'backbone',
      classNames: ['cat', 'dog', 'owl'],
    });
    expect(JSON.parse(JSON.stringify(recipe))).toEqual(recipe);
  });

  it('has a plan entry for every row, head layers trained, in model order', () => {
    const recipe = buildPytorchRecipe(input());
    expect(Object.entries(recipe.freezePlan)).toEqual([
      ['conv1', true],
      ['bn1', true],
      ['conv2', false],
      ['head_pool', false],
      ['head_dense', false],
    ]);
  });

  it('freezes layers at multiplier 0 and counts like Keras under the plan it states', () => {
    const recipe = buildPytorchRecipe(
      input({ freezePlan: { conv1: false }, config: { epochs: 1, batchSize: 4, learningRate: 0.01, seed: 1, rateMultipliers: { conv2: 0, bn1: 0.5 } } }),
    );
    expect(recipe.freezePlan).toMatchObject({ conv1: false, bn1: false, conv2: true });
    expect(recipe.counts).toEqual({ trainable: 224 + 16 + 27, nonTrainable: 16 + 584 });
    expect(buildPytorchRecipe(input()).counts).toEqual({ trainable: 584 + 27, nonTrainable: 224 + 32 });
  });

  it('keeps BN overrides of BatchNormalization layers of the transfer model only', () => {
    expect(buildPytorchRecipe(input()).batchNormOverrides).toEqual({ bn1: 'train-stats' });
  });

  it('fills the config with the defaults the worker applies', () => {
    expect(buildPytorchRecipe(input()).config).toEqual({
      epochs: 7,
      batchSize: 4,
      learningRate: 0.001,
      seed: 3,
      optimizer: 'adam',
      schedule: 'constant',
      earlyStopping: null,
      unfreezeSchedule: [],
      rateMultipliers: {},
      augmentation: null,
      fromPretrained: true,
    });
    const resolved = resolvedRecipeConfig({ epochs: 100, batchSize: 5, learningRate: 0.1, seed: 1, earlyStopping: { patience: 10 }, epochsWithoutCache: 10 });
    expect(resolved).not.toHaveProperty('epochsWithoutCache');
    expect(resolved.earlyStopping).toEqual({ patience: 10 });
  });

  it('names each image by class folder and file name, made safe and unique, with its hash and subset', () => {
    const { split } = buildPytorchRecipe(input());
    expect(split).toEqual({
      seed: 42,
      validationFraction: 0.25,
      testFraction: 0.25,
      files: [
        { path: 'cat/a.png', label: 'cat', sha256: '01', subset: 'train' },
        { path: 'cat/a (2).png', label: 'cat', sha256: '02', subset: 'validation' },
        { path: 'dog/b.jpg', label: 'dog', sha256: '03', subset: 'train' },
        { path: 'owl/c_1.png', label: 'owl', sha256: null, subset: 'test' },
      ],
    });
    expect(
      recipeImagePaths([
        { path: 'x/y/Cat.PNG', className: 'a' },
        { path: 'cat.png', className: 'a' },
      ]),
    ).toEqual(['a/Cat.PNG', 'a/cat (2).png']);
  });

  it.each([
    ['a cut not among the rows', { cutLayer: 'nope' }, /cut layer 'nope'/],
    ['an image of an unknown class', { classNames: ['cat', 'dog'] }, /'owl\/c:1.png' is of class 'owl'/],
    [
      'an index twice',
      { split: { seed: 1, validationFraction: 0, testFraction: 0, train: [0, 1, 2, 3], validation: [3], test: [] } },
      /both 'train' and 'validation'/,
    ],
    ['an image left out', { split: { seed: 1, validationFraction: 0, testFraction: 0, train: [0, 1, 2], validation: [], test: [] } }, /leaves out image 3/],
    [
      'an index out of range',
      { split: { seed: 1, validationFraction: 0, testFraction: 0, train: [0, 1, 2, 3, 4], validation: [], test: [] } },
      /image 4; there are 4/,
    ],
  ])('refuses %s', (_, patch, message) => {
    expect(() => buildPytorchRecipe(input(patch as Partial<PytorchRecipeInput>))).toThrow(message);
  });
});
