import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { prepareWasmInNode } from './testing/wasmNode';
import { WASM_GRADIENT_KERNELS } from './wasmKernels';
import { expectClose, onBackend, values, type Values } from './testing/backendCompare';

beforeAll(async () => {
  await prepareWasmInNode();
  await tf.setBackend('cpu');
});

type Pad = 'same' | 'valid';
interface Case {
  kernel: number;
  stride: number;
  pad: Pad;
  dilation?: number;
  multiplier?: number;
  size: [number, number];
  channels: number;
  out?: number;
}

/** Output size of a convolution as tfjs computes it. */
function outSize(c: Case, batch: number, outChannels: number, depthwise = false): number[] {
  const filter: [number, number, number, number] = [c.kernel, c.kernel, c.channels, outChannels];
  const info = tf.backend_util.computeConv2DInfo([batch, ...c.size, c.channels], filter, c.stride, c.dilation ?? 1, c.pad, undefined, depthwise);
  return [batch, info.outHeight, info.outWidth, info.outChannels];
}

const CONV_CASES: Case[] = [
  { kernel: 1, stride: 1, pad: 'same', size: [7, 7], channels: 16, out: 24 },
  { kernel: 1, stride: 2, pad: 'valid', size: [8, 9], channels: 5, out: 3 },
  { kernel: 3, stride: 1, pad: 'same', size: [9, 9], channels: 3, out: 8 },
  { kernel: 3, stride: 2, pad: 'same', size: [10, 10], channels: 3, out: 8 },
  { kernel: 3, stride: 2, pad: 'same', size: [11, 7], channels: 4, out: 6 },
  { kernel: 3, stride: 2, pad: 'valid', size: [11, 11], channels: 3, out: 4 },
  { kernel: 3, stride: 1, pad: 'valid', size: [28, 28], channels: 1, out: 8 },
  { kernel: 5, stride: 1, pad: 'same', size: [12, 13], channels: 2, out: 3 },
  { kernel: 5, stride: 2, pad: 'valid', size: [13, 12], channels: 3, out: 2 },
];

const DEPTHWISE_CASES: Case[] = [
  { kernel: 3, stride: 1, pad: 'same', size: [8, 8], channels: 6 },
  { kernel: 3, stride: 2, pad: 'same', size: [10, 10], channels: 5 },
  { kernel: 3, stride: 2, pad: 'same', size: [9, 11], channels: 4 },
  { kernel: 3, stride: 2, pad: 'valid', size: [15, 15], channels: 3 },
  { kernel: 3, stride: 1, pad: 'valid', size: [7, 9], channels: 3, multiplier: 2 },
  { kernel: 5, stride: 1, pad: 'same', size: [11, 11], channels: 4 },
  { kernel: 5, stride: 2, pad: 'same', size: [12, 12], channels: 3, multiplier: 3 },
  { kernel: 1, stride: 1, pad: 'valid', size: [5, 5], channels: 7 },
  { kernel: 3, stride: 1, pad: 'same', size: [10, 10], channels: 3, dilation: 2 },
  { kernel: 3, stride: 1, pad: 'valid', size: [13, 12], channels: 2, dilation: 3, multiplier: 2 },
];

const name = (c: Case) =>
  `${c.kernel}×${c.kernel}, stride ${c.stride}, ${c.pad}, ${c.size.join('×')}×${c.channels}${c.dilation ? `, dilation ${c.dilation}` : ''}${c.multiplier ? `, multiplier ${c.multiplier}` : ''}`;

describe('the wasm backend has the gradient kernels it lacked', () => {
  it('registers all three', () => {
    expect(WASM_GRADIENT_KERNELS).toEqual(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']);
    for (const kernel of WASM_GRADIENT_KERNELS) expect(tf.getKernel(kernel, 'wasm')).toBeDefined();
  });
});

describe('Conv2DBackpropFilter on wasm matches cpu', () => {
  it.each(CONV_CASES.map((c) => [name(c), c] as const))('%s', async (_, c) => {
    const batch = 3;
    const xShape = [batch, ...c.size, c.channels];
    const dyShape = outSize(c, batch, c.out!);
    const inputs = {
      x: {
        v: values(
          xShape.reduce((a, b) => a * b),
          1,
        ),
        shape: xShape,
      },
      dy: {
        v: values(
          dyShape.reduce((a, b) => a * b),
          2,
        ),
        shape: dyShape,
      },
    };
    const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: [c.kernel, c.kernel, c.channels, c.out!] };
    const cpu = await onBackend('cpu', 'Conv2DBackpropFilter', inputs, attrs);
    const wasm = await onBackend('wasm', 'Conv2DBackpropFilter', inputs, attrs);
    expect(wasm.shape).toEqual(cpu.shape);
    expectClose(wasm.data, cpu.data);
    expect(wasm.leaked).toBe(0);
  });
});

describe('depthwise gradients on wasm match cpu', () => {
  it.each(DEPTHWISE_CASES.map((c) => [name(c), c] as const))('%s', async (_, c) => {
    const batch = 2;
    const m = c.multiplier ?? 1;
    const xShape = [batch, ...c.size, c.channels];
    const filterShape = [c.kernel, c.kernel, c.channels, m];
    const dyShape = outSize(c, batch, m, true);
    const x = {
      v: values(
        xShape.reduce((a, b) => a * b),
        3,
      ),
      shape: xShape,
    };
    const dy = {
      v: values(
        dyShape.reduce((a, b) => a * b),
        4,
      ),
      shape: dyShape,
    };
    const filter = {
      v: values(
        filterShape.reduce((a, b) => a * b),
        5,
      ),
      shape: filterShape,
    };
    const common = { strides: c.stride, pad: c.pad, dilations: c.dilation ?? 1 };
    const cpuFilter = await onBackend('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...common, filterShape });
    const cpuInput = await onBackend('cpu', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...common, inputShape: xShape });
    const wasmFilter = await onBackend('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...common, filterShape });
    const wasmInput = await onBackend('wasm', 'DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...common, inputShape: xShape });
    const reference = c.dilation ? await dilatedReference(c, x, dy, filter) : { filter: cpuFilter, input: cpuInput };
    expect(wasmFilter.shape).toEqual(filterShape);
    expect(wasmInput.shape).toEqual(xShape);
    expectClose(wasmFilter.data, reference.filter.data);
    expectClose(wasmInput.data, reference.input.data);
    expect([wasmFilter.leaked, wasmInput.leaked]).toEqual([0, 0]);
  });
});

/**
 * The cpu kernels ignore dilations (tfjs' own gradients refuse them), so a dilated case is checked against
 * the cpu gradients of the same convolution written without dilation: the filter spread out to
 * (k − 1)·d + 1 taps with zeros between. Its input gradient is the same; its filter gradient, read at the
 * spread-out taps, is the dilated filter's.
 */
async function dilatedReference(c: Case, x: Values, dy: Values, filter: Values) {
  const d = c.dilation!;
  const k = c.kernel;
  const big = (k - 1) * d + 1;
  const [, , ch, m] = filter.shape;
  const spread = new Float32Array(big * big * ch * m);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) for (let q = 0; q < ch * m; q++) spread[(i * d * big + j * d) * ch * m + q] = filter.v[(i * k + j) * ch * m + q];
  const attrs = { strides: c.stride, pad: c.pad, dilations: 1 };
  const bigShape = [big, big, ch, m];
  const input = await onBackend('cpu', 'DepthwiseConv2dNativeBackpropInput', { dy, filter: { v: spread, shape: bigShape } }, { ...attrs, inputShape: x.shape });
  const bigFilter = await onBackend('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: bigShape });
  const picked = new Float32Array(k * k * ch * m);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) for (let q = 0; q < ch * m; q++) picked[(i * k + j) * ch * m + q] = bigFilter.data[(i * d * big + j * d) * ch * m + q];
  return { input, filter: { data: picked } };
}

describe('tf.grad through convolutions on wasm', () => {
  it('gives the gradients cpu gives for a conv → depthwise → conv stack (strided, same padding)', async () => {
    const x = values(2 * 9 * 9 * 3, 6);
    const w1 = values(3 * 3 * 3 * 4, 7);
    const w2 = values(3 * 3 * 4 * 1, 8);
    const w3 = values(1 * 1 * 4 * 5, 9);
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      const t = [tf.tensor4d(x, [2, 9, 9, 3]), tf.tensor4d(w1, [3, 3, 3, 4]), tf.tensor4d(w2, [3, 3, 4, 1]), tf.tensor4d(w3, [1, 1, 4, 5])] as const;
      const f = (input: tf.Tensor4D, a: tf.Tensor4D, b: tf.Tensor4D, c: tf.Tensor4D) =>
        tf
          .conv2d(tf.relu(tf.depthwiseConv2d(tf.conv2d(input, a, 2, 'same'), b, 1, 'same')), c, 1, 'valid')
          .square()
          .sum();
      const g = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([...t]);
      const out = await Promise.all(g.map(async (v) => (await v.data()) as Float32Array));
      tf.dispose([...g, ...t]);
      await tf.setBackend('cpu');
      return out;
    };
    const cpu = await grads('cpu');
    const wasm = await grads('wasm');
    cpu.forEach((v, i) => expectClose(wasm[i], v));
  });
});

describe('the pointwise fast path of Conv2DBackpropInput on wasm', () => {
  it.each([
    ['1×1 stride 1 (matrix product)', 1, 1],
    ['3×3 stride 2 (wasm’s own kernel)', 3, 2],
  ] as const)('%s gives what cpu gives', async (_, k, stride) => {
    const c: Case = { kernel: k, stride, pad: 'same', size: [9, 7], channels: 6 };
    const xShape = [2, 9, 7, 6];
    const dyShape = outSize(c, 2, 5);
    const inputs = {
      dy: {
        v: values(
          dyShape.reduce((a, b) => a * b),
          10,
        ),
        shape: dyShape,
      },
      filter: { v: values(k * k * 30, 11), shape: [k, k, 6, 5] },
    };
    const attrs = { strides: stride, pad: 'same', dataFormat: 'NHWC', dilations: 1, inputShape: xShape };
    const cpu = await onBackend('cpu', 'Conv2DBackpropInput', inputs, attrs);
    const wasm = await onBackend('wasm', 'Conv2DBackpropInput', inputs, attrs);
    expect(wasm.shape).toEqual(xShape);
    expectClose(wasm.data, cpu.data);
    expect(wasm.leaked).toBe(0);
  });
});

describe('Tile on wasm (the broadcast path for BatchNorm gradients, and the rest on wasm’s own kernel)', () => {
  it.each([
    ['a per-channel factor to an activation', [1, 1, 1, 5], [3, 4, 6, 1]],
    ['a column to a matrix', [4, 1], [1, 7]],
    ['a real repeat (wasm’s own Tile)', [2, 3], [2, 2]],
  ] as [string, number[], number[]][])('%s gives what cpu gives', async (_, shape, reps) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const inputs = { x: { v: values(size, 12), shape: [...shape] } };
    const cpu = await onBackend('cpu', 'Tile', inputs, { reps: [...reps] });
    const wasm = await onBackend('wasm', 'Tile', inputs, { reps: [...reps] });
    expect(wasm.shape).toEqual(cpu.shape);
    expect(Array.from(wasm.data)).toEqual(Array.from(cpu.data));
    expect(wasm.leaked).toBe(0);
  });
});
