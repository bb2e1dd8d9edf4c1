import * as tf from '@tensorflow/tfjs';
import { asTensor, registerWasmFastPaths, wrapKernel } from './wasmFastPaths';

/**
 * The three gradient kernels tfjs' wasm backend does not ship (tfjs#8474,
 * TFJS-FACTS #9), composed from kernels it has, so a convolution trains on
 * wasm. Each is written with tf ops inside a tidy (TFJS-FACTS #20); padding,
 * output sizes and rounding come from tfjs' own `computeConv2DInfo`, so
 * `same`/`valid`/explicit pads, odd sizes and strides match the cpu backend.
 *
 * - Conv2DBackpropFilter: one matrix product per filter tap — the input rows
 *   that tap reads (a strided slice of the padded input, `[b·oh·ow, ci]`)
 *   transposed times the output gradient `[b·oh·ow, co]`; a 1×1 stride-1
 *   convolution is a single product.
 * - DepthwiseConv2dNativeBackpropFilter: per tap, the same strided slice times
 *   the output gradient, summed over batch and positions (channel by channel).
 * - DepthwiseConv2dNativeBackpropInput: a transposed convolution — the output
 *   gradient spread out by the stride (zeros between), padded by the effective
 *   filter size, run through a stride-1 depthwise convolution with the filter
 *   flipped, its multiplier channels summed, and the forward pass's padding cropped off.
 */

type Attrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: 'NHWC' | 'NCHW';
  filterShape?: [number, number, number, number];
  inputShape?: [number, number, number, number];
};

function checkLayout(kernel: string, attrs: Attrs): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC')
    throw new Error(`${kernel} on wasm supports only NHWC (channels last) tensors; got dataFormat '${attrs.dataFormat}'.`);
}

/** The rows of the padded input `xPad` that filter tap (i, j) reads: `[b, oh, ow, c]`. */
function tapSlice(xPad: tf.Tensor4D, info: tf.backend_util.Conv2DInfo, i: number, j: number): tf.Tensor4D {
  const top = i * info.dilationHeight;
  const left = j * info.dilationWidth;
  const end = [xPad.shape[0], top + (info.outHeight - 1) * info.strideHeight + 1, left + (info.outWidth - 1) * info.strideWidth + 1, xPad.shape[3]];
  const whole = top === 0 && left === 0 && info.strideHeight === 1 && info.strideWidth === 1 && end[1] === xPad.shape[1] && end[2] === xPad.shape[2];
  if (whole) return xPad; // a 1×1 stride-1 convolution reads every row: no copy
  const [b, , , c] = xPad.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  // Stride 1: a plain slice (wasm's Slice copies rows; its StridedSlice walks element by element, many times slower).
  if (sh === 1 && sw === 1) return tf.slice(xPad, [0, top, left, 0], [b, oh, ow, c]) as tf.Tensor4D;
  // Strided: the oh·sh × ow·sw block from (top, left), seen as [b·oh, sh, ow, sw·c], keeps sub-row 0 and the first c
  // values of each sw·c group, i.e. every sh-th row and sw-th column (tapSource padded the block to fit).
  if (top + oh * sh <= xPad.shape[1] && left + ow * sw <= xPad.shape[2]) {
    const block = tf.slice(xPad, [0, top, left, 0], [b, oh * sh, ow * sw, c]);
    return tf.slice(block.reshape([b * oh, sh, ow, sw * c]), [0, 0, 0, 0], [b * oh, 1, ow, c]).reshape([b, oh, ow, c]) as tf.Tensor4D;
  }
  return tf.stridedSlice(xPad, [0, top, left, 0], end, [1, info.strideHeight, info.strideWidth, 1]) as tf.Tensor4D;
}

/** `xPad` with zero rows/columns added at the bottom/right so every tap's strided block fits (tapSlice's fast path). */
function tapSource(xPad: tf.Tensor4D, info: tf.backend_util.Conv2DInfo, kh: number, kw: number): tf.Tensor4D {
  if (info.strideHeight === 1 && info.strideWidth === 1) return xPad;
  const needH = (kh - 1) * info.dilationHeight + info.outHeight * info.strideHeight - xPad.shape[1];
  const needW = (kw - 1) * info.dilationWidth + info.outWidth * info.strideWidth - xPad.shape[2];
  if (needH <= 0 && needW <= 0) return xPad;
  return tf.pad(xPad, [
    [0, 0],
    [0, Math.max(0, needH)],
    [0, Math.max(0, needW)],
    [0, 0],
  ]);
}

/** `x` zero-padded as the forward pass pads it (top/left as computed; bottom/right may be cut when the last rows are never read). */
function padded(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { top, bottom, left, right } = info.padInfo;
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return x;
  return tf.pad(x, [
    [0, 0],
    [top, Math.max(0, bottom)],
    [left, Math.max(0, right)],
    [0, 0],
  ]);
}

/**
 * dW of a k×k convolution (k > 1) as one convolution: the padded input with batch and channels swapped
 * (`[ci, h, w, b]`) convolved with the output gradient as the filter (`[oh, ow, b, co]`), dilated by the
 * forward stride, gives `[ci, kh, kw, co]` (TFJS-FACTS #20) — XNNPACK's convolution, several times faster
 * than a product per tap. Null when the forward pass is both strided and dilated (tfjs' conv2d takes one).
 */
function filterByConvolution(x: tf.Tensor4D, dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo, filterShape: number[]): tf.Tensor4D | null {
  const [kh, kw, ci, co] = filterShape;
  const strided = info.strideHeight > 1 || info.strideWidth > 1;
  const dilated = info.dilationHeight > 1 || info.dilationWidth > 1;
  if (strided && dilated) return null;
  const swapped = tf.transpose(padded(x, info), [3, 1, 2, 0]) as tf.Tensor4D;
  const gradient = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  const out = dilated
    ? tf.conv2d(swapped, gradient, [info.dilationHeight, info.dilationWidth], 'valid')
    : tf.conv2d(swapped, gradient, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]);
  return tf.transpose(out.slice([0, 0, 0, 0], [ci, kh, kw, co]), [1, 2, 0, 3]) as tf.Tensor4D;
}

/** dW of a 2-D convolution, `[kh, kw, ci, co]`, from its input and output gradient. */
export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: Attrs): tf.Tensor4D {
  const filterShape = attrs.filterShape!;
  const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode);
  return tf.tidy(() => {
    const [kh, kw, ci, co] = filterShape;
    if (kh > 1 || kw > 1) {
      const whole = filterByConvolution(x, dy, info, filterShape);
      if (whole) return whole;
    }
    const rows = dy.shape[0] * dy.shape[1] * dy.shape[2];
    const dy2 = dy.reshape([rows, co]);
    const xPad = tapSource(padded(x, info), info, kh, kw);
    const taps: tf.Tensor2D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) taps.push(tf.matMul(tapSlice(xPad, info, i, j).reshape([rows, ci]), dy2, true, false));
    }
    return (taps.length === 1 ? taps[0] : tf.stack(taps)).reshape([kh, kw, ci, co]);
  });
}

/** dW of a depthwise convolution, `[kh, kw, c, m]`. */
export function depthwiseBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, attrs: Attrs): tf.Tensor4D {
  const filterShape = attrs.filterShape!;
  const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true);
  return tf.tidy(() => {
    const [kh, kw, c, m] = filterShape;
    const [b, oh, ow] = dy.shape;
    const dy5 = dy.reshape([b, oh, ow, c, m]);
    const xPad = tapSource(padded(x, info), info, kh, kw);
    const taps: tf.Tensor[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        // One tap at a time in its own tidy: the product is as large as the activation.
        taps.push(
          tf.tidy(() => {
            const slice = tapSlice(xPad, info, i, j);
            return m === 1 ? tf.sum(tf.mul(slice, dy), [0, 1, 2]) : tf.sum(tf.mul(slice.reshape([b, oh, ow, c, 1]), dy5), [0, 1, 2]);
          }),
        );
      }
    }
    return tf.stack(taps).reshape([kh, kw, c, m]);
  });
}

/** dX of a depthwise convolution, `inputShape`, from its output gradient and filter. */
export function depthwiseBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: Attrs): tf.Tensor4D {
  const inputShape = attrs.inputShape!;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, true);
  return tf.tidy(() => {
    const [b, h, w, c] = inputShape;
    const [kh, kw, , m] = filter.shape;
    const [, oh, ow, cm] = dy.shape;
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    // Spread the gradient out by the stride: [b, (oh−1)·sh+1, (ow−1)·sw+1, c·m] with zeros between.
    let spread: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      const holes = tf.pad(dy.reshape([b, oh, 1, ow, 1, cm]), [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ]);
      spread = holes.reshape([b, oh * sh, ow * sw, cm]).slice([0, 0, 0, 0], [b, (oh - 1) * sh + 1, (ow - 1) * sw + 1, cm]) as tf.Tensor4D;
    }
    const { top, left } = info.padInfo;
    const effH = (kh - 1) * dh;
    const effW = (kw - 1) * dw;
    const bottom = Math.max(0, top + h - spread.shape[1]);
    const right = Math.max(0, left + w - spread.shape[2]);
    const framed = tf.pad(spread, [
      [0, 0],
      [effH, bottom],
      [effW, right],
      [0, 0],
    ]);
    const flipped = tf.reverse(filter, [0, 1]).reshape([kh, kw, cm, 1]) as tf.Tensor4D;
    let full: tf.Tensor4D = tf.depthwiseConv2d(framed, flipped, 1, 'valid', 'NHWC', [dh, dw]);
    if (m > 1) full = tf.sum(full.reshape([b, full.shape[1], full.shape[2], c, m]), 4) as tf.Tensor4D;
    return full.slice([0, top, left, 0], [b, h, w, c]);
  });
}

/**
 * dX of a 1×1, stride-1, unpadded convolution as one matrix product (`dy · Wᵀ`), or null for any other
 * convolution. wasm's own Conv2DBackpropInput is a plain loop, several times slower than its matrix
 * product; MobileNetV2's pointwise convolutions are most of its backward pass.
 */
export function pointwiseBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, attrs: Attrs): tf.Tensor4D | null {
  const inputShape = attrs.inputShape!;
  const [kh, kw, ci, co] = filter.shape;
  if (kh !== 1 || kw !== 1 || (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC')) return null;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode);
  const { top, bottom, left, right } = info.padInfo;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || top || bottom || left || right) return null;
  return tf.tidy(() => tf.matMul(dy.reshape([-1, co]), filter.reshape([ci, co]), false, true).reshape(inputShape) as tf.Tensor4D);
}

const KERNELS: { name: string; run: (inputs: tf.NamedTensorInfoMap, attrs: Attrs) => tf.Tensor }[] = [
  { name: 'Conv2DBackpropFilter', run: (inputs, attrs) => conv2dBackpropFilter(asTensor(inputs.x) as tf.Tensor4D, asTensor(inputs.dy) as tf.Tensor4D, attrs) },
  {
    name: 'DepthwiseConv2dNativeBackpropFilter',
    run: (inputs, attrs) => depthwiseBackpropFilter(asTensor(inputs.x) as tf.Tensor4D, asTensor(inputs.dy) as tf.Tensor4D, attrs),
  },
  {
    name: 'DepthwiseConv2dNativeBackpropInput',
    run: (inputs, attrs) => depthwiseBackpropInput(asTensor(inputs.dy) as tf.Tensor4D, asTensor(inputs.filter) as tf.Tensor4D, attrs),
  },
];

/** The kernel names registerWasmGradients adds. */
export const WASM_GRADIENT_KERNELS: readonly string[] = KERNELS.map((k) => k.name);

/**
 * Registers the missing gradient kernels for `backendName` (default 'wasm'),
 * each only where that backend has none of its own, the pointwise fast
 * path of Conv2DBackpropInput and the fast paths of engine/wasmFastPaths.ts.
 * Safe to call twice.
 */
export function registerWasmGradients(backendName = 'wasm'): void {
  registerWasmFastPaths(backendName);
  wrapKernel('Conv2DBackpropInput', backendName, ({ inputs, attrs }) =>
    pointwiseBackpropInput(asTensor(inputs.dy) as tf.Tensor4D, asTensor(inputs.filter) as tf.Tensor4D, attrs as unknown as Attrs),
  );
  for (const kernel of KERNELS) {
    if (tf.getKernel(kernel.name, backendName)) continue;
    tf.registerKernel({
      kernelName: kernel.name,
      backendName,
      kernelFunc: ({ inputs, attrs }) => {
        const a = attrs as unknown as Attrs;
        checkLayout(kernel.name, a);
        return kernel.run(inputs, a);
      },
    });
  }
}
