import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, onBackend, run, seeded } from './testing/backendCompare';
import { prepareWasmInNode } from './testing/wasmNode';
import { mergedSlice, untransposedMatMul } from './wasmFastPaths';

beforeAll(async () => {
  await prepareWasmInNode();
  await tf.setBackend('cpu');
});

describe('BatchMatMul with a transposed operand on wasm (the copy-first path) matches cpu', () => {
  it.each([
    ['Aᵀ·B, A narrow (a filter gradient of an expanding 1×1 conv)', [300, 4], [300, 24], true, false],
    ['Aᵀ·B, B narrow (a projecting 1×1 conv: the swapped form)', [300, 24], [300, 4], true, false],
    ['A·Bᵀ (an input gradient through a weight)', [70, 24], [5, 24], false, true],
    ['Aᵀ·Bᵀ', [6, 9], [11, 6], true, true],
    ['rank 3 with batch 1', [1, 40, 7], [1, 40, 3], true, false],
    ['batched (wasm’s own loop)', [2, 5, 3], [2, 5, 4], true, false],
  ] as [string, number[], number[], boolean, boolean][])('%s', async (_, aShape, bShape, transposeA, transposeB) => {
    const inputs = { a: seeded(aShape, 1), b: seeded(bShape, 2) };
    const attrs = { transposeA, transposeB };
    const cpu = await onBackend('cpu', 'BatchMatMul', inputs, attrs);
    const wasm = await onBackend('wasm', 'BatchMatMul', inputs, attrs);
    expect(wasm.shape).toEqual(cpu.shape);
    expectClose(wasm.data, cpu.data);
    expect(wasm.leaked).toBe(0);
  });

  it('leaves untransposed and batched products to wasm’s own kernel', () => {
    const a = tf.zeros([2, 3, 4]);
    const b = tf.zeros([2, 4, 5]);
    expect(untransposedMatMul(a, b, false, false)).toBeNull();
    expect(untransposedMatMul(a, tf.zeros([2, 5, 4]), false, true)).toBeNull();
    tf.dispose([a, b]);
  });
});

describe('Sum and Mean over leading axes on wasm (one average pooling) match cpu', () => {
  it.each([
    ['Sum of an activation over batch and positions', 'Sum', [4, 6, 5, 8], [0, 1, 2], false],
    ['Sum keeping dims', 'Sum', [4, 6, 5, 8], [0, 1, 2], true],
    ['Mean of an activation (BatchNorm’s moments)', 'Mean', [3, 7, 5, 6], [0, 1, 2], true],
    ['Sum of a bias gradient over the batch', 'Sum', [96, 10], [0], false],
    ['axes given out of order and negative', 'Sum', [8, 9, 6], [1, -3], false],
    ['trailing axes (wasm’s own kernel)', 'Sum', [8, 9, 6], [2], false],
    ['a middle axis (wasm’s own kernel)', 'Mean', [8, 9, 6], [1], false],
    ['too few rows for the pooling', 'Sum', [2, 3, 8], [0, 1], false],
  ] as [string, string, number[], number[], boolean][])('%s', async (_, kernel, shape, axis, keepDims) => {
    const inputs = { x: seeded(shape, 3) };
    const attrs = { axis, keepDims };
    const cpu = await onBackend('cpu', kernel, inputs, attrs);
    const wasm = await onBackend('wasm', kernel, inputs, attrs);
    expect(wasm.shape).toEqual(cpu.shape);
    expectClose(wasm.data, cpu.data);
    expect(wasm.leaked).toBe(0);
  });
});

describe('Slice on wasm with whole trailing dimensions merged matches cpu', () => {
  it.each([
    ['a filter tap of an activation', [2, 7, 6, 5], [0, 1, 2, 0], [2, 5, 3, 5]],
    ['rows of a matrix', [9, 4], [3, 0], [4, 4]],
    ['whole trailing dimensions of rank 3', [5, 4, 3], [1, 0, 0], [2, 4, 3]],
    ['the last dimension cut (wasm’s own kernel)', [2, 7, 6, 5], [0, 1, 2, 1], [2, 5, 3, 3]],
    ['sizes of −1', [4, 6, 3], [1, 2, 0], [-1, -1, 3]],
  ] as [string, number[], number[], number[]][])('%s', async (_, shape, begin, size) => {
    const inputs = { x: seeded(shape, 4) };
    const cpu = await onBackend('cpu', 'Slice', inputs, { begin, size });
    const wasm = await onBackend('wasm', 'Slice', inputs, { begin, size });
    expect(wasm.shape).toEqual(cpu.shape);
    expect(Array.from(wasm.data)).toEqual(Array.from(cpu.data));
    expect(wasm.leaked).toBe(0);
  });

  it('answers null where nothing can be merged', () => {
    const x = tf.zeros([3, 4]);
    expect(mergedSlice(x, [0, 1], [3, 2])).toBeNull();
    x.dispose();
  });
});

describe('Identity on wasm shares the data', () => {
  it('a clone keeps its values after the original is disposed, and a variable assigned after a clone leaves the clone as it was', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.tensor([1, 2, 3]);
    const buffers = tf.memory().numDataBuffers;
    const copy = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(buffers); // no second buffer
    x.dispose();
    expect(Array.from(await copy.data())).toEqual([1, 2, 3]);
    const [first, second] = [tf.tensor([4, 5]), tf.tensor([6, 7])];
    const v = tf.variable(first);
    const kept = tf.clone(v);
    v.assign(second);
    expect(Array.from(await kept.data())).toEqual([4, 5]);
    expect(Array.from(await v.data())).toEqual([6, 7]);
    tf.dispose([copy, kept, v, first, second]);
    expect(tf.memory().numTensors).toBe(before);
    await tf.setBackend('cpu');
  });
});

describe('the gradient of ClipByValue on wasm', () => {
  it('is the cpu gradient, at the bounds too (x = 0 and x = 6 pass the gradient, as tfjs has it)', async () => {
    const x = { v: Float32Array.from([-1, 0, 0.5, 3, 6, 6.000001, 7, -0.0000001, 5.9999995, 1e-30, -1e-30]), shape: [11] };
    const dy = { v: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), shape: [11] };
    const grad = (t: Record<string, tf.Tensor>) => tf.grad((input: tf.Tensor) => tf.mul(tf.clipByValue(input, 0, 6), t.dy).sum())(t.x);
    const cpu = await run('cpu', { x, dy }, grad);
    const wasm = await run('wasm', { x, dy }, grad);
    expect(Array.from(wasm.data)).toEqual(Array.from(cpu.data));
    expect(Array.from(cpu.data)).toEqual([0, 2, 3, 4, 5, 0, 0, 0, 9, 10, 0]);
    expect(wasm.leaked).toBe(0);
  });
});
