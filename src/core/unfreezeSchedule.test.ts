import { describe, expect, it } from 'vitest';
import type { PresetBlock } from './presets';
import { layerMultipliers, sliceMultipliers, checkMultipliers } from './rateMultipliers';
import { gradualRecipe, inferenceModeForUnfrozen, resolveSchedule, twoPhaseRecipe } from './unfreezeSchedule';
import type { LayerInfo } from './types';

const blocks: PresetBlock[] = [
  { label: 'stem', layers: ['conv1', 'bn1'] },
  { label: 'block_1', layers: ['b1_conv', 'b1_bn'] },
  { label: 'block_2', layers: ['b2_conv', 'b2_bn'] },
  { label: 'block_3', layers: ['b3_conv', 'b3_bn'] },
  { label: 'block_4', layers: ['b4_conv', 'b4_bn', 'top_conv'] },
];

describe('schedule recipes', () => {
  it('two-phase: head for the first half, then the top quarter of the blocks at a tenth of the rate', () => {
    expect(twoPhaseRecipe(blocks, 10)).toEqual([{ epoch: 6, fromBlock: 'block_3', learningRateFactor: 0.1 }]);
    expect(twoPhaseRecipe(blocks, 3)).toEqual([{ epoch: 2, fromBlock: 'block_3', learningRateFactor: 0.1 }]);
    expect(twoPhaseRecipe(blocks, 1)).toEqual([]);
  });

  it('gradual: one more block from the top each epoch after the first, while epochs and blocks last', () => {
    expect(gradualRecipe(blocks, 4).map((s) => [s.epoch, s.fromBlock])).toEqual([
      [2, 'block_4'],
      [3, 'block_3'],
      [4, 'block_2'],
    ]);
    expect(gradualRecipe(blocks, 20).map((s) => s.fromBlock)).toEqual(['block_4', 'block_3', 'block_2', 'block_1', 'stem']);
  });
});

describe('resolveSchedule', () => {
  it('unfreezes the named block and every block above it, at the epoch counted from 0, with a label', () => {
    const resolved = resolveSchedule(
      blocks,
      [
        { epoch: 5, fromBlock: 'block_2', learningRateFactor: null },
        { epoch: 3, fromBlock: 'block_4', learningRateFactor: 0.1 },
      ],
      6,
    );
    expect(resolved.error).toBeNull();
    expect(resolved.steps).toEqual([
      { epoch: 2, unfreeze: ['b4_conv', 'b4_bn', 'top_conv'], learningRateFactor: 0.1, label: 'unfreeze block_4 · lr ×0.1' },
      { epoch: 4, unfreeze: ['b2_conv', 'b2_bn', 'b3_conv', 'b3_bn', 'b4_conv', 'b4_bn', 'top_conv'], label: 'unfreeze block_2 and up' },
    ]);
  });

  it('names the step and the value it refuses', () => {
    expect(resolveSchedule(blocks, [{ epoch: 1, fromBlock: 'stem', learningRateFactor: null }], 5).error).toBe(
      'Schedule step 1 starts at epoch 1, but the run has 5 epochs: use an epoch from 2 to 5 (epoch 1 trains with the plan as set).',
    );
    expect(resolveSchedule(blocks, [{ epoch: 2, fromBlock: 'block_9', learningRateFactor: null }], 5).error).toBe(
      "Schedule step 1 names block 'block_9', which this model (as cut) does not have; pick a block from the list.",
    );
    expect(resolveSchedule(blocks, [{ epoch: 2, fromBlock: 'stem', learningRateFactor: 0 }], 5).error).toMatch(
      /sets the learning-rate factor to 0; use a number above 0/,
    );
    expect(resolveSchedule(blocks, [{ epoch: 2, fromBlock: 'stem', learningRateFactor: null }], 1).error).toMatch(/raise the number of epochs to 2 or more/);
  });
});

describe('discriminative learning rates', () => {
  it('spreads multipliers geometrically from the lowest on the first block to 1 on the last', () => {
    const m = sliceMultipliers(blocks, 0.01);
    expect(m.stem).toBeCloseTo(0.01, 6);
    expect(m.block_1).toBeCloseTo(0.03162, 4);
    expect(m.block_2).toBeCloseTo(0.1, 6);
    expect(m.block_4).toBe(1);
    expect(sliceMultipliers([blocks[0]])).toEqual({ stem: 1 });
    expect(() => sliceMultipliers(blocks, 0)).toThrow('The lowest learning-rate multiplier is 0');
  });

  it('resolves to layer names, leaving 1s out, and checks values', () => {
    expect(layerMultipliers(blocks, { stem: 0, block_4: 1, block_3: 0.5 })).toEqual({ conv1: 0, bn1: 0, b3_conv: 0.5, b3_bn: 0.5 });
    expect(checkMultipliers({ stem: -1 })).toBe(
      "The learning-rate multiplier of block 'stem' is -1; use a number ≥ 0 (0 keeps the block still, 1 is the base rate).",
    );
    expect(checkMultipliers({ stem: 0 })).toBeNull();
  });
});

describe('BatchNorm in the Keras two-phase recipe (issue 11)', () => {
  const info = (name: string, className: string): LayerInfo => ({
    name,
    className,
    outputShape: [1],
    trainableParams: 1,
    nonTrainableParams: 0,
    frozenInSource: false,
    origin: 'pretrained',
    parent: null,
  });
  const layers = blocks.flatMap((b) => b.layers.map((name) => info(name, name.endsWith('_bn') ? 'BatchNormalization' : 'Conv2D')));

  it("keeps the BN layers of every block the recipe unfreezes in 'inference' mode, and no other", () => {
    const recipe = twoPhaseRecipe(blocks, 10); // unfreezes block_3 and up
    expect(inferenceModeForUnfrozen(blocks, layers, recipe)).toEqual({ b3_bn: 'inference', b4_bn: 'inference' });
    expect(inferenceModeForUnfrozen(blocks, layers, gradualRecipe(blocks, 3))).toEqual({ b4_bn: 'inference', b3_bn: 'inference' });
    expect(inferenceModeForUnfrozen(blocks, layers, [])).toEqual({});
  });
});
