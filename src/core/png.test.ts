import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodePng } from './png';

describe('encodePng', () => {
  it.each([1, 3, 4] as const)('writes a PNG that decodes back to the same %i-channel pixels', (channels) => {
    const [width, height] = [5, 3];
    const pixels = Uint8Array.from({ length: width * height * channels }, (_, i) => (i * 37) % 256);
    const decoded = PNG.sync.read(Buffer.from(encodePng(pixels, width, height, channels)));
    expect([decoded.width, decoded.height]).toEqual([width, height]);
    for (let p = 0; p < width * height; p++) {
      const rgba = decoded.data.subarray(p * 4, p * 4 + 4);
      const src = pixels.subarray(p * channels, (p + 1) * channels);
      const expected = channels === 1 ? [src[0], src[0], src[0], 255] : channels === 3 ? [...src, 255] : [...src];
      expect([...rgba]).toEqual(expected);
    }
  });

  it('refuses pixels that do not fill the size', () => {
    expect(() => encodePng(new Uint8Array(10), 2, 2, 3)).toThrow(/10 bytes are not 2×2×3/);
  });
});
