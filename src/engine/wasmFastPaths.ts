import * as tf from '@tensorflow/tfjs';

/**
 * Faster paths in front of kernels the wasm backend has, for the shapes a
 * training step asks for (each measured in Node on MobileNetV2's shapes,
 * scripts/profileStep.ts; every other case still runs the backend's own kernel):
 *
 * - BatchMatMul with a transposed operand: wasm hands only untransposed
 *   products to XNNPACK and runs the rest as a plain triple loop, ~12× slower.
 *   Every gradient of a matrix product (and of a 1×1 convolution) is one with
 *   a transposed operand, so the operand is transposed first (one copy) and
 *   the product goes to XNNPACK.
 * - Sum and Mean over the leading axes (BatchNorm's statistics and gradients,
 *   a bias gradient, a depthwise filter gradient: `[b, h, w, c]` over b, h, w):
 *   wasm transposes the reduced axes to the end and then adds; an average
 *   pooling over the whole `[b·h·w]` window (XNNPACK, vectorised along the
 *   channels) is 4–15× faster.
 * - Identity (`tf.clone`, and the tape's copy of every tensor a gradient
 *   keeps): wasm copies the data; sharing it with a reference count, as
 *   Reshape already does on wasm and Identity does on cpu, is free (tfjs never
 *   writes a tensor in place: a variable's assign swaps its data).
 * - Slice (a filter gradient's taps, a padding's gradient): wasm copies the
 *   last dimension's run for every index of the others, one JavaScript call
 *   each — a tap of a `[4, 56, 56, 144]` activation is 12,544 calls. Trailing
 *   dimensions taken whole are one contiguous run with the dimension before
 *   them, so the slice is taken on a view with those merged (a reshape is
 *   free): the same bytes in 1/56 of the calls.
 * - Tile of size-1 dimensions (BatchNorm's gradient tiles a per-channel factor
 *   to the activation): a broadcasting Add onto zeros instead of wasm's
 *   element-by-element Tile.
 * - The gradient of ClipByValue (every ReLU6): tfjs builds its mask from two
 *   comparisons, a logical and and a select, each a plain loop on wasm; on
 *   wasm it is computed from the saved output instead with vectorised kernels
 *   (`dy − dy·step(|y − x|)`: x is inside the bounds exactly when clipping left
 *   it unchanged), the same values, about 4× faster. Gradients are global, so
 *   every other backend keeps tfjs's formula.
 */

/** A tensor for a kernel's input (kernels get TensorInfos). */
export function asTensor(info: tf.TensorInfo | undefined): tf.Tensor {
  if (!info) throw new Error('A kernel was called without one of its inputs.');
  return info instanceof tf.Tensor ? info : tf.engine().makeTensorFromTensorInfo(info);
}

type Fast = (args: Parameters<tf.KernelFunc>[0]) => tf.Tensor | tf.TensorInfo | null;

/** Puts `fast` in front of `backendName`'s own `kernelName` (which still runs where `fast` answers null). Once per kernel. */
export function wrapKernel(kernelName: string, backendName: string, fast: Fast): void {
  const own = tf.getKernel(kernelName, backendName);
  if (!own || (own.kernelFunc as { studio?: boolean }).studio) return;
  const kernelFunc: tf.KernelFunc = (args) => fast(args) ?? own.kernelFunc(args);
  (kernelFunc as { studio?: boolean }).studio = true;
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...own, kernelFunc });
}

const batchOf = (shape: readonly number[]) => shape.slice(0, -2).reduce((a, b) => a * b, 1);

/** The last two dimensions swapped (a copy). */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return tf.transpose(x, perm);
}

/**
 * `a · b` with the transposes done as copies first, so the product runs untransposed; null when neither is
 * transposed or either is batched. Of the two ways to get there — `a'·b'`, or `(bᵀ·aᵀ)ᵀ`, whose operands
 * are already laid out as a transposed operand is stored — the one that copies less is taken (wasm's
 * Transpose of a wide matrix is slow: `[50176, 96]` takes 10× what `[50176, 16]` takes).
 */
export function untransposedMatMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor | null {
  if ((!transposeA && !transposeB) || batchOf(a.shape) !== 1 || batchOf(b.shape) !== 1 || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const direct = (transposeA ? a.size : 0) + (transposeB ? b.size : 0);
  const m = a.shape[transposeA ? a.rank - 1 : a.rank - 2];
  const n = b.shape[transposeB ? b.rank - 2 : b.rank - 1];
  const swapped = (transposeA ? 0 : a.size) + (transposeB ? 0 : b.size) + m * n;
  return tf.tidy(() => {
    if (direct <= swapped) return tf.matMul(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b);
    return swapLast(tf.matMul(transposeB ? b : swapLast(b), transposeA ? a : swapLast(a)));
  });
}

/** Fewer rows than this, or fewer channels, are left to wasm's own reduction (the pooling's setup costs more than it saves). */
const MIN_ROWS = 64;
const MIN_CHANNELS = 4;

/** The sum (or mean) of `x` over `axis` when those are its leading axes, as one average pooling; null otherwise. */
export function leadingReduce(x: tf.Tensor, axis: number | number[] | undefined, keepDims: boolean, mean: boolean): tf.Tensor | null {
  if (x.dtype !== 'float32' || x.rank === 0) return null;
  const axes = [...new Set(tf.util.parseAxisParam(axis ?? x.shape.map((_, i) => i), x.shape))].sort((p, q) => p - q);
  if (!axes.every((a, i) => a === i)) return null;
  const rows = x.shape.slice(0, axes.length).reduce((p, q) => p * q, 1);
  const channels = x.shape.slice(axes.length).reduce((p, q) => p * q, 1);
  if (rows < MIN_ROWS || channels < MIN_CHANNELS) return null;
  const outShape = keepDims ? x.shape.map((size, i) => (i < axes.length ? 1 : size)) : x.shape.slice(axes.length);
  return tf.tidy(() => {
    const pooled = tf.avgPool(x.reshape([1, rows, 1, channels]) as tf.Tensor4D, [rows, 1], [rows, 1], 'valid');
    return (mean ? pooled : tf.mul(pooled, rows)).reshape(outShape);
  });
}

/**
 * A Tile that only repeats size-1 dimensions as a broadcasting Add onto zeros — two vectorised passes
 * instead of wasm's element-by-element Tile; null for any other Tile.
 */
export function broadcastTile(x: tf.Tensor, reps: readonly number[]): tf.Tensor | null {
  if (reps.length !== x.rank || !x.shape.every((size, i) => size === 1 || reps[i] === 1) || x.dtype !== 'float32') return null;
  const shape = x.shape.map((size, i) => size * reps[i]);
  return tf.tidy(() => tf.add(x, tf.zeros(shape)));
}

/** `x[begin : begin + size]` on a view whose whole trailing dimensions are merged into the one before them; null when none is. */
export function mergedSlice(x: tf.Tensor, begin: number | number[], size: number | number[] | undefined): tf.Tensor | null {
  if (x.rank < 2 || x.dtype === 'string') return null;
  const [start, extent] = tf.slice_util.parseSliceParams(x, begin, size);
  let last = x.rank - 1;
  while (last > 0 && start[last] === 0 && extent[last] === x.shape[last]) last--;
  if (last === x.rank - 1) return null;
  const run = x.shape.slice(last + 1).reduce((p, q) => p * q, 1);
  const view = [...x.shape.slice(0, last), x.shape[last] * run];
  return tf.tidy(() => tf.slice(x.reshape(view), [...start.slice(0, last), start[last] * run], [...extent.slice(0, last), extent[last] * run]).reshape(extent));
}

/** Identity that shares the data (reference counted), as Identity does on cpu. */
function sharedIdentity({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | null {
  const x = inputs.x;
  if (!x || x.dtype === 'string') return null;
  (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** The gradient of ClipByValue as tfjs has it, on every backend but wasm; on wasm from the saved output (see above). */
export const clipByValueGradient: tf.GradConfig = {
  kernelName: 'ClipByValue',
  inputsToSave: ['x'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, y] = saved as tf.Tensor[];
    const { clipValueMin, clipValueMax } = attrs as { clipValueMin: number; clipValueMax: number };
    const d = dy as tf.Tensor;
    if (tf.getBackend() === 'wasm' && y && d.dtype === 'float32') return { x: () => tf.tidy(() => tf.sub(d, tf.mul(d, tf.step(tf.abs(tf.sub(y, x)))))) };
    return { x: () => tf.where(tf.logicalAnd(tf.greaterEqual(x, clipValueMin), tf.lessEqual(x, clipValueMax)), d, tf.zerosLike(d)) };
  },
};

let clipGradientRegistered = false;

/** Registers the fast paths for `backendName` (default 'wasm'). Safe to call twice. */
export function registerWasmFastPaths(backendName = 'wasm'): void {
  wrapKernel('BatchMatMul', backendName, ({ inputs, attrs }) => {
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    return untransposedMatMul(asTensor(inputs.a), asTensor(inputs.b), transposeA, transposeB);
  });
  for (const [name, mean] of [
    ['Sum', false],
    ['Mean', true],
  ] as const) {
    wrapKernel(name, backendName, ({ inputs, attrs }) => {
      const { axis, keepDims } = attrs as { axis: number | number[]; keepDims: boolean };
      return leadingReduce(asTensor(inputs.x), axis, keepDims, mean);
    });
  }
  wrapKernel('Identity', backendName, sharedIdentity);
  wrapKernel('Slice', backendName, ({ inputs, attrs }) => {
    const { begin, size } = attrs as { begin: number | number[]; size: number | number[] };
    return mergedSlice(asTensor(inputs.x), begin, size);
  });
  wrapKernel('Tile', backendName, ({ inputs, attrs }) => broadcastTile(asTensor(inputs.x), (attrs as { reps: number[] }).reps));
  if (!clipGradientRegistered) {
    clipGradientRegistered = true;
    tf.registerGradient(clipByValueGradient);
  }
}
