import * as tf from '@tensorflow/tfjs';
import type { InputShape, Preprocessing } from '../core/types';

/** A set of labelled images as the engine reads them: uint8 pixels and class indices. */
export interface ImageSet {
  /** count × height × width × channels uint8 pixels, row-major. */
  pixels: Uint8Array;
  /** count class indices in [0, numClasses). */
  labels: Int32Array;
  shape: InputShape;
}

/** Number of images in `set`. */
export function imageCount(set: ImageSet): number {
  return set.labels.length;
}

/**
 * Throws unless `model`'s one image input takes images of `shape`: a dimension
 * the model leaves open (null, as in [null, null, null, 3]) takes the size the
 * images were decoded at (the studio's inputShape); a fixed one must equal it.
 */
export function checkModelTakes(model: tf.LayersModel, shape: InputShape): void {
  const expected = model.inputs[0].shape.slice(1);
  const fed = [shape.height, shape.width, shape.channels];
  if (expected.length === 3 && expected.every((d, i) => d === null || d === fed[i])) return;
  const open = expected.includes(null) ? ' (? is any size)' : '';
  throw new Error(
    `The images are ${fed.join('×')}, but the model takes ${expected.map((d) => d ?? '?').join('×')}${open}. Decode them at the model's input size.`,
  );
}

/**
 * Builds the [b, H, W, C] float32 input of the images at `indices`, mapped
 * from uint8 to `preprocessing.range`, and their [b, numClasses] one-hot labels.
 * `transform`, when given, maps each source image's uint8 pixels (one image
 * of `set.shape`) before scaling, e.g. augmentation. The caller disposes both.
 */
export function makeBatch(
  set: ImageSet,
  indices: ArrayLike<number>,
  numClasses: number,
  preprocessing: Preprocessing,
  transform?: (pixels: Uint8Array) => Uint8Array,
): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const { height, width, channels } = set.shape;
  const size = height * width * channels;
  const [low, high] = preprocessing.range;
  const scale = (high - low) / 255;
  const values = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let row = 0; row < indices.length; row++) {
    const index = indices[row];
    const stored = set.pixels.subarray(index * size, (index + 1) * size);
    const source = transform ? transform(stored) : stored;
    const offset = row * size;
    for (let i = 0; i < size; i++) values[offset + i] = source[i] * scale + low;
    labels[row] = set.labels[index];
  }
  const xs = tf.tensor4d(values, [indices.length, height, width, channels]);
  const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses).toFloat() as tf.Tensor2D);
  return { xs, ys };
}

/** Mean categorical cross-entropy of softmax `probs` against one-hot `ys` (probabilities clipped as Keras does). */
export function crossEntropy(ys: tf.Tensor, probs: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.metrics.categoricalCrossentropy(ys, probs).mean() as tf.Scalar);
}

/** Number of rows whose arg-max prediction equals the label, as an int32 scalar. */
export function countCorrect(ys: tf.Tensor, probs: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.equal(tf.argMax(probs, -1), tf.argMax(ys, -1)).sum() as tf.Scalar);
}
