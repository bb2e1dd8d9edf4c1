import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PIXEL_BUDGET, pixelBudgetReason, readImageSize } from './imageHeader';
import { type ImageFormat, sniffFileType } from './sniff';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const be16 = (n: number) => [(n >> 8) & 255, n & 255];
const le16 = (n: number) => [n & 255, (n >> 8) & 255];
const be32 = (n: number) => [(n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
const le32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
const le24 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255];

const png = (w: number, h: number) => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...be32(13), ...ascii('IHDR'), ...be32(w), ...be32(h), 8, 6, 0, 0, 0];
const gif = (w: number, h: number) => [...ascii('GIF89a'), ...le16(w), ...le16(h), 0, 0, 0];
const riff = (chunk: string, body: number[]) => [...ascii('RIFF'), ...le32(body.length + 12), ...ascii('WEBP'), ...ascii(chunk), ...le32(body.length), ...body];
const vp8 = (w: number, h: number) => riff('VP8 ', [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, ...le16(w), ...le16(h), 0, 0]);
const vp8l = (w: number, h: number) => {
  const bits = (w - 1) | ((h - 1) << 14); // 14 + 14 bits, then alpha and version bits left 0
  return riff('VP8L', [0x2f, ...le32(bits), 0, 0, 0, 0, 0]);
};
const vp8x = (w: number, h: number) => riff('VP8X', [0x10, 0, 0, 0, ...le24(w - 1), ...le24(h - 1)]);
const bmp = (w: number, h: number, dib = 40) =>
  dib === 12
    ? [...ascii('BM'), ...le32(0), 0, 0, 0, 0, ...le32(26), ...le32(12), ...le16(w), ...le16(h), 1, 0, 24, 0]
    : [...ascii('BM'), ...le32(0), 0, 0, 0, 0, ...le32(54), ...le32(dib), ...le32(w), ...le32(h), 1, 0, 24, 0, ...new Array(24).fill(0)];

const segment = (marker: number, body: number[]) => [0xff, marker, ...be16(body.length + 2), ...body];
const sof = (marker: number, w: number, h: number) => segment(marker, [8, ...be16(h), ...be16(w), 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
const jfif = segment(0xe0, [...ascii('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
const jpeg = (...parts: number[][]) => [0xff, 0xd8, ...parts.flat()];

describe('readImageSize', () => {
  it.each<[string, number[], ImageFormat, { width: number; height: number } | null]>([
    ['PNG IHDR', png(640, 480), 'png', { width: 640, height: 480 }],
    ['PNG 12,000×9,000', png(12000, 9000), 'png', { width: 12000, height: 9000 }],
    ['PNG without IHDR first', [...png(1, 1).slice(0, 12), ...ascii('IDAT'), 0, 0, 0, 1, 0, 0, 0, 1], 'png', null],
    ['PNG cut in the IHDR', png(640, 480).slice(0, 20), 'png', null],
    ['PNG of width 0', png(0, 5), 'png', null],
    ['GIF logical screen', gif(320, 200), 'gif', { width: 320, height: 200 }],
    ['WebP lossy (VP8)', vp8(1024, 768), 'webp', { width: 1024, height: 768 }],
    ['WebP lossy, scale bits ignored', vp8(1024 | 0x4000, 768 | 0x8000), 'webp', { width: 1024, height: 768 }],
    ['WebP lossy without the start code', riff('VP8 ', [0, 0, 0, 1, 2, 3, 0, 4, 0, 3, 0, 0]), 'webp', null],
    ['WebP lossless (VP8L)', vp8l(4000, 3000), 'webp', { width: 4000, height: 3000 }],
    ['WebP lossless, largest', vp8l(16384, 16384), 'webp', { width: 16384, height: 16384 }],
    ['WebP extended (VP8X)', vp8x(20000, 10000), 'webp', { width: 20000, height: 10000 }],
    ['BMP bottom-up', bmp(800, 600), 'bmp', { width: 800, height: 600 }],
    ['BMP top-down (negative height)', bmp(800, -600), 'bmp', { width: 800, height: 600 }],
    ['BMP V5 header', bmp(7, 9, 124), 'bmp', { width: 7, height: 9 }],
    ['BMP core header (16-bit sizes)', bmp(300, 200, 12), 'bmp', { width: 300, height: 200 }],
    ['BMP negative width', bmp(-5, 5), 'bmp', null],
    ['JPEG baseline', jpeg(jfif, sof(0xc0, 4000, 3000), segment(0xda, [0])), 'jpeg', { width: 4000, height: 3000 }],
    ['JPEG progressive', jpeg(jfif, sof(0xc2, 33, 44)), 'jpeg', { width: 33, height: 44 }],
    ['JPEG with a DHT (FFC4) before the frame', jpeg(segment(0xc4, [0, 1, 2]), sof(0xc1, 5, 6)), 'jpeg', { width: 5, height: 6 }],
    ['JPEG behind a 40 KB EXIF segment', jpeg(segment(0xe1, new Array(40_000).fill(7)), sof(0xc0, 100, 50)), 'jpeg', { width: 100, height: 50 }],
    ['JPEG with fill bytes before a marker', jpeg(jfif, [0xff, 0xff], sof(0xc0, 9, 8)), 'jpeg', { width: 9, height: 8 }],
    ['JPEG whose scan starts before any frame', jpeg(jfif, segment(0xda, [0]), sof(0xc0, 9, 8)), 'jpeg', null],
    ['JPEG whose frame header is beyond the bytes', jpeg(jfif, [0xff, 0xc0, 0, 17, 8]), 'jpeg', null],
    ['JPEG with garbage instead of a marker', jpeg([0x12, 0x34, 0, 0, 0, 0]), 'jpeg', null],
    ['JPEG with a zero-length segment', jpeg([0xff, 0xe0, 0, 0], sof(0xc0, 1, 1)), 'jpeg', null],
    ['a PNG asked as GIF', png(1, 1).slice(0, 9), 'gif', null],
  ])('%s', (_name, bytes, format, expected) => {
    expect(readImageSize(Uint8Array.from(bytes), format)).toEqual(expected);
  });

  it('agrees with the sniffer on the headers it builds', () => {
    for (const [bytes, format] of [
      [png(2, 2), 'png'],
      [gif(2, 2), 'gif'],
      [vp8x(2, 2), 'webp'],
      [bmp(2, 2), 'bmp'],
      [jpeg(jfif, sof(0xc0, 2, 2)), 'jpeg'],
    ] as const) {
      expect(sniffFileType(Uint8Array.from(bytes))).toEqual({ kind: 'image', format });
    }
  });

  it('never throws and never returns a size below 1 on random bytes (property)', () => {
    const formats = fc.constantFrom<ImageFormat>('png', 'jpeg', 'gif', 'webp', 'bmp');
    const prefixes = fc.constantFrom(
      png(1, 1).slice(0, 16),
      [0xff, 0xd8],
      ascii('GIF89a'),
      riff('VP8X', []).slice(0, 16),
      [...ascii('BM'), ...new Array(12).fill(0), 40, 0, 0, 0],
      [],
    );
    fc.assert(
      fc.property(formats, prefixes, fc.uint8Array({ maxLength: 80 }), (format, prefix, tail) => {
        const size = readImageSize(Uint8Array.from([...prefix, ...tail]), format);
        if (size) expect(Math.min(size.width, size.height)).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('pixelBudgetReason', () => {
  it.each<[string, number, number, number | undefined, string | null]>([
    [
      'x/big.png',
      12000,
      9000,
      undefined,
      `'x/big.png' is 12,000×9,000 (108.0 megapixels), over the 50-megapixel budget; it was not decoded. Resize it below 50 megapixels and add it again.`,
    ],
    [
      'a/猫.webp',
      10000,
      5001,
      undefined,
      `'a/猫.webp' is 10,000×5,001 (50.0 megapixels), over the 50-megapixel budget; it was not decoded. Resize it below 50 megapixels and add it again.`,
    ],
    ['x/ok.png', 10000, 5000, undefined, null],
    ['x/ok.jpg', 4000, 3000, undefined, null],
    [
      'x/small.png',
      3000,
      1000,
      2_000_000,
      `'x/small.png' is 3,000×1,000 (3.0 megapixels), over the 2-megapixel budget; it was not decoded. Resize it below 2 megapixels and add it again.`,
    ],
  ])('%s at %i×%i', (path, width, height, budget, expected) => {
    expect(pixelBudgetReason(path, { width, height }, budget)).toBe(expected);
  });

  it('uses a 50-megapixel budget by default', () => expect(PIXEL_BUDGET).toBe(50_000_000));
});
