import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFastCpuKernels } from './cpuKernels';

/** Runs `f` with the stock kernels, then with the fast ones, and returns both results' values. */
async function stockAndFast(f: () => tf.Tensor | tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const run = async () => {
    const out = tf.tidy(f);
    const list = Array.isArray(out) ? out : [out];
    const values = await Promise.all(list.map(async (t) => Float32Array.from(await t.data())));
    tf.dispose(list);
    return values;
  };
  const stock = await run();
  const restore = useFastCpuKernels();
  try {
    return [stock, await run()];
  } finally {
    restore();
  }
}

const normal = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 1, 'float32', seed);

describe("fast cpu kernels give the stock kernels' float32 results, bit for bit", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each([
    ['same, stride 1', [2, 7, 6, 3], [3, 3, 3, 4], 1, 'same'],
    ['valid, stride 2', [2, 9, 9, 3], [3, 3, 3, 5], 2, 'valid'],
    ['same, stride 2, 3×2 filter', [1, 9, 8, 2], [3, 2, 2, 3], 2, 'same'],
  ] as const)('conv2d gradients, %s', async (_, xShape, wShape, stride, pad) => {
    const [stock, fast] = await stockAndFast(() => {
      const x = normal([...xShape], 1) as tf.Tensor4D;
      const w = normal([...wShape], 2) as tf.Tensor4D;
      return tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf
          .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)
          .square()
          .sum(),
      )([x, w]);
    });
    expect(fast).toEqual(stock);
  });

  it.each([
    ['2×2, stride 2', [2, 6, 6, 3], 2, 2, 'valid'],
    ['3×3, stride 2, overlapping, same', [1, 7, 5, 2], 3, 2, 'same'],
  ] as const)('maxPool gradient, %s', async (_, xShape, filter, stride, pad) => {
    const [stock, fast] = await stockAndFast(() => {
      // Rounded values make ties, which must go to the same position.
      const x = normal([...xShape], 3)
        .mul(2)
        .round() as tf.Tensor4D;
      return tf.grad((a: tf.Tensor) =>
        tf
          .maxPool(a as tf.Tensor4D, filter, stride, pad)
          .mul(normal([1], 4).add(1))
          .square()
          .sum(),
      )(x);
    });
    expect(fast).toEqual(stock);
  });

  it.each([
    [
      [2, 3, 4, 5],
      [3, 0, 1, 2],
    ],
    [
      [2, 3, 4],
      [2, 1, 0],
    ],
    [
      [5, 1, 3],
      [1, 2, 0],
    ],
    [[7], [0]],
  ])('transpose %j by %j', async (shape, perm) => {
    const [stock, fast] = await stockAndFast(() => tf.transpose(normal(shape, 5), perm));
    expect(fast).toEqual(stock);
  });

  it.each([
    [
      [1, 1, 1, 3],
      [2, 4, 5, 1],
    ],
    [
      [2, 3],
      [3, 2],
    ],
    [
      [2, 1, 3],
      [1, 4, 2],
    ],
  ])('tile %j by %j', async (shape, reps) => {
    const [stock, fast] = await stockAndFast(() => tf.tile(normal(shape, 6), reps));
    expect(fast).toEqual(stock);
  });

  it.each([
    [[2, 3, 4, 5], [0, 1, 2], false],
    [[2, 3, 4, 5], [1, 0], true],
    [[6, 5], 0, false],
    [[2, 3, 4], [0, 2], false],
    [[2, 3, 4], -1, true],
  ])('sum and mean of %j over axes %j (keepDims %s)', async (shape, axis, keepDims) => {
    const [stock, fast] = await stockAndFast(() => {
      const x = normal(shape, 10);
      return [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims)];
    });
    expect(fast).toEqual(stock);
  });

  it.each([
    [
      [2, 3, 3, 4],
      [2, 3, 3, 4],
    ],
    [[2, 3, 3, 4], []],
    [[4], [2, 3, 3, 4]],
    [
      [2, 1, 5],
      [1, 1, 5],
    ],
    [
      [1, 1, 1, 4],
      [2, 3, 3, 4],
    ],
    [
      [2, 3, 3, 4],
      [1, 1, 1, 4],
    ],
    [
      [1, 1, 4],
      [1, 1, 4],
    ],
    [
      [1, 3, 1],
      [2, 3, 4],
    ],
  ])('binary ops broadcasting %j with %j', async (aShape, bShape) => {
    const [stock, fast] = await stockAndFast(() => {
      const a = normal(aShape, 7);
      const b = normal(bShape, 8).add(3);
      return [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b), tf.sub(b, a), tf.div(b, a)];
    });
    expect(fast).toEqual(stock);
  });

  it('a training step of a conv → BN → ReLU → pool model ends with the same weights', async () => {
    const step = () => {
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [8, 8, 1],
            filters: 4,
            kernelSize: 3,
            padding: 'same',
            useBias: false,
            kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
          }),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      const optimizer = tf.train.sgd(0.1);
      const x = tf.randomUniform([6, 8, 8, 1], 0, 1, 'float32', 9);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
      optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
        false,
        model.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      const weights = model.getWeights().map((w) => w.clone());
      model.dispose();
      optimizer.dispose();
      return weights;
    };
    const [stock, fast] = await stockAndFast(step);
    expect(fast).toEqual(stock);
  });

  it('restores the stock kernels', () => {
    const before = tf.getKernel(tf.Transpose, 'cpu');
    useFastCpuKernels()();
    expect(tf.getKernel(tf.Transpose, 'cpu')).toBe(before);
  });
});
