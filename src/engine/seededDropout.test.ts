import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededDropout } from './seededDropout';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 64 units at rate 0.5: two independent masks agree by chance with probability 2^-64. */
const ONES: [number, number] = [8, 8];

/** Keep (1) / drop (0) pattern of one call of `layer` on ones. */
async function mask(layer: tf.layers.Layer, training: boolean): Promise<number[]> {
  const ones = tf.ones(ONES);
  const y = layer.apply(ones, { training }) as tf.Tensor;
  const values = await y.data();
  tf.dispose([ones, y]);
  return Array.from(values, (v) => (v === 0 ? 0 : 1));
}

async function trainingMasks(seed: number, calls: number): Promise<number[][]> {
  const layer = seededDropout({ name: 'drop', rate: 0.5 }, seed);
  const out: number[][] = [];
  for (let i = 0; i < calls; i++) out.push(await mask(layer, true));
  return out;
}

describe('seededDropout', () => {
  it('draws a new mask on each training-mode call, each one a real mask', async () => {
    const [a, b, c] = await trainingMasks(3, 3);
    expect(b).not.toEqual(a);
    expect(c).not.toEqual(b);
    expect(c).not.toEqual(a);
    for (const m of [a, b, c]) {
      const kept = m.filter((v) => v === 1).length;
      expect(kept).toBeGreaterThan(16); // rate 0.5 of 64: far from all dropped or all kept
      expect(kept).toBeLessThan(48);
    }
  });

  it('gives the same sequence for the same seed; adjacent seeds do not share masks one call apart', async () => {
    const s3 = await trainingMasks(3, 3);
    expect(await trainingMasks(3, 3)).toEqual(s3);
    const s4 = await trainingMasks(4, 3);
    expect(s4[0]).not.toEqual(s3[0]);
    // `seed + call` would make seed 4's first mask seed 3's second.
    expect(s4[0]).not.toEqual(s3[1]);
    expect(s4[1]).not.toEqual(s3[2]);
  });

  it('passes the input through in inference mode without advancing the sequence', async () => {
    const layer = seededDropout({ name: 'drop', rate: 0.5 }, 3);
    const first = await mask(layer, true);
    const x = tf.tensor2d([[1, 2, 3]]);
    const y = layer.apply(x, { training: false }) as tf.Tensor;
    expect(Array.from(await y.data())).toEqual([1, 2, 3]);
    tf.dispose([x, y]);
    expect(await mask(layer, false)).toEqual(new Array(64).fill(1));
    const second = await mask(layer, true);
    expect([first, second]).toEqual(await trainingMasks(3, 2));
  });

  it("back-propagates through the forward call's own mask", async () => {
    const layer = seededDropout({ name: 'drop', rate: 0.5 }, 3);
    const ones = tf.ones(ONES);
    let forward: tf.Tensor | undefined;
    const grad = tf.grad((x: tf.Tensor) => {
      forward = tf.keep(layer.apply(x, { training: true }) as tf.Tensor);
      return forward.sum();
    })(ones);
    // On ones the output is mask / keep-probability, and so is d(sum)/dx.
    const [g, y] = await Promise.all([grad.data(), forward!.data()]);
    expect(Array.from(g)).toEqual(Array.from(y));
    expect(y.some((v) => v === 0) && y.some((v) => v === 2)).toBe(true);
    tf.dispose([ones, grad, forward!]);
  });

  it('leaves no seed on the layer between calls, so its config carries none, and leaks no tensor', async () => {
    const layer = seededDropout({ name: 'drop', rate: 0.25 }, 3);
    expect(layer.getClassName()).toBe('Dropout');
    const before = tf.memory().numTensors;
    await mask(layer, true);
    await mask(layer, true);
    expect(tf.memory().numTensors).toBe(before);
    expect(layer.getConfig()).toMatchObject({ name: 'drop', rate: 0.25 });
    expect(layer.getConfig().seed).toBeUndefined();
  });
});
