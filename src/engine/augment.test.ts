import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { augmentImage, checkAugmentation, DEFAULT_AUGMENTATION, drawAugmentation, isAugmentationOn } from '../core/augment';
import { augmentedImageSource } from './augmentedSource';
import { makeBatch } from './batches';
import { createRandom, type Random } from '../core/random';
import { createTinyImages } from './testing/tinyModel';
import type { AugmentationConfig, InputShape, Preprocessing } from '../core/types';

const OFF: AugmentationConfig = { flip: false, crop: 0, rotation: 0, brightness: 0, contrast: 0 };
const preprocessing: Preprocessing = { range: [-1, 1], resize: 'stretch' };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * A stand-in generator returning `draws` for one image in drawAugmentation's
 * order: flip, crop, shift x, shift y, angle, brightness, contrast.
 */
function fixed(draws: Partial<Record<'flip' | 'crop' | 'shiftX' | 'shiftY' | 'angle' | 'brightness' | 'contrast', number>>): Random {
  const order = ['flip', 'crop', 'shiftX', 'shiftY', 'angle', 'brightness', 'contrast'] as const;
  // 0.5 is the middle of every symmetric draw (no shift, no angle); crop 0 keeps everything; flip 0.9 does not flip.
  const defaults = { flip: 0.9, crop: 0, shiftX: 0.5, shiftY: 0.5, angle: 0.5, brightness: 0.5, contrast: 0.5 };
  let i = 0;
  return () => {
    const name = order[i++ % order.length];
    return draws[name] ?? defaults[name];
  };
}

/** An image of `shape` with seeded values spread over 0..255. */
function noiseImage(shape: InputShape, seed = 5): Uint8Array {
  const random = createRandom(seed);
  return Uint8Array.from({ length: shape.height * shape.width * shape.channels }, () => Math.floor(random() * 256));
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

describe('augmentImage', () => {
  it.each([1, 3])('returns a bit-identical copy when everything is off (%i channels)', (channels) => {
    const shape = { height: 7, width: 5, channels };
    const image = noiseImage(shape);
    const out = augmentImage(image, shape, OFF, createRandom(1));
    expect(out).toEqual(image);
    expect(out).not.toBe(image);
  });

  it('keeps the image when rotation and crop are on but draw 0° and a full-size window', () => {
    const shape = { height: 6, width: 6, channels: 3 };
    const image = noiseImage(shape);
    const out = augmentImage(image, shape, { ...OFF, rotation: 30, crop: 0.4 }, fixed({ crop: 0, angle: 0.5 }));
    expect(out).toEqual(image);
  });

  it('flips a known asymmetric grey image left–right', () => {
    const shape = { height: 2, width: 3, channels: 1 };
    const out = augmentImage(Uint8Array.from([1, 2, 3, 4, 5, 6]), shape, { ...OFF, flip: true }, fixed({ flip: 0.1 }));
    expect([...out]).toEqual([3, 2, 1, 6, 5, 4]);
  });

  it("flips an RGB image pixel by pixel, keeping each pixel's channels in order", () => {
    const shape = { height: 1, width: 3, channels: 3 };
    const image = Uint8Array.from([10, 11, 12, 20, 21, 22, 30, 31, 32]);
    const out = augmentImage(image, shape, { ...OFF, flip: true }, fixed({ flip: 0 }));
    expect([...out]).toEqual([30, 31, 32, 20, 21, 22, 10, 11, 12]);
  });

  it('does not flip when the flip draw is ½ or more, nor when flip is off', () => {
    const shape = { height: 2, width: 3, channels: 1 };
    const image = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    expect([...augmentImage(image, shape, { ...OFF, flip: true }, fixed({ flip: 0.5 }))]).toEqual([...image]);
    expect([...augmentImage(image, shape, OFF, fixed({ flip: 0 }))]).toEqual([...image]);
  });

  it.each([1, 3])('flipping twice gives the image back bit for bit (%i channels)', (channels) => {
    const shape = { height: 9, width: 8, channels };
    const image = noiseImage(shape, 11);
    const flip = { ...OFF, flip: true };
    const once = augmentImage(image, shape, flip, fixed({ flip: 0 }));
    expect(once).not.toEqual(image);
    expect(augmentImage(once, shape, flip, fixed({ flip: 0 }))).toEqual(image);
  });

  it('rotates a square image by exactly 90° four times back to itself, and +90° then −90° likewise', () => {
    const shape = { height: 5, width: 5, channels: 1 };
    const image = noiseImage(shape, 3);
    const quarter = { ...OFF, rotation: 90 };
    const plus = () => fixed({ angle: 1 }); // 2·1 − 1 = +1 → +90°
    const minus = () => fixed({ angle: 0 }); // −90°
    const once = augmentImage(image, shape, quarter, plus());
    expect(once).not.toEqual(image);
    let turned = once;
    for (let i = 0; i < 3; i++) turned = augmentImage(turned, shape, quarter, plus());
    expect(turned).toEqual(image);
    expect(augmentImage(once, shape, quarter, minus())).toEqual(image);
    // A quarter turn moves whole columns to rows: the first row of the result is a column of the source.
    const column = (x: number) => [0, 1, 2, 3, 4].map((y) => image[y * 5 + x]);
    const firstRow = [...once.subarray(0, 5)];
    const candidates = [column(0), column(0).reverse(), column(4), column(4).reverse()];
    expect(candidates).toContainEqual(firstRow);
  });

  it('a centred crop keeping half of each side zooms into the middle, sampled bilinearly', () => {
    const shape = { height: 4, width: 4, channels: 1 };
    // Value 10·x in column x.
    const image = Uint8Array.from({ length: 16 }, (_, i) => 10 * (i % 4));
    const out = augmentImage(image, shape, { ...OFF, crop: 0.5 }, fixed({ crop: 1 }));
    // Output column x samples source x = 0.5·x + 0.75.
    for (let y = 0; y < 4; y++) expect([...out.subarray(y * 4, y * 4 + 4)]).toEqual([8, 13, 18, 23]);
  });

  it('fills rotated corners with reflected content, never black', () => {
    const shape = { height: 8, width: 8, channels: 1 };
    const image = new Uint8Array(64).fill(200);
    const out = augmentImage(image, shape, { ...OFF, rotation: 45 }, fixed({ angle: 1 }));
    expect(Math.min(...out)).toBe(200);
  });

  it('brightness shifts the mean by the drawn fraction of the pixel range', () => {
    const shape = { height: 10, width: 10, channels: 3 };
    // Values 50..199, far from both ends, so nothing is clamped.
    const image = Uint8Array.from({ length: 300 }, (_, i) => 50 + (i % 150));
    const up = augmentImage(image, shape, { ...OFF, brightness: 0.1 }, fixed({ brightness: 0.75 }));
    // (2·0.75 − 1) · 0.1 · 255 = +12.75, rounded per pixel to +13.
    expect(mean(up) - mean(image)).toBe(13);
    expect(new Set(up.map((v, i) => v - image[i]))).toEqual(new Set([13]));
    // (2·0 − 1) · 0.1 · 255 = −25.5, rounded (half up) to −25.
    const down = augmentImage(image, shape, { ...OFF, brightness: 0.1 }, fixed({ brightness: 0 }));
    expect(mean(down) - mean(image)).toBe(-25);
  });

  it('contrast scales the spread about the mean and keeps the mean', () => {
    const shape = { height: 1, width: 4, channels: 1 };
    const image = Uint8Array.from([100, 120, 140, 160]);
    // Factor 1 + (2·1 − 1)·0.5 = 1.5 about the mean 130.
    const out = augmentImage(image, shape, { ...OFF, contrast: 0.5 }, fixed({ contrast: 1 }));
    expect([...out]).toEqual([85, 115, 145, 175]);
  });

  it('clamps to 0..255 instead of wrapping around', () => {
    const shape = { height: 3, width: 3, channels: 1 };
    const bright = augmentImage(new Uint8Array(9).fill(250), shape, { ...OFF, brightness: 1 }, fixed({ brightness: 1 }));
    expect([...bright]).toEqual(new Array(9).fill(255));
    const dark = augmentImage(new Uint8Array(9).fill(5), shape, { ...OFF, brightness: 1 }, fixed({ brightness: 0 }));
    expect([...dark]).toEqual(new Array(9).fill(0));
    const contrast = augmentImage(Uint8Array.from([0, 0, 0, 0, 255, 255, 255, 255, 255]), shape, { ...OFF, contrast: 1 }, fixed({ contrast: 1 }));
    expect([...contrast]).toEqual([0, 0, 0, 0, 255, 255, 255, 255, 255]);
  });

  it('the same seed gives the same images; each call draws anew', () => {
    const shape = { height: 8, width: 8, channels: 3 };
    const image = noiseImage(shape);
    const config = { flip: true, crop: 0.3, rotation: 20, brightness: 0.2, contrast: 0.2 };
    const run = (seed: number) => {
      const random = createRandom(seed);
      return [0, 1, 2].map(() => augmentImage(image, shape, config, random));
    };
    const [a, b, c] = run(42);
    expect(run(42)).toEqual([a, b, c]);
    expect(a).not.toEqual(b);
    expect(b).not.toEqual(c);
    expect(run(43)[0]).not.toEqual(a);
  });

  it('takes exactly 7 draws per image whatever is on', () => {
    let calls = 0;
    const counting: Random = () => (calls++, 0.3);
    const shape = { height: 4, width: 4, channels: 1 };
    augmentImage(new Uint8Array(16), shape, OFF, counting);
    expect(calls).toBe(7);
    drawAugmentation(shape, DEFAULT_AUGMENTATION, counting);
    expect(calls).toBe(14);
  });

  it('refuses pixels of another size, naming both', () => {
    expect(() => augmentImage(new Uint8Array(10), { height: 2, width: 2, channels: 3 }, OFF, createRandom(1))).toThrow(/10 pixel values for a 2×2×3 image/);
  });
});

describe('checkAugmentation and isAugmentationOn', () => {
  it.each([
    [{ ...OFF, crop: 0.7 }, 'Crop 0.7 is too large: keep at least half of each side (crop < 0.5).'],
    [{ ...OFF, crop: 0.5 }, 'Crop 0.5 is too large: keep at least half of each side (crop < 0.5).'],
    [{ ...OFF, crop: -0.1 }, 'Crop -0.1 is not a fraction from 0 (off) to below 0.5: set it to 0.1, say.'],
    [{ ...OFF, rotation: 60 }, 'Rotation 60° is too large: keep it at most 45 degrees.'],
    [{ ...OFF, rotation: Number.NaN }, 'Rotation NaN° is not an angle from 0 (off) to 45 degrees: set it to 10, say.'],
    [{ ...OFF, brightness: 1.5 }, 'Brightness 1.5 is out of range: it is a fraction of the pixel range from 0 (off) to 1; 0.1 is a usual value.'],
    [{ ...OFF, contrast: -1 }, 'Contrast -1 is out of range: it is a fraction from 0 (off) to 1; 0.1 is a usual value.'],
  ])('%o → %s', (config, message) => {
    expect(checkAugmentation(config)).toBe(message);
  });

  it.each([null, undefined, OFF, DEFAULT_AUGMENTATION, { ...OFF, crop: 0.49, rotation: 45, brightness: 1, contrast: 1 }])('accepts %o', (config) => {
    expect(checkAugmentation(config)).toBeNull();
  });

  it.each([
    [null, false],
    [undefined, false],
    [OFF, false],
    [{ ...OFF, flip: true }, true],
    [{ ...OFF, crop: 0.1 }, true],
    [{ ...OFF, rotation: 5 }, true],
    [{ ...OFF, brightness: 0.1 }, true],
    [{ ...OFF, contrast: 0.1 }, true],
  ])('isAugmentationOn(%o) is %s', (config, on) => {
    expect(isAugmentationOn(config)).toBe(on);
  });
});

describe('augmentedImageSource', () => {
  const set = createTinyImages(12, 2);
  const config = { flip: true, crop: 0.2, rotation: 15, brightness: 0.1, contrast: 0.1 };

  it('yields [b, 8, 8, 1] inputs in the preprocessing range and the same one-hot labels as makeBatch', async () => {
    const source = augmentedImageSource(set, 2, preprocessing, config, 9);
    expect(source.count).toBe(12);
    const indices = [3, 0, 7, 11, 5];
    const { xs, ys } = source.batch(indices);
    const plain = makeBatch(set, indices, 2, preprocessing);
    expect(xs.shape).toEqual([5, 8, 8, 1]);
    expect(ys.shape).toEqual([5, 2]);
    const values = await xs.data();
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...values)).toBeLessThanOrEqual(1);
    expect(await ys.data()).toEqual(await plain.ys.data());
    expect(await xs.data()).not.toEqual(await plain.xs.data());
    tf.dispose([xs, ys, plain.xs, plain.ys]);
  });

  it('draws anew on every call, repeatably for the same seed', async () => {
    const read = async (seed: number) => {
      const source = augmentedImageSource(set, 2, preprocessing, config, seed);
      const out: Float32Array[] = [];
      for (let i = 0; i < 2; i++) {
        const { xs, ys } = source.batch([0, 1, 2]);
        out.push((await xs.data()) as Float32Array);
        tf.dispose([xs, ys]);
      }
      return out;
    };
    const [first, second] = await read(4);
    expect(second).not.toEqual(first);
    expect(await read(4)).toEqual([first, second]);
  });

  it("with augmentation off gives exactly makeBatch's batch", async () => {
    const source = augmentedImageSource(set, 2, preprocessing, OFF, 1);
    const { xs, ys } = source.batch([0, 5, 9]);
    const plain = makeBatch(set, [0, 5, 9], 2, preprocessing);
    expect(await xs.data()).toEqual(await plain.xs.data());
    tf.dispose([xs, ys, plain.xs, plain.ys]);
  });

  it('leaves only the two tensors it returns, still alive, and none after they are disposed', async () => {
    const source = augmentedImageSource(set, 2, preprocessing, config, 2);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const { xs, ys } = source.batch([i, i + 1, i + 2, i + 3]);
      expect(tf.memory().numTensors).toBe(before + 2);
      expect(xs.isDisposed || ys.isDisposed).toBe(false);
      await xs.data();
      tf.dispose([xs, ys]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('never changes the stored pixels', () => {
    const copy = set.pixels.slice();
    const { xs, ys } = augmentedImageSource(set, 2, preprocessing, config, 3).batch([0, 1, 2, 3]);
    tf.dispose([xs, ys]);
    expect(set.pixels).toEqual(copy);
  });
});
