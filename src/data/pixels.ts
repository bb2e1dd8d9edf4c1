import { DataError } from './errors';
import type { ImageShape } from './types';

/** Number of uint8 values in one image of `shape` (height × width × channels); throws `DataError` for a bad shape. */
export function imageByteLength(shape: ImageShape): number {
  const { height, width, channels } = shape;
  const sizeOk = Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0;
  if (!sizeOk || (channels !== 1 && channels !== 3)) {
    throw new DataError('bad-shape', `Image shape must have positive integer height and width and 1 or 3 channels, got ${JSON.stringify(shape)}.`);
  }
  return height * width * channels;
}

/**
 * Converts canvas RGBA (`[H·W·4]`, not premultiplied) to `channels` values per pixel, compositing over
 * black so transparent areas read as 0. Grey is luminance 0.299R + 0.587G + 0.114B, rounded.
 */
export function rgbaToChannels(rgba: Uint8ClampedArray | Uint8Array, channels: 1 | 3): Uint8Array {
  if (rgba.length % 4 !== 0) {
    throw new DataError('bad-pixels', `RGBA data must hold 4 values per pixel, got ${rgba.length} values.`);
  }
  const pixelCount = rgba.length / 4;
  const out = new Uint8Array(pixelCount * channels);
  for (let p = 0; p < pixelCount; p++) {
    const r = rgba[p * 4];
    const g = rgba[p * 4 + 1];
    const b = rgba[p * 4 + 2];
    const alpha = rgba[p * 4 + 3] / 255;
    if (channels === 1) {
      out[p] = Math.min(255, Math.round((0.299 * r + 0.587 * g + 0.114 * b) * alpha));
    } else {
      out[p * 3] = Math.round(r * alpha);
      out[p * 3 + 1] = Math.round(g * alpha);
      out[p * 3 + 2] = Math.round(b * alpha);
    }
  }
  return out;
}

/** Concatenates images of `shape` into one `[N, H, W, C]` uint8 buffer; throws `DataError` if one has the wrong length. */
export function packImages(images: readonly Uint8Array[], shape: ImageShape): Uint8Array {
  const length = imageByteLength(shape);
  const packed = new Uint8Array(images.length * length);
  images.forEach((pixels, i) => {
    if (pixels.length !== length) {
      throw new DataError('bad-pixels', `Image ${i} holds ${pixels.length} values; shape ${shape.height}×${shape.width}×${shape.channels} needs ${length}.`);
    }
    packed.set(pixels, i * length);
  });
  return packed;
}

/** Expands HWC pixels of `shape` to opaque RGBA (`[H·W·4]`) for `new ImageData(rgba, width, height)`; grey repeats into R, G, B. */
export function toRgbaForThumbnail(pixels: Uint8Array, shape: ImageShape): Uint8ClampedArray<ArrayBuffer> {
  const length = imageByteLength(shape);
  if (pixels.length !== length) {
    throw new DataError('bad-pixels', `Pixels hold ${pixels.length} values; shape ${shape.height}×${shape.width}×${shape.channels} needs ${length}.`);
  }
  const pixelCount = shape.height * shape.width;
  const rgba = new Uint8ClampedArray(pixelCount * 4);
  for (let p = 0; p < pixelCount; p++) {
    if (shape.channels === 1) {
      rgba[p * 4] = rgba[p * 4 + 1] = rgba[p * 4 + 2] = pixels[p];
    } else {
      rgba[p * 4] = pixels[p * 3];
      rgba[p * 4 + 1] = pixels[p * 3 + 1];
      rgba[p * 4 + 2] = pixels[p * 3 + 2];
    }
    rgba[p * 4 + 3] = 255;
  }
  return rgba;
}
