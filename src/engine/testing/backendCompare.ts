/** Running one kernel or function on two backends with the same inputs, for tests that compare wasm with cpu. */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { createRandom } from '../../core/random';

/** Seeded values in [-1, 1): the same inputs on both backends. */
export function values(n: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: n }, () => random() * 2 - 1);
}

export type Values = { v: Float32Array; shape: number[] };

/** Seeded values of `shape`. */
export function seeded(shape: number[], seed: number): Values {
  return {
    v: values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  };
}

/** Runs `kernel` with plain arrays on `backend`, reads the result and how many tensors it left behind; back on cpu after. */
export async function onBackend(backend: string, kernel: string, inputs: Record<string, Values>, attrs: object) {
  return run(backend, inputs, (tensors) => tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor);
}

/** Runs `f` on tensors made from `inputs` on `backend`; the result's shape and data, and how many tensors it leaked. */
export async function run(backend: string, inputs: Record<string, Values>, f: (tensors: Record<string, tf.Tensor>) => tf.Tensor) {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(Object.entries(inputs).map(([k, { v, shape }]) => [k, tf.tensor(v, shape)]));
  const before = tf.memory().numTensors;
  const out = f(tensors);
  const result = { shape: out.shape, data: (await out.data()) as Float32Array };
  out.dispose();
  const leaked = tf.memory().numTensors - before;
  tf.dispose(Object.values(tensors));
  await tf.setBackend('cpu');
  return { ...result, leaked };
}

/** Equal to float tolerance: the largest difference under 1e-5 of the largest magnitude. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1e-6;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst / scale).toBeLessThan(tolerance);
}
