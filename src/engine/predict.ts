import * as tf from '@tensorflow/tfjs';
import { checkModelTakes, makeBatch, type ImageSet } from './batches';
import { inferFolded, releaseFrozenPrefixes } from './frozenPrefix';
import type { InputShape, Preprocessing } from '../core/types';

/**
 * Class probabilities of `count` uint8 images (`pixels`: count × H × W × C, HWC) from `model`, in
 * inference mode (Dropout off, BatchNorm on moving statistics), in batches of `batchSize`. Pixels are
 * mapped to `preprocessing.range` by training's own `makeBatch` (without augmentation). Returns [count × numClasses]
 * float32, row-major. Every tensor is disposed; values are read with `await data()`. A model dimension
 * left open (null, as in [null, null, null, 3]) takes the images' size; a fixed one that differs is an error.
 */
export async function predictProbabilities(
  model: tf.LayersModel,
  pixels: Uint8Array,
  shape: InputShape,
  preprocessing: Preprocessing,
  batchSize: number,
): Promise<{ probabilities: Float32Array; numClasses: number }> {
  const { height, width, channels } = shape;
  const size = height * width * channels;
  if (size <= 0 || pixels.length % size !== 0) {
    throw new Error(`Expected a multiple of ${height}×${width}×${channels} = ${size} pixel values, got ${pixels.length}.`);
  }
  checkModelTakes(model, shape);
  const outputShape = model.outputs[0].shape;
  const numClasses = outputShape[outputShape.length - 1] ?? 0;
  const count = pixels.length / size;
  const probabilities = new Float32Array(count * numClasses);
  // makeBatch is the training input path: the same uint8 → range mapping, no augmentation. Its labels are unused here.
  const set: ImageSet = { pixels, labels: new Int32Array(count), shape };
  const step = Math.max(1, Math.floor(batchSize));
  try {
    for (let start = 0; start < count; start += step) {
      const indices = Array.from({ length: Math.min(step, count - start) }, (_, i) => start + i);
      const { xs, ys } = makeBatch(set, indices, Math.max(numClasses, 1), preprocessing);
      const probs = tf.tidy(() => inferFolded(model, xs));
      tf.dispose([xs, ys]);
      try {
        probabilities.set((await probs.data()) as Float32Array, start * numClasses);
      } finally {
        probs.dispose();
      }
    }
  } finally {
    releaseFrozenPrefixes(); // the folded BatchNorm weights (engine/frozenPrefix.ts)
  }
  return { probabilities, numClasses };
}
