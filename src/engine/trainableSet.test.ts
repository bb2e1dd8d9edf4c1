import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyFreezePlan } from './freeze';
import { createTinyModel } from './testing/tinyModel';
import { createTrainableSet, optimizedVariables } from './trainableSet';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = { epochs: 1, batchSize: 4, learningRate: 0.5, seed: 1, optimizer: 'sgd' as const };
const layerOf = (v: tf.Variable) => v.name.split('/')[0];

describe('a trainable set', () => {
  it('holds the trainable variables (multiplier 0 left out) and is null when nothing is left', () => {
    const model = createTinyModel();
    applyFreezePlan(model, { conv1: true, bn1: true }, new Set());
    const set = createTrainableSet(model, { ...base, rateMultipliers: { classifier: 0 } }, 0.5)!;
    expect([...new Set(set.variables.map(layerOf))]).toEqual(['conv2', 'bn2']);
    expect(optimizedVariables(model, { rateMultipliers: { classifier: 0 } }).map((v) => v.name.split('/')[0])).toEqual(['conv2', 'conv2', 'bn2', 'bn2']);
    set.dispose();
    applyFreezePlan(model, { conv1: true, bn1: true, conv2: true, bn2: true, classifier: true }, new Set());
    expect(createTrainableSet(model, base, 0.5)).toBeNull();
    model.dispose();
  });

  it('steps each variable at base rate × its multiplier, and setRate changes every optimizer', async () => {
    const x = tf.variable(tf.zeros([1]), true, 'ts_x/kernel');
    const y = tf.variable(tf.zeros([1]), true, 'ts_y/kernel');
    // A stand-in model: two one-weight layers named x and y.
    const model = {
      trainableWeights: [{ read: () => x }, { read: () => y }],
      layers: [
        { name: 'x', weights: [{ read: () => x }], getClassName: () => 'Dense' },
        { name: 'y', weights: [{ read: () => y }], getClassName: () => 'Dense' },
      ],
    } as unknown as tf.LayersModel;
    const set = createTrainableSet(model, { ...base, rateMultipliers: { y: 0.25 } }, 0.5)!;
    const ones = () => ({ [x.name]: tf.ones([1]), [y.name]: tf.ones([1]) });
    let grads = ones();
    set.applyGradients(grads);
    tf.dispose(Object.values(grads));
    expect([(await x.data())[0], (await y.data())[0]]).toEqual([-0.5, -0.125]);
    set.setRate(1);
    grads = ones();
    set.applyGradients(grads);
    tf.dispose(Object.values(grads));
    expect([(await x.data())[0], (await y.data())[0]]).toEqual([-1.5, -0.375]);
    set.dispose();
    tf.dispose([x, y]);
  });
});
