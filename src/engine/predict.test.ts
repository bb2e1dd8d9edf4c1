import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeBatch, type ImageSet } from './batches';
import { buildTransferModel, defaultCutLayer } from './head';
import { predictProbabilities } from './predict';
import { createFlexibleTinyModel, createTinyImages, createTinyModel } from './testing/tinyModel';
import type { InputShape, Preprocessing } from '../core/types';

const preprocessing: Preprocessing = { range: [-1, 1], resize: 'stretch' };
const rgb = (height: number, width: number): InputShape => ({ height, width, channels: 3 });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** What the model itself says for `set`, in one batch, as [count × classes]. */
async function direct(model: tf.LayersModel, set: ImageSet, numClasses: number): Promise<Float32Array> {
  const { xs, ys } = makeBatch(set, Array.from(set.labels.keys()), numClasses, preprocessing);
  const probs = model.predict(xs) as tf.Tensor;
  const values = (await probs.data()) as Float32Array;
  tf.dispose([xs, ys, probs]);
  return values;
}

describe('predictProbabilities', () => {
  it.each([
    ['8×8×3', rgb(8, 8)],
    ['12×10×3', rgb(12, 10)],
  ])('gives probabilities of %s images from a transfer model whose input is [null, null, 3], leaking nothing', async (_, shape) => {
    const base = createFlexibleTinyModel();
    const transfer = buildTransferModel(base, defaultCutLayer(base), 3, 11);
    expect(transfer.model.inputs[0].shape).toEqual([null, null, null, 3]);
    const images = createTinyImages(7, 3, 4, shape);
    const before = tf.memory().numTensors;
    const { probabilities, numClasses } = await predictProbabilities(transfer.model, images.pixels, images.shape, preprocessing, 3);
    expect(tf.memory().numTensors).toBe(before);
    expect(numClasses).toBe(3);
    expect(probabilities).toHaveLength(7 * 3);
    for (let row = 0; row < 7; row++) {
      const sum = probabilities[row * 3] + probabilities[row * 3 + 1] + probabilities[row * 3 + 2];
      expect(sum).toBeCloseTo(1, 5);
    }
    // Batches of 3 give what one batch of all 7 gives.
    const expected = await direct(transfer.model, images, 3);
    probabilities.forEach((p, i) => expect(p).toBeCloseTo(expected[i], 6));
    transfer.model.dispose();
  });

  it.each([
    ['fixed 8×8×1 model, 8×8×3 images', createTinyModel, rgb(8, 8), "The images are 8×8×3, but the model takes 8×8×1. Decode them at the model's input size."],
    [
      'fixed 8×8×1 model, 6×8×1 images',
      createTinyModel,
      { height: 6, width: 8, channels: 1 },
      "The images are 6×8×1, but the model takes 8×8×1. Decode them at the model's input size.",
    ],
    [
      'open ?×?×3 model, 8×8×1 images',
      createFlexibleTinyModel,
      { height: 8, width: 8, channels: 1 },
      "The images are 8×8×1, but the model takes ?×?×3 (? is any size). Decode them at the model's input size.",
    ],
  ])('refuses images a fixed dimension of the model does not take: %s', async (_, create, shape, message) => {
    const model = create();
    const images = createTinyImages(2, 2, 1, shape);
    const before = tf.memory().numTensors;
    await expect(predictProbabilities(model, images.pixels, images.shape, preprocessing, 4)).rejects.toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
