/**
 * Reads an image's width and height from its header bytes, so a file that would
 * decode to more pixels than the budget is refused before any decoder allocates
 * them (a 20,000×20,000 PNG is 1.6 GB of RGBA). Never throws on hostile bytes.
 */
import type { ImageFormat } from './sniff';

/** Width and height in pixels, both ≥ 1. */
export type ImageSize = { width: number; height: number };

/** Images with more pixels than this (50 megapixels) are refused before decoding. */
export const PIXEL_BUDGET = 50_000_000;

/**
 * How many leading bytes the ingest reads to sniff a file and find its size: enough for every
 * header, and for the JPEG frame header behind typical EXIF/ICC segments (64 KiB each at most).
 */
export const HEADER_READ_LENGTH = 64 * 1024;

function u16be(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32be(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function u24le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
}

function tag(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
}

function size(width: number, height: number): ImageSize | null {
  return Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 ? { width, height } : null;
}

function pngSize(b: Uint8Array): ImageSize | null {
  // Signature (8), IHDR length (4), 'IHDR' (4), width (4), height (4).
  if (b.length < 24 || tag(b, 12) !== 'IHDR') return null;
  return size(u32be(b, 16), u32be(b, 20));
}

function gifSize(b: Uint8Array): ImageSize | null {
  return b.length < 10 ? null : size(u16le(b, 6), u16le(b, 8));
}

function webpSize(b: Uint8Array): ImageSize | null {
  if (b.length < 30) return null;
  switch (tag(b, 12)) {
    case 'VP8 ':
      // Frame tag (3 bytes) then the key-frame start code 9d 01 2a, then 14-bit width and height.
      if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return null;
      return size(u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
    case 'VP8L': {
      if (b[20] !== 0x2f) return null;
      const width = 1 + (b[21] | ((b[22] & 0x3f) << 8));
      const height = 1 + ((b[22] >> 6) | (b[23] << 2) | ((b[24] & 0x0f) << 10));
      return size(width, height);
    }
    case 'VP8X':
      return size(1 + u24le(b, 24), 1 + u24le(b, 27));
    default:
      return null;
  }
}

function bmpSize(b: Uint8Array): ImageSize | null {
  if (b.length < 26) return null;
  const dibSize = u32le(b, 14);
  if (dibSize === 12) return size(u16le(b, 18), u16le(b, 20));
  // BITMAPINFOHEADER and later: signed 32-bit; a negative height means the rows are stored top-down.
  const width = u32le(b, 18) | 0;
  const height = u32le(b, 22) | 0;
  return size(width, Math.abs(height));
}

/** SOFn markers carry the frame size; C4 (DHT), C8 (reserved) and CC (DAC) share the range but do not. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegSize(b: Uint8Array): ImageSize | null {
  let i = 2; // after SOI
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null;
    let marker = b[i + 1];
    // Any number of 0xFF fill bytes may precede a marker.
    while (marker === 0xff && i + 2 < b.length) {
      i++;
      marker = b[i + 1];
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // standalone markers have no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or scan data before any frame header
    if (i + 4 > b.length) return null;
    const length = u16be(b, i + 2);
    if (length < 2) return null;
    if (isStartOfFrame(marker)) {
      if (i + 9 > b.length) return null;
      return size(u16be(b, i + 7), u16be(b, i + 5));
    }
    i += 2 + length;
  }
  return null;
}

/**
 * Width and height from the first bytes of an image of `format` (PNG IHDR, JPEG SOFn, GIF logical
 * screen, WebP VP8/VP8L/VP8X, BMP incl. top-down negative heights), or null when the header is
 * missing, cut off or malformed. Never throws.
 */
export function readImageSize(bytes: Uint8Array, format: ImageFormat): ImageSize | null {
  switch (format) {
    case 'png':
      return pngSize(bytes);
    case 'jpeg':
      return jpegSize(bytes);
    case 'gif':
      return gifSize(bytes);
    case 'webp':
      return webpSize(bytes);
    case 'bmp':
      return bmpSize(bytes);
    default:
      return null;
  }
}

const grouped = (n: number) => n.toLocaleString('en-US');

/**
 * The user-facing reason an image over `budget` pixels was refused, or null when it fits, e.g.
 * "'x/big.png' is 12,000×9,000 (108.0 megapixels), over the 50-megapixel budget; it was not decoded. …".
 */
export function pixelBudgetReason(path: string, { width, height }: ImageSize, budget = PIXEL_BUDGET): string | null {
  const pixels = width * height;
  if (pixels <= budget) return null;
  const budgetMp = grouped(budget / 1e6);
  return (
    `'${path}' is ${grouped(width)}×${grouped(height)} (${(pixels / 1e6).toFixed(1)} megapixels), over the ${budgetMp}-megapixel budget; ` +
    `it was not decoded. Resize it below ${budgetMp} megapixels and add it again.`
  );
}
