import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../batches';
import type { InputShape } from '../../core/types';

/** The tiny backbone both test models share: conv → BN → relu → conv (stride 2) → BN → relu, seeded. */
function tinyBackbone(
  input: tf.SymbolicTensor,
  seed: number,
): { x: tf.SymbolicTensor; init: (offset: number) => ReturnType<typeof tf.initializers.glorotUniform> } {
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: seed + offset });
  let x = tf.layers
    .conv2d({ filters: 3, kernelSize: 3, padding: 'same', useBias: false, name: 'conv1', kernelInitializer: init(1) })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'relu1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'conv2', kernelInitializer: init(2) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu', name: 'relu2' }).apply(x) as tf.SymbolicTensor;
  return { x, init };
}

/**
 * A tiny pretrained-like model for tests: 8×8×1 input, conv → BN → relu →
 * conv → BN → relu → flatten → dense classifier. Seeded, so every test run
 * starts from the same weights.
 */
export function createTinyModel(seed = 7): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 1], name: 'input' });
  const { x, init } = tinyBackbone(input, seed);
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, activation: 'softmax', name: 'classifier', kernelInitializer: init(3) }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'tiny' });
}

/**
 * The tiny model with open height and width ([null, null, 3] input, as a
 * Keras application saved with `input_shape=(None, None, 3)`): the same
 * backbone, then global average pooling → dense classifier, so it runs on
 * images of any size. Seeded like createTinyModel.
 */
export function createFlexibleTinyModel(seed = 7): tf.LayersModel {
  const input = tf.input({ shape: [null, null, 3] as unknown as number[], name: 'input' });
  const { x, init } = tinyBackbone(input, seed);
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, activation: 'softmax', name: 'classifier', kernelInitializer: init(3) }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'tiny_flexible' });
}

/**
 * `count` images of `shape` (8×8×1 unless told) of `numClasses` learnable
 * classes: class k has a bright band in row block k, plus seeded noise.
 */
export function createTinyImages(count: number, numClasses: number, seed = 1, shape: InputShape = { height: 8, width: 8, channels: 1 }): ImageSet {
  let state = seed >>> 0;
  const noise = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const { height, width, channels } = shape;
  const size = height * width * channels;
  const pixels = new Uint8Array(count * size);
  const labels = new Int32Array(count);
  const band = Math.max(1, Math.floor(height / numClasses));
  for (let i = 0; i < count; i++) {
    const label = i % numClasses;
    labels[i] = label;
    for (let p = 0; p < size; p++) {
      const row = Math.floor(p / (width * channels));
      const bright = row >= label * band && row < (label + 1) * band;
      pixels[i * size + p] = Math.round((bright ? 180 : 30) + noise() * 60);
    }
  }
  return { pixels, labels, shape: { height, width, channels } };
}

/** Copies of every weight of `model`, by variable name, as raw bytes. */
export async function snapshotWeights(model: tf.LayersModel): Promise<Map<string, Float32Array>> {
  const snapshot = new Map<string, Float32Array>();
  for (const weight of model.weights) {
    snapshot.set(weight.name, Float32Array.from((await weight.read().data()) as Float32Array));
  }
  return snapshot;
}

/** True when the two arrays hold the same bits (so NaN equals NaN and -0 differs from 0). */
export function bitIdentical(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.every((v, i) => v === ub[i]);
}
