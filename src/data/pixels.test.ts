import { describe, expect, it } from 'vitest';
import { DataError } from './errors';
import { imageByteLength, packImages, rgbaToChannels, toRgbaForThumbnail } from './pixels';
import type { ImageShape } from './types';

const grey2x2: ImageShape = { height: 2, width: 2, channels: 1 };
const rgb1x2: ImageShape = { height: 1, width: 2, channels: 3 };

describe('rgbaToChannels', () => {
  it.each<[string, number[], 1 | 3, number[]]>([
    ['opaque colours to RGB', [255, 0, 0, 255, 10, 20, 30, 255], 3, [255, 0, 0, 10, 20, 30]],
    ['opaque colours to grey by luminance', [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255], 1, [76, 150, 29]],
    ['white stays 255 in grey', [255, 255, 255, 255], 1, [255]],
    ['transparent reads as black', [200, 100, 50, 0], 3, [0, 0, 0]],
    ['transparent grey reads as black', [255, 255, 255, 0], 1, [0]],
    ['half alpha is composited over black', [200, 100, 50, 128], 3, [100, 50, 25]],
  ])('%s', (_name, rgba, channels, expected) => {
    expect([...rgbaToChannels(Uint8ClampedArray.from(rgba), channels)]).toEqual(expected);
  });

  it('throws for data that is not whole pixels', () => {
    expect(() => rgbaToChannels(new Uint8ClampedArray(5), 3)).toThrow(DataError);
  });
});

describe('imageByteLength', () => {
  it.each<[ImageShape, number]>([
    [grey2x2, 4],
    [rgb1x2, 6],
    [{ height: 224, width: 224, channels: 3 }, 150528],
  ])('%j → %i', (shape, expected) => {
    expect(imageByteLength(shape)).toBe(expected);
  });

  it.each<[unknown]>([[{ height: 0, width: 2, channels: 1 }], [{ height: 2, width: 2.5, channels: 3 }], [{ height: 2, width: 2, channels: 4 }]])(
    'throws a bad-shape DataError for %j',
    (shape) => {
      expect(() => imageByteLength(shape as ImageShape)).toThrow(expect.objectContaining({ code: 'bad-shape' }));
    },
  );
});

describe('packImages', () => {
  it('concatenates images into one [N, H, W, C] buffer', () => {
    const packed = packImages([Uint8Array.of(1, 2, 3, 4), Uint8Array.of(5, 6, 7, 8)], grey2x2);
    expect([...packed]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(packImages([], grey2x2)).toHaveLength(0);
  });

  it('throws naming the image of the wrong length', () => {
    expect(() => packImages([new Uint8Array(4), new Uint8Array(3)], grey2x2)).toThrow(/Image 1 holds 3 values/);
  });
});

describe('toRgbaForThumbnail', () => {
  it.each<[string, number[], ImageShape, number[]]>([
    ['grey repeats into R, G, B', [0, 128, 255, 7], grey2x2, [0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 7, 7, 7, 255]],
    ['RGB gets opaque alpha', [1, 2, 3, 4, 5, 6], rgb1x2, [1, 2, 3, 255, 4, 5, 6, 255]],
  ])('%s', (_name, pixels, shape, expected) => {
    const rgba = toRgbaForThumbnail(Uint8Array.from(pixels), shape);
    expect(rgba).toBeInstanceOf(Uint8ClampedArray);
    expect([...rgba]).toEqual(expected);
  });

  it('throws for pixels of the wrong length', () => {
    expect(() => toRgbaForThumbnail(new Uint8Array(3), grey2x2)).toThrow(DataError);
  });
});
