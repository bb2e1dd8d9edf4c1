/**
 * Faster `cpu` kernels for training a small CNN in a Node script.
 *
 * Several stock tfjs 4.22 `cpu` kernels convert every flat index to coordinates and
 * back (`indexToLoc`/`locToIndex`), allocating arrays per element. One training step
 * of the 28×28 `digits_cnn` on 64 images took about 18 s, most of it in
 * `Conv2DBackpropFilter` (batch in the innermost loop, values read through
 * `TensorBuffer.get`); the rest in the transposes inside `Sum`/`Mean`, broadcasting
 * by [1, 1, 1, C] tensors in batch norm's gradient, `Tile` and `MaxPoolGrad`.
 * With these replacements a step takes about 1.8 s.
 *
 * The replacements walk memory in order. They compute the same values as the stock
 * kernels: data movement is exact, element-wise ops are the same ops, and sums are
 * accumulated in float64 and rounded once to float32 as the stock kernels do, only
 * in another order (which changed no float32 result in cpuKernels.test.ts).
 * They are deterministic, which is what reproducible pretraining needs. Cases they
 * do not handle (NCHW, other dtypes, other broadcasts) fall through to the stock kernels.
 *
 * Only scripts/pretrain.ts installs them; the studio's own cpu fallback keeps the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';

type Shape4D = [number, number, number, number];
type KernelArgs = Parameters<tf.KernelFunc>[0];
type ConvAttrs = {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};
type TypedArray = Float32Array | Int32Array | Uint8Array;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function read(backend: tf.KernelBackend, tensor: tf.TensorInfo): TypedArray {
  return backend.readSync(tensor.dataId) as TypedArray;
}

function output(backend: tf.KernelBackend, values: TypedArray, shape: number[], dtype: tf.DataType): tf.TensorInfo {
  return { dataId: backend.write(values, shape, dtype), shape, dtype };
}

// ---------------------------------------------------------------- convolution gradients

function convInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4D,
    filterShape as Shape4D,
    attrs.strides,
    1, // the gradient kernels take no dilation attribute: tfjs only differentiates undilated convs
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/**
 * Calls `visit(x, dy, filter)` for every (input pixel, output pixel, filter tap) that a
 * convolution with `info` connects, in memory order of dy. The offsets point at channel 0
 * of the input pixel, channel 0 of the output pixel and tap [kh, kw, 0, 0].
 */
function forEachTap(info: tf.backend_util.Conv2DInfo, visit: (x: number, dy: number, filter: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const dy = ((b * outHeight + oy) * outWidth + ox) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const iy = oy * strideHeight + kh - top;
          if (iy < 0 || iy >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const ix = ox * strideWidth + kw - left;
            if (ix < 0 || ix >= inWidth) continue;
            visit(((b * inHeight + iy) * inWidth + ix) * inChannels, dy, (kh * filterWidth + kw) * inChannels * outChannels);
          }
        }
      }
    }
  }
}

/** dW[kh, kw, ci, co] = Σ x[b, iy, ix, ci] · dy[b, oy, ox, co] over connected pixels; [fh, fw, inC, outC]. */
function conv2DBackpropFilter({ inputs, attrs }: KernelArgs, backend: tf.KernelBackend): tf.TensorInfo | null {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as ConvAttrs & { filterShape: number[] };
  if (a.dataFormat !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const info = convInfo(x.shape, a.filterShape, a);
  const xValues = read(backend, x);
  const dyValues = read(backend, dy);
  const { inChannels, outChannels } = info;
  const dW = new Float64Array(size(a.filterShape));
  forEachTap(info, (xAt, dyAt, wAt) => {
    for (let c = 0; c < inChannels; c++) {
      const xv = xValues[xAt + c];
      const row = wAt + c * outChannels;
      for (let o = 0; o < outChannels; o++) dW[row + o] += xv * dyValues[dyAt + o];
    }
  });
  return output(backend, Float32Array.from(dW), a.filterShape, 'float32');
}

/** dx[b, iy, ix, ci] = Σ W[kh, kw, ci, co] · dy[b, oy, ox, co] over connected pixels; shaped like the conv's input. */
function conv2DBackpropInput({ inputs, attrs }: KernelArgs, backend: tf.KernelBackend): tf.TensorInfo | null {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as ConvAttrs & { inputShape: number[] };
  if (a.dataFormat !== 'NHWC' || dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const info = convInfo(a.inputShape, filter.shape, a);
  const dyValues = read(backend, dy);
  const wValues = read(backend, filter);
  const { inChannels, outChannels } = info;
  const dx = new Float64Array(size(a.inputShape));
  forEachTap(info, (xAt, dyAt, wAt) => {
    for (let c = 0; c < inChannels; c++) {
      const row = wAt + c * outChannels;
      let sum = 0;
      for (let o = 0; o < outChannels; o++) sum += wValues[row + o] * dyValues[dyAt + o];
      dx[xAt + c] += sum;
    }
  });
  return output(backend, Float32Array.from(dx), a.inputShape, 'float32');
}

// ---------------------------------------------------------------- pooling gradient

/** Routes each dy value to the first maximum of its window (the stock tie rule); shaped like the pool's input. */
function maxPoolGrad({ inputs, attrs }: KernelArgs, backend: tf.KernelBackend): tf.TensorInfo | null {
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  if (dy.dtype !== 'float32' || input.dtype !== 'float32') return null;
  const a = attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: ConvAttrs['pad'];
    dimRoundingMode?: ConvAttrs['dimRoundingMode'];
  };
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4D, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight, effectiveFilterWidth } = info;
  const { top, left } = info.padInfo;
  const xValues = read(backend, input);
  const dyValues = read(backend, dy);
  const dx = new Float64Array(size(input.shape));
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const yCorner = oy * strideHeight - top;
      const yMin = Math.max(0, yCorner);
      const yMax = Math.min(inHeight, yCorner + effectiveFilterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const xCorner = ox * strideWidth - left;
        const xMin = Math.max(0, xCorner);
        const xMax = Math.min(inWidth, xCorner + effectiveFilterWidth);
        const dyAt = ((b * outHeight + oy) * outWidth + ox) * channels;
        for (let d = 0; d < channels; d++) {
          let max = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let y = yMin; y < yMax; y++) {
            for (let x = xMin; x < xMax; x++) {
              const i = ((b * inHeight + y) * inWidth + x) * channels + d;
              if (xValues[i] > max) {
                max = xValues[i];
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] += dyValues[dyAt + d];
        }
      }
    }
  }
  return output(backend, Float32Array.from(dx), input.shape, 'float32');
}

// ---------------------------------------------------------------- data movement

/**
 * Walks an output of `shape` in memory order and returns, for each element, the offset
 * of its source: `step[d]` is how far the source moves when output coordinate d grows
 * by one, and the source coordinate wraps every `period[d]` steps (for Tile).
 */
function gatherByOdometer(source: TypedArray, shape: number[], step: number[], period: number[]): TypedArray {
  const out = new (source.constructor as new (n: number) => TypedArray)(size(shape));
  const rank = shape.length;
  if (out.length === 0) return out;
  if (rank === 0) {
    out[0] = source[0];
    return out;
  }
  const loc = new Array<number>(rank).fill(0);
  const wrap = new Array<number>(rank).fill(0);
  const last = rank - 1;
  let from = 0;
  for (let i = 0; i < out.length;) {
    // The innermost dimension in one tight loop; the odometer carries into the others.
    for (let k = 0; k < shape[last]; k++) {
      out[i++] = source[from];
      if (++wrap[last] === period[last]) {
        wrap[last] = 0;
        from -= step[last] * (period[last] - 1);
      } else {
        from += step[last];
      }
    }
    wrap[last] = 0;
    for (let d = last - 1; d >= 0; d--) {
      if (++loc[d] < shape[d]) {
        if (++wrap[d] === period[d]) {
          wrap[d] = 0;
          from -= step[d] * (period[d] - 1);
        } else {
          from += step[d];
        }
        break;
      }
      loc[d] = 0;
      from -= step[d] * wrap[d];
      wrap[d] = 0;
    }
  }
  return out;
}

function transpose({ inputs, attrs }: KernelArgs, backend: tf.KernelBackend): tf.TensorInfo | null {
  const { x } = inputs as { x: tf.TensorInfo };
  const { perm } = attrs as unknown as { perm: number[] };
  if (x.dtype === 'string' || x.dtype === 'complex64') return null;
  const strides = [...tf.util.computeStrides(x.shape), 1];
  const shape = perm.map((p) => x.shape[p]);
  const step = perm.map((p) => strides[p]);
  return output(backend, gatherByOdometer(read(backend, x), shape, step, shape), shape, x.dtype);
}

function tile({ inputs, attrs }: KernelArgs, backend: tf.KernelBackend): tf.TensorInfo | null {
  const { x } = inputs as { x: tf.TensorInfo };
  const { reps } = attrs as unknown as { reps: number[] };
  if (x.dtype === 'string' || x.dtype === 'complex64') return null;
  const strides = [...tf.util.computeStrides(x.shape), 1];
  const shape = x.shape.map((n, d) => n * reps[d]);
  return output(backend, gatherByOdometer(read(backend, x), shape, strides, x.shape), shape, x.dtype);
}

// ---------------------------------------------------------------- element-wise

type BinaryOp = (a: number, b: number) => number;

/** Shape without its leading ones, so [1, 1, 1, C] reads as [C]. */
function withoutLeadingOnes(shape: number[]): number[] {
  let first = 0;
  while (first < shape.length && shape[first] === 1) first++;
  return shape.slice(first);
}

/**
 * `op` over float32 operands where one has the output's shape and the other is a scalar,
 * the same shape, or a suffix of it ([C] or [1, 1, 1, C] against [N, H, W, C]): the
 * shapes batch norm's gradient uses. Like the stock kernels it computes in float64 and
 * stores float32. Other broadcasts return null and go to the stock kernel.
 */
function binary(op: BinaryOp): (args: KernelArgs, backend: tf.KernelBackend) => tf.TensorInfo | null {
  return ({ inputs }, backend) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const aIsFull = tf.util.arraysEqual(a.shape, shape);
    const small = aIsFull ? b : a;
    if (!(aIsFull || tf.util.arraysEqual(b.shape, shape))) return null;
    const suffix = withoutLeadingOnes(small.shape);
    if (!tf.util.arraysEqual(suffix, withoutLeadingOnes(shape).slice(-suffix.length || Infinity))) return null;
    const aValues = read(backend, a);
    const bValues = read(backend, b);
    const out = new Float32Array(tf.util.sizeFromShape(shape));
    const period = tf.util.sizeFromShape(small.shape);
    for (let base = 0; base < out.length; base += period) {
      if (aIsFull) for (let j = 0; j < period; j++) out[base + j] = op(aValues[base + j], bValues[j]);
      else for (let j = 0; j < period; j++) out[base + j] = op(aValues[j], bValues[base + j]);
    }
    return output(backend, out, shape, 'float32');
  };
}

// ---------------------------------------------------------------- reductions

/**
 * Sums over leading axes ([N, H, W, C] → [C], batch norm's statistics and gradients).
 * The stock kernel first transposes the reduced axes to the end; adding each column in
 * memory order adds the same terms in the same order without the transpose.
 * With `scaled`, each term is divided by the count first, as the stock Mean does.
 */
function sumLeadingAxes(scaled: boolean): (args: KernelArgs, backend: tf.KernelBackend) => tf.TensorInfo | null {
  return ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
    if (x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) === 0) return null;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
    if (axes.length === 0 || axes.length === x.shape.length || axes.some((a, i) => a !== i)) return null;
    const kept = x.shape.slice(axes.length);
    const columns = tf.util.sizeFromShape(kept);
    const rows = tf.util.sizeFromShape(x.shape) / columns;
    const values = read(backend, x);
    const sums = new Float64Array(columns);
    if (scaled) {
      // Mean rounds each x / n to float32 before summing; so must we, to agree bit for bit.
      for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) sums[c] += Math.fround(values[r * columns + c] / rows);
    } else {
      for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) sums[c] += values[r * columns + c];
    }
    const shape = keepDims ? [...axes.map(() => 1), ...kept] : kept;
    return output(backend, Float32Array.from(sums), shape, 'float32');
  };
}

// ---------------------------------------------------------------- registration

/** Replaces one registered kernel; where `fast` returns null the stock kernel runs instead. Returns the stock config. */
function override(kernelName: string, fast: (args: KernelArgs, backend: tf.KernelBackend) => tf.TensorInfo | null): tf.KernelConfig {
  const stock = tf.getKernel(kernelName, 'cpu') as tf.KernelConfig | undefined;
  if (stock === undefined) throw new Error(`No '${kernelName}' kernel is registered for the 'cpu' backend to replace.`);
  tf.unregisterKernel(kernelName, 'cpu');
  tf.registerKernel({ ...stock, kernelFunc: (args) => fast(args, args.backend as tf.KernelBackend) ?? stock.kernelFunc(args) });
  return stock;
}

/**
 * Swaps the slow `cpu` kernels described above for the fast ones, for every model in
 * the process (the kernel registry is global). Call after `tf.setBackend('cpu')` and
 * before training. Returns a function that puts the stock kernels back.
 */
export function useFastCpuKernels(): () => void {
  const stock = [
    override(tf.Conv2DBackpropFilter, conv2DBackpropFilter),
    override(tf.Conv2DBackpropInput, conv2DBackpropInput),
    override(tf.MaxPoolGrad, maxPoolGrad),
    override(tf.Transpose, transpose),
    override(tf.Tile, tile),
    override(tf.Sum, sumLeadingAxes(false)),
    override(tf.Mean, sumLeadingAxes(true)),
    override(
      tf.Add,
      binary((a, b) => a + b),
    ),
    override(
      tf.Sub,
      binary((a, b) => a - b),
    ),
    override(
      tf.Multiply,
      binary((a, b) => a * b),
    ),
    override(
      tf.RealDiv,
      binary((a, b) => a / b),
    ),
  ];
  return () => {
    for (const config of stock) {
      tf.unregisterKernel(config.kernelName, 'cpu');
      tf.registerKernel(config);
    }
  };
}
