import { describe, expect, it } from 'vitest';
import { countParams } from './params';
import {
  fineTuneTopPlan,
  freezeEarlyPlan,
  fullFineTunePlan,
  headOnlyPlan,
  matchPreset,
  median,
  paramRange,
  presetBlocks,
  presetPlan,
  recommendPreset,
  type PresetChoice,
} from './presets';
import type { FreezePlan, LayerInfo } from './types';

function layer(name: string, className = 'Conv2D', extra: Partial<LayerInfo> = {}): LayerInfo {
  const params = /Activation|Pooling|Flatten|Padding|Add/.test(className) ? 0 : 10;
  return {
    name,
    className,
    outputShape: [4, 4, 8],
    trainableParams: params,
    nonTrainableParams: 0,
    frozenInSource: false,
    origin: 'pretrained',
    parent: null,
    ...extra,
  };
}
const head = [layer('head_pool', 'GlobalAveragePooling2D', { origin: 'head' }), layer('head_dense', 'Dense', { origin: 'head' })];

/** The tiny test model's rows (src/engine/testing/tinyModel.ts) up to its flatten cut, then a head. */
const tiny: LayerInfo[] = [
  layer('conv1'),
  layer('bn1', 'BatchNormalization'),
  layer('relu1', 'Activation'),
  layer('conv2'),
  layer('bn2', 'BatchNormalization'),
  layer('relu2', 'Activation'),
  layer('flatten', 'Flatten'),
  ...head,
];

/** MobileNetV2's rows up to out_relu: a stem, expanded_conv, block_1 … block_16 (with an Add in most), the top conv. */
function mobileNetV2Like(): LayerInfo[] {
  const rows = [layer('Conv1_pad', 'ZeroPadding2D'), layer('Conv1'), layer('bn_Conv1', 'BatchNormalization'), layer('Conv1_relu', 'ReLU')];
  rows.push(
    layer('expanded_conv_depthwise', 'DepthwiseConv2D'),
    layer('expanded_conv_depthwise_BN', 'BatchNormalization'),
    layer('expanded_conv_project'),
    layer('expanded_conv_project_BN', 'BatchNormalization'),
  );
  for (let n = 1; n <= 16; n++) {
    rows.push(layer(`block_${n}_expand`), layer(`block_${n}_expand_BN`, 'BatchNormalization'), layer(`block_${n}_depthwise`, 'DepthwiseConv2D'));
    rows.push(layer(`block_${n}_project`), layer(`block_${n}_project_BN`, 'BatchNormalization'));
    if (n % 3 !== 0) rows.push(layer(`block_${n}_add`, 'Add'));
  }
  rows.push(layer('Conv_1'), layer('Conv_1_bn', 'BatchNormalization'), layer('out_relu', 'ReLU'));
  return [...rows, ...head];
}

const frozenNames = (plan: FreezePlan) => Object.keys(plan).filter((name) => plan[name]);
const trainedNames = (plan: FreezePlan) => Object.keys(plan).filter((name) => !plan[name]);

describe('presetBlocks', () => {
  it('a plain conv stack: one block per layer with weights, BN and parameter-free layers join the one before', () => {
    expect(presetBlocks(tiny)).toEqual([
      { label: 'conv1', layers: ['conv1', 'bn1', 'relu1'] },
      { label: 'conv2', layers: ['conv2', 'bn2', 'relu2', 'flatten'] },
    ]);
  });

  it('MobileNetV2: the stem, expanded_conv, 16 blocks; the top conv goes with block_16; the head is left out', () => {
    const blocks = presetBlocks(mobileNetV2Like());
    expect(blocks.map((b) => b.label)).toEqual(['stem', 'expanded_conv', ...Array.from({ length: 16 }, (_, i) => `block_${i + 1}`)]);
    expect(blocks[0].layers).toEqual(['Conv1_pad', 'Conv1', 'bn_Conv1', 'Conv1_relu']);
    expect(blocks[17].layers.slice(-3)).toEqual(['Conv_1', 'Conv_1_bn', 'out_relu']);
    expect(blocks.flatMap((b) => b.layers)).toEqual(
      mobileNetV2Like()
        .filter((l) => l.origin === 'pretrained')
        .map((l) => l.name),
    );
  });

  it('a nested model is one block', () => {
    const rows = [layer('a', 'Conv2D', { parent: 'backbone' }), layer('b', 'Conv2D', { parent: 'backbone' }), layer('gap', 'GlobalAveragePooling2D'), ...head];
    expect(presetBlocks(rows)).toEqual([{ label: 'backbone', layers: ['a', 'b', 'gap'] }]);
    expect(paramRange(presetBlocks(rows))).toBeNull();
  });
});

describe('preset plans', () => {
  const rows = mobileNetV2Like();
  const blocks = presetBlocks(rows);
  const pretrained = rows.filter((l) => l.origin === 'pretrained').map((l) => l.name);

  it.each([
    ['head only', headOnlyPlan(blocks), pretrained, []],
    ['full fine-tune', fullFineTunePlan(blocks), [], pretrained],
    ['freeze early 2', freezeEarlyPlan(blocks, 2), [...blocks[0].layers, ...blocks[1].layers], blocks.slice(2).flatMap((b) => b.layers)],
    ['fine-tune top 2', fineTuneTopPlan(blocks, 2), blocks.slice(0, 16).flatMap((b) => b.layers), [...blocks[16].layers, ...blocks[17].layers]],
  ])('%s freezes exactly the expected layers and names every pretrained one', (_, plan, frozen, trained) => {
    expect(frozenNames(plan)).toEqual(frozen);
    expect(trainedNames(plan)).toEqual(trained);
    expect(plan).not.toHaveProperty('head_dense');
  });

  it('fine-tune top 2 trains block_15, block_16, the top conv and the head, by parameter count', () => {
    const plan = fineTuneTopPlan(blocks, 2);
    const expected = [...blocks[16].layers, ...blocks[17].layers, 'head_pool', 'head_dense'].reduce(
      (sum, name) => sum + rows.find((l) => l.name === name)!.trainableParams,
      0,
    );
    expect(countParams(rows, plan).trainable).toBe(expected);
    expect(blocks[16].label).toBe('block_15');
  });

  it.each([0, 18, -1, 1.5, Number.NaN])('rejects %s blocks with a message quoting the value and the range', (value) => {
    expect(() => freezeEarlyPlan(blocks, value)).toThrow(new RegExp(`is ${value}.*18 block\\(s\\); use a whole number from 1 to 17`));
    expect(() => fineTuneTopPlan(blocks, value)).toThrow(/trained top blocks/);
  });

  it('the tiny model: head only freezes both blocks, freeze early 1 only the first', () => {
    const tinyBlocks = presetBlocks(tiny);
    expect(countParams(tiny, headOnlyPlan(tinyBlocks)).trainable).toBe(10); // the head's Dense
    expect(frozenNames(freezeEarlyPlan(tinyBlocks, 1))).toEqual(['conv1', 'bn1', 'relu1']);
    expect(fineTuneTopPlan(tinyBlocks, 1)).toEqual(freezeEarlyPlan(tinyBlocks, 1));
  });
});

describe('matchPreset', () => {
  const rows = mobileNetV2Like();
  const blocks = presetBlocks(rows);

  const choices: PresetChoice[] = [
    { preset: 'head-only', param: 0 },
    { preset: 'full', param: 0 },
    ...[1, 5, 9].map((param) => ({ preset: 'freeze-early' as const, param })),
    ...[1, 2, 8, 17].map((param) => ({ preset: 'fine-tune-top' as const, param })),
  ];

  it.each(choices)('round trip with the preset preferred: %o', (choice) => {
    expect(matchPreset(presetPlan(blocks, choice), rows, blocks, choice.preset)).toEqual(choice);
  });

  it.each([
    [
      { preset: 'freeze-early', param: 9 },
      { preset: 'freeze-early', param: 9 },
    ],
    [
      { preset: 'freeze-early', param: 10 },
      { preset: 'fine-tune-top', param: 8 },
    ],
    [
      { preset: 'fine-tune-top', param: 2 },
      { preset: 'fine-tune-top', param: 2 },
    ],
    [
      { preset: 'fine-tune-top', param: 17 },
      { preset: 'freeze-early', param: 1 },
    ],
  ] as [PresetChoice, PresetChoice][])('without a preference, %o reads as %o (more than half frozen: fine-tune top)', (choice, read) => {
    expect(matchPreset(presetPlan(blocks, choice), rows)).toEqual(read);
  });

  it('the other prefix preset when preferred; head only and full whatever is preferred', () => {
    expect(matchPreset(fineTuneTopPlan(blocks, 2), rows, blocks, 'freeze-early')).toEqual({ preset: 'freeze-early', param: 16 });
    expect(matchPreset(headOnlyPlan(blocks), rows, blocks, 'fine-tune-top')).toEqual({ preset: 'head-only', param: 0 });
    expect(matchPreset({}, rows, blocks, 'freeze-early')).toEqual({ preset: 'full', param: 0 });
  });

  it.each([
    ['one layer of a frozen block unfrozen', { ...fineTuneTopPlan(blocks, 2), block_3_expand: false }],
    ['one layer of a trained block frozen', { ...fineTuneTopPlan(blocks, 2), block_16_project: true }],
    ['a frozen block after a trained one', { ...fullFineTunePlan(blocks), ...Object.fromEntries(blocks[4].layers.map((n) => [n, true])) }],
    ['the top conv alone trained', { ...headOnlyPlan(blocks), Conv_1: false }],
  ])('custom: %s', (_, plan) => {
    expect(matchPreset(plan, rows)).toBe('custom');
  });

  it('layers missing from the plan count as trained; head layers never matter', () => {
    expect(matchPreset({ head_dense: true }, rows)).toEqual({ preset: 'full', param: 0 });
    const plan = headOnlyPlan(blocks);
    delete plan.out_relu;
    expect(matchPreset(plan, rows)).toBe('custom');
  });

  it('the tiny model round-trips every preset', () => {
    const tinyBlocks = presetBlocks(tiny);
    expect(matchPreset(headOnlyPlan(tinyBlocks), tiny)).toEqual({ preset: 'head-only', param: 0 });
    expect(matchPreset(freezeEarlyPlan(tinyBlocks, 1), tiny, tinyBlocks, 'freeze-early')).toEqual({ preset: 'freeze-early', param: 1 });
    expect(matchPreset(fineTuneTopPlan(tinyBlocks, 1), tiny, tinyBlocks, 'fine-tune-top')).toEqual({ preset: 'fine-tune-top', param: 1 });
    expect(matchPreset(fullFineTunePlan(tinyBlocks), tiny)).toEqual({ preset: 'full', param: 0 });
    expect(matchPreset({ conv1: true }, tiny)).toBe('custom');
  });
});

describe('recommendPreset', () => {
  it.each([
    [42, 3, 18, 'head-only', 0, '42 images per class (3 classes): train the head only — fine-tuning the backbone on so little data tends to overfit.'],
    [99, 10, 18, 'head-only', 0, '99 images per class'],
    [
      100,
      10,
      18,
      'fine-tune-top',
      5,
      '100 images per class (10 classes): fine-tune the top 5 blocks of 18 — enough data to adapt the last, most task-specific features, too little to retrain the early ones.',
    ],
    [200, 5, 3, 'fine-tune-top', 1, '200 images per class (5 classes): fine-tune the top 1 block of 3 —'],
    [999, 2, 2, 'fine-tune-top', 1, 'top 1 block of 2'],
    [
      1000,
      20,
      18,
      'freeze-early',
      6,
      '1,000 images per class (20 classes): freeze the first 6 blocks of 18 and fine-tune the rest — enough data to adapt most of the network, while the early blocks keep their generic edge and texture filters.',
    ],
    [1000, 20, 2, 'freeze-early', 1, 'freeze the first 1 block of 2'],
    [9999, 2, 18, 'freeze-early', 6, '9,999 images per class'],
    [10000, 2, 18, 'full', 0, '10,000 images per class (2 classes): full fine-tune — with this much data every layer can adapt without overfitting.'],
    [500, 4, 1, 'head-only', 0, 'this model has no blocks to fine-tune separately'],
    [20000, 4, 1, 'full', 0, 'full fine-tune'],
    [50, 1, 18, 'head-only', 0, '1 class with images so far'],
    [0, 0, 18, 'head-only', 0, '0 classes with images so far'],
  ])('%i per class, %i classes, %i blocks → %s %i', (imagesPerClass, classCount, blockCount, preset, param, reason) => {
    const got = recommendPreset({ imagesPerClass, classCount, blockCount });
    expect(got.preset).toBe(preset);
    expect(got.param).toBe(param);
    expect(got.reason).toContain(reason);
  });

  it.each([
    [
      'auto on (the default)',
      undefined,
      'With “Auto” beside Epochs (the default) the head is trained to convergence on cached features: up to 100 epochs, stopping when the validation loss stops improving.',
    ],
    [
      'auto off',
      { auto: false, epochs: 10 },
      'Tick “Auto” beside Epochs to train the head to convergence on cached features: 10 epochs can be too few steps on little data.',
    ],
    [
      'no cache',
      { auto: true, epochs: 4, cacheBlocker: 'augmentation is on (every epoch sees new pixels)' },
      'The feature cache is off: augmentation is on (every epoch sees new pixels); the 4 epochs as set run the whole model, so raise Epochs if the head has not converged.',
    ],
  ])('head only on little data says how the head gets trained enough: %s', (_, training, sentence) => {
    expect(recommendPreset({ imagesPerClass: 12, classCount: 2, blockCount: 17, training }).reason).toBe(
      `12 images per class (2 classes): train the head only — fine-tuning the backbone on so little data tends to overfit. ${sentence}`,
    );
    expect(recommendPreset({ imagesPerClass: 500, classCount: 2, blockCount: 1, training }).reason).toContain(sentence);
    // Other presets fine-tune layers below the head: nothing about the cache.
    expect(recommendPreset({ imagesPerClass: 500, classCount: 2, blockCount: 17, training }).reason).not.toContain('cached');
  });

  it('the recommended parameter is always valid for the model', () => {
    for (let blockCount = 0; blockCount <= 40; blockCount++) {
      for (const imagesPerClass of [10, 150, 800, 1500, 5000, 20000]) {
        const got = recommendPreset({ imagesPerClass, classCount: 3, blockCount });
        if (got.preset === 'freeze-early' || got.preset === 'fine-tune-top') {
          expect(got.param).toBeGreaterThanOrEqual(1);
          expect(got.param).toBeLessThanOrEqual(blockCount - 1);
        }
      }
    }
  });

  it('median: odd, even, empty', () => {
    expect(median([5, 1, 300])).toBe(5);
    expect(median([40, 10, 20, 1000])).toBe(30);
    expect(median([])).toBe(0);
  });
});
