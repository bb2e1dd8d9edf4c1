import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { batchNormTrainingCall, fitsClosedForm, normalizeInTraining, trainingBatchNorm } from './batchNormTraining';
import { guardFrozenLayers, setBatchNormOverrides } from './frozenLayers';
import { expectClose, values } from './testing/backendCompare';
import { prepareWasmInNode } from './testing/wasmNode';

beforeAll(async () => {
  await prepareWasmInNode();
});

afterEach(async () => {
  await tf.setBackend('cpu');
});

const EPSILON = 1e-3;
const BACKENDS = ['cpu', 'wasm'] as const;
/** A 4-D activation with 72 rows per channel (wasm's pooled reduction) and a 2-D `[b, c]` batch (wasm's own). */
const SHAPES = [
  [2, 6, 6, 8],
  [12, 8],
];
const CONFIGS = [
  { scale: true, center: true },
  { scale: false, center: true },
  { scale: true, center: false },
  { scale: false, center: false },
];
const CASES = BACKENDS.flatMap((backend) => SHAPES.flatMap((shape) => CONFIGS.map((config) => ({ backend, shape, ...config }))));

/** Seeded input with a per-channel offset and spread (so μ ≠ 0 and σ ≠ 1). */
function input(shape: number[], seed: number): tf.Tensor {
  const c = shape[shape.length - 1];
  return tf.tidy(() => {
    const raw = tf.tensor(
      values(
        shape.reduce((p, q) => p * q, 1),
        seed,
      ),
      shape,
    );
    return tf.add(tf.mul(raw, tf.linspace(0.5, 3, c)), tf.linspace(-2, 4, c));
  });
}

/**
 * What tfjs-layers computes in training mode (normalizeBatchInTraining): tf.moments, then tf.batchNorm. A
 * missing γ or β is passed as ones or zeros: FusedBatchNorm's gradient fails without them.
 */
function tfjsTraining(x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const c = x.shape[x.rank - 1];
  const { mean, variance } = tf.moments(x, axes);
  return tf.batchNorm(x, mean, variance, beta ?? tf.zeros([c]), gamma ?? tf.ones([c]), EPSILON);
}

type Normalize = (x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null) => tf.Tensor;

/** The output and the gradients of `Σ w·y` with respect to x, γ and β (those present). */
async function outputAndGrads(f: Normalize, shape: number[], scale: boolean, center: boolean) {
  const c = shape[shape.length - 1];
  const x = input(shape, 1);
  const gamma: tf.Tensor | null = scale ? tf.tensor1d(values(c, 2)) : null;
  const beta: tf.Tensor | null = center ? tf.tensor1d(values(c, 3)) : null;
  const w = tf.tensor(values(x.size, 4), shape);
  const params = [gamma, beta].filter((t): t is tf.Tensor => t !== null);
  const before = tf.memory().numTensors;
  const y = f(x, gamma, beta);
  const loss = (...args: tf.Tensor[]) => tf.sum(tf.mul(f(args[0], scale ? args[1] : null, center ? args[scale ? 2 : 1] : null), w));
  const grads = tf.grads(loss)([x, ...params]);
  const read = await Promise.all([y, ...grads].map((t) => t.data() as Promise<Float32Array>));
  tf.dispose([y, ...grads]);
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, w, ...params]);
  return { y: read[0], grads: read.slice(1), leaked };
}

describe('normalizeInTraining gives tfjs’ training-mode BatchNormalization and its gradients', () => {
  it.each(CASES)('$backend $shape scale=$scale center=$center', async ({ backend, shape, scale, center }) => {
    await tf.setBackend(backend);
    const ours = await outputAndGrads(
      (x, gamma, beta) => {
        const { y, mean, variance } = normalizeInTraining(x, gamma, beta, EPSILON);
        tf.dispose([mean, variance]);
        return y;
      },
      shape,
      scale,
      center,
    );
    const theirs = await outputAndGrads(tfjsTraining, shape, scale, center);
    expectClose(ours.y, theirs.y);
    expect(ours.grads).toHaveLength(1 + Number(scale) + Number(center));
    ours.grads.forEach((g, i) => expectClose(g, theirs.grads[i]));
    expect(ours.leaked).toBe(0);
  });

  it.each(BACKENDS)('returns the batch mean and variance bit for bit as tf.moments does (%s)', async (backend) => {
    await tf.setBackend(backend);
    const x = input([2, 6, 6, 8], 5);
    const { y, mean, variance } = normalizeInTraining(x, null, null, EPSILON);
    const moments = tf.moments(x, [0, 1, 2]);
    expect(Array.from(await mean.data())).toEqual(Array.from(await moments.mean.data()));
    expect(Array.from(await variance.data())).toEqual(Array.from(await moments.variance.data()));
    tf.dispose([x, y, mean, variance, moments.mean, moments.variance]);
  });
});

/** Two BatchNormalization layers built alike with the same seeded weights (γ, β, moving mean and variance). */
function twinLayers(shape: number[], momentum: number): [tf.layers.Layer, tf.layers.Layer] {
  const c = shape[shape.length - 1];
  const make = () => {
    const layer = tf.layers.batchNormalization({ momentum, epsilon: EPSILON });
    layer.build(shape);
    layer.setWeights([tf.tensor1d(values(c, 6)), tf.tensor1d(values(c, 7)), tf.tensor1d(values(c, 8)), tf.add(tf.tensor1d(values(c, 9)), 1.5) as tf.Tensor1D]);
    return layer;
  };
  return [make(), make()];
}

describe('a BatchNormalization layer’s training call through the closed form', () => {
  it.each(BACKENDS.flatMap((backend) => SHAPES.map((shape) => ({ backend, shape }))))(
    'updates the moving mean and variance bit for bit as tfjs-layers does ($backend $shape)',
    async ({ backend, shape }) => {
      await tf.setBackend(backend);
      const [ours, theirs] = twinLayers(shape, 0.9);
      const x = input(shape, 10);
      const before = tf.memory().numTensors;
      for (let step = 0; step < 2; step++) {
        const a = batchNormTrainingCall(ours, x);
        const b = theirs.apply(x, { training: true }) as tf.Tensor;
        expectClose(await a.data(), await b.data());
        tf.dispose([a, b]);
      }
      expect(tf.memory().numTensors).toBe(before);
      const [, , oursMean, oursVariance] = ours.getWeights();
      const [, , theirMean, theirVariance] = theirs.getWeights();
      expect(Array.from(await oursMean.data())).toEqual(Array.from(await theirMean.data()));
      expect(Array.from(await oursVariance.data())).toEqual(Array.from(await theirVariance.data()));
      // The statistics did move (momentum 0.9 over two steps).
      expect(Array.from(await oursMean.data())).not.toEqual(Array.from(values(shape[shape.length - 1], 8)));
      tf.dispose(x);
    },
  );

  it.each([
    { mode: 'trainable', trainable: true, weights: 5 },
    { mode: 'frozen in train-stats mode', trainable: false, weights: 3 },
  ])(
    'trains a model through the guard on wasm without FusedBatchNorm, with tfjs’ gradients and moving statistics (BN $mode)',
    async ({ trainable, weights }) => {
      await tf.setBackend('wasm');
      const build = (guarded: boolean) => {
        const model = tf.sequential({
          layers: [
            tf.layers.conv2d({
              inputShape: [6, 6, 3],
              filters: 8,
              kernelSize: 3,
              padding: 'same',
              useBias: false, // its gradient is 0 through a BatchNormalization (rounding noise on both paths)
              kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
            }),
            tf.layers.batchNormalization({ momentum: 0.8 }),
            tf.layers.flatten(),
            tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
          ],
        });
        model.layers[1].trainable = trainable;
        if (guarded) {
          guardFrozenLayers(model);
          setBatchNormOverrides(model, trainable ? {} : { [model.layers[1].name]: 'train-stats' });
        }
        return model;
      };
      const [ours, theirs] = [build(true), build(false)];
      theirs.setWeights(ours.getWeights());
      const x = input([3, 6, 6, 3], 11);
      const step = async (model: tf.LayersModel) => {
        const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, vars);
        const read = await Promise.all(vars.map((v) => grads[v.name].data()));
        tf.dispose([value, ...Object.values(grads)]);
        return read;
      };
      let g: Float32Array[] = [];
      let h: Float32Array[] = [];
      // tf.profile answers the same object every time: its kernel names are copied before the next profile.
      const oursKernels = [
        ...(
          await tf.profile(async () => {
            g = (await step(ours)) as Float32Array[];
          })
        ).kernelNames,
      ];
      const theirsKernels = [
        ...(
          await tf.profile(async () => {
            h = (await step(theirs)) as Float32Array[];
          })
        ).kernelNames,
      ];
      expect(oursKernels).not.toContain('FusedBatchNorm');
      expect(oursKernels).toContain('FusedDepthwiseConv2D');
      expect(theirsKernels).toContain('FusedBatchNorm');
      expect(g).toHaveLength(weights);
      g.forEach((grad, i) => expectClose(grad, h[i], 1e-4));
      const stats = async (model: tf.LayersModel) =>
        Promise.all(
          model.layers[1]
            .getWeights()
            .slice(2)
            .map((w) => w.data()),
        );
      const oursStats = (await stats(ours)).map((d) => Array.from(d));
      expect(oursStats).toEqual((await stats(theirs)).map((d) => Array.from(d)));
      expect(oursStats[0]).not.toEqual(new Array(8).fill(0)); // the moving mean moved from its initial zeros
      tf.dispose(x);
      ours.dispose();
      theirs.dispose();
    },
  );
});

describe('trainingBatchNorm (the guard’s hook) takes only the calls it fits', () => {
  it('is wasm-only for a full layer, leaves inference calls, other layers and other axes to tfjs', async () => {
    const x = input([2, 6, 6, 8], 12);
    const [layer] = twinLayers([2, 6, 6, 8], 0.99);
    const dense = tf.layers.dense({ units: 2 });
    const channelsFirst = tf.layers.batchNormalization({ axis: 1 });
    channelsFirst.build([2, 6, 6, 8]);
    expect(fitsClosedForm(layer, x)).toBe(true);
    expect(fitsClosedForm(dense, x)).toBe(false);
    expect(fitsClosedForm(channelsFirst, x)).toBe(false);
    expect(fitsClosedForm(layer, tf.cast(x, 'int32'))).toBe(false);
    expect(trainingBatchNorm(layer, x, { training: true })).toBeNull(); // cpu: tfjs' own path
    await tf.setBackend('wasm');
    const xw = input([2, 6, 6, 8], 12);
    expect(trainingBatchNorm(layer, xw, { training: false })).toBeNull();
    expect(trainingBatchNorm(layer, [xw, xw], { training: true })).toBeNull();
    const y = trainingBatchNorm(layer, [xw], { training: true });
    expect(y?.shape).toEqual([2, 6, 6, 8]);
    tf.dispose([x, xw, y as tf.Tensor]);
  });

  it('trains layers without γ or β on every backend (tfjs’ own training call fails on them)', async () => {
    const layer = tf.layers.batchNormalization({ scale: false, center: false });
    layer.build([12, 8]);
    const x = input([12, 8], 13);
    expect(() => (tf.layers.batchNormalization({ scale: false }).apply(x, { training: true }) as tf.Tensor).dispose()).toThrow();
    const y = trainingBatchNorm(layer, x, { training: true });
    expect(y).not.toBeNull();
    const moments = tf.moments(x, 0);
    const expected = tf.div(tf.sub(x, moments.mean), tf.sqrt(tf.add(moments.variance, EPSILON)));
    expectClose(await (y as tf.Tensor).data(), await expected.data());
    tf.dispose([x, y as tf.Tensor, moments.mean, moments.variance, expected]);
  });
});
