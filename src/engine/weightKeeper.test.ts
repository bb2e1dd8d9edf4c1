import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyFreezePlan, trainableVariables } from './freeze';
import { guardFrozenLayers, setBatchNormOverrides } from './frozenLayers';
import { createTinyModel } from './testing/tinyModel';
import { allFinite, createWeightKeeper } from './weightKeeper';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const names = (values: Map<tf.Variable, unknown>) => [...values.keys()].map((v) => v.name.replace(/_\d+$/, '')).sort();

describe('the weight keeper', () => {
  it('covers the trainable variables and the statistics of layers in training mode, never a frozen layer', async () => {
    const model = createTinyModel();
    guardFrozenLayers(model);
    applyFreezePlan(model, { conv1: true, bn1: true, conv2: true, classifier: true }, new Set());
    setBatchNormOverrides(model, { bn1: 'train-stats' });
    const keeper = createWeightKeeper();
    await keeper.track(model, trainableVariables(model));
    expect(names(keeper.lastGood.values)).toEqual([
      'bn1/moving_mean',
      'bn1/moving_variance',
      'bn2/beta',
      'bn2/gamma',
      'bn2/moving_mean',
      'bn2/moving_variance',
    ]);
    model.dispose();
  });

  it('keeps the best snapshot by validation loss and restores it bit for bit', async () => {
    const v = tf.variable(tf.tensor1d([1, 2]), true, 'keeper_v');
    const model = {
      layers: [{ name: 'l', getClassName: () => 'Dense', trainable: true, nonTrainableWeights: [], weights: [{ read: () => v }] }],
    } as unknown as tf.LayersModel;
    const keeper = createWeightKeeper();
    await keeper.track(model, [v]);
    const at = async (epoch: number, value: number[], loss: number) => {
      v.assign(tf.tensor1d(value));
      const snapshot = await keeper.capture(epoch);
      snapshot.validation = { loss, accuracy: 0 };
      return keeper.accept(snapshot);
    };
    expect(await at(1, [3, 4], 0.5)).toBe(true);
    expect(await at(2, [5, 6], 0.7)).toBe(false);
    expect(keeper.best?.epoch).toBe(1);
    expect(keeper.lastGood.epoch).toBe(2);
    keeper.restore(keeper.best!);
    expect(Array.from(await v.data())).toEqual([3, 4]);
    expect(await at(3, [Number.NaN, 0], 0.1)).toBe(true);
    expect(allFinite(keeper.lastGood)).toBe(false);
    v.dispose();
  });
});
