/**
 * Tells what a file is from its first bytes, never from its name: users rename
 * files, and a `.png` that is really a PDF must be named as such, not fed to the
 * decoder. Only the first SNIFF_LENGTH bytes are looked at.
 */

/** Image formats every browser decodes with `createImageBitmap`. */
export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp';

/** What a file's first bytes say it is. `looksLike` is a phrase such as 'a text file' or 'a TIFF image (not supported)'. */
export type SniffResult = { kind: 'image'; format: ImageFormat } | { kind: 'svg' } | { kind: 'empty' } | { kind: 'other'; looksLike: string };

/** A sniff result for a file that will not be decoded. */
export type NotAnImage = Exclude<SniffResult, { kind: 'image' }>;

/** Outcome of checking one file's bytes: the format to decode, or a user-facing reason it was skipped. */
export type ImageCheck = { ok: true; format: ImageFormat } | { ok: false; reason: string };

/** How many leading bytes the sniffer reads. */
export const SNIFF_LENGTH = 512;

const UNSUPPORTED_SUFFIX = ' (not supported)';

/** Phrases for formats the app recognises but does not decode, so every browser behaves the same. */
export const LOOKS_LIKE = {
  text: 'a text file',
  html: 'an HTML page',
  pdf: 'a PDF document',
  zip: 'a ZIP archive',
  gzip: 'a gzip archive',
  rar: 'a RAR archive',
  sevenZip: 'a 7-Zip archive',
  tiff: 'a TIFF image' + UNSUPPORTED_SUFFIX,
  heif: 'an HEIC/AVIF image' + UNSUPPORTED_SUFFIX,
  jpegXl: 'a JPEG XL image' + UNSUPPORTED_SUFFIX,
  jpeg2000: 'a JPEG 2000 image' + UNSUPPORTED_SUFFIX,
  ico: 'an ICO icon' + UNSUPPORTED_SUFFIX,
  psd: 'a Photoshop document' + UNSUPPORTED_SUFFIX,
  isoMedia: 'a video file (MP4/QuickTime)',
  riff: 'an audio or video file (RIFF)',
  binary: 'binary data',
} as const;

/** ISO-BMFF brands of HEIF-family stills: HEIC, HEIF and AVIF. */
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'mif2', 'msf1', 'avif', 'avis']);

/** BMP info-header sizes (BITMAPCOREHEADER … BITMAPV5HEADER); checking one keeps "BM…" text from passing as BMP. */
const BMP_DIB_HEADER_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  for (let i = 0; i < signature.length; i++) {
    if (bytes[offset + i] !== signature[i]) return false;
  }
  return true;
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < Math.min(end, bytes.length); i++) text += String.fromCharCode(bytes[i]);
  return text;
}

function codes(text: string): number[] {
  return Array.from(text, (c) => c.charCodeAt(0));
}

function readUint32BE(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0;
}

function readUint32LE(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

function sniffImage(head: Uint8Array): ImageFormat | null {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, codes('GIF87a')) || startsWith(head, codes('GIF89a'))) return 'gif';
  if (startsWith(head, codes('RIFF')) && startsWith(head, codes('WEBP'), 8)) return 'webp';
  if (startsWith(head, codes('BM')) && head.length >= 18 && BMP_DIB_HEADER_SIZES.has(readUint32LE(head, 14))) return 'bmp';
  return null;
}

/** Reads an ISO-BMFF `ftyp` box (HEIC, AVIF, MP4, MOV) and names what it holds, or returns null if there is none. */
function sniffIsoMedia(head: Uint8Array): string | null {
  if (!startsWith(head, codes('ftyp'), 4) || head.length < 12) return null;
  const boxEnd = Math.min(readUint32BE(head, 0), head.length);
  const brands = [ascii(head, 8, 12)];
  for (let offset = 16; offset + 4 <= boxEnd; offset += 4) brands.push(ascii(head, offset, offset + 4));
  return brands.some((brand) => HEIF_BRANDS.has(brand)) ? LOOKS_LIKE.heif : LOOKS_LIKE.isoMedia;
}

function sniffOtherBinary(head: Uint8Array): string | null {
  if (startsWith(head, codes('%PDF-'))) return LOOKS_LIKE.pdf;
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06]) || startsWith(head, [0x50, 0x4b, 0x07, 0x08])) {
    return LOOKS_LIKE.zip;
  }
  if (startsWith(head, [0x1f, 0x8b])) return LOOKS_LIKE.gzip;
  if (startsWith(head, codes('Rar!\x1a\x07'))) return LOOKS_LIKE.rar;
  if (startsWith(head, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return LOOKS_LIKE.sevenZip;
  if (startsWith(head, codes('II*\0')) || startsWith(head, codes('MM\0*'))) return LOOKS_LIKE.tiff;
  if (startsWith(head, [0xff, 0x0a]) || startsWith(head, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a])) return LOOKS_LIKE.jpegXl;
  if (startsWith(head, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]) || startsWith(head, [0xff, 0x4f, 0xff, 0x51])) {
    return LOOKS_LIKE.jpeg2000;
  }
  if (startsWith(head, codes('8BPS'))) return LOOKS_LIKE.psd;
  if ((startsWith(head, [0, 0, 1, 0]) || startsWith(head, [0, 0, 2, 0])) && head.length >= 6 && head[4] + head[5] > 0) return LOOKS_LIKE.ico;
  if (startsWith(head, codes('RIFF'))) return LOOKS_LIKE.riff;
  return sniffIsoMedia(head);
}

/** Decodes the head as text if it is text (UTF-8/Latin-1 without control bytes, or UTF-16 with a BOM); otherwise null. */
function headAsText(head: Uint8Array): string | null {
  if (startsWith(head, [0xff, 0xfe])) return new TextDecoder('utf-16le').decode(head.subarray(2, head.length & ~1));
  if (startsWith(head, [0xfe, 0xff])) return new TextDecoder('utf-16be').decode(head.subarray(2, head.length & ~1));
  for (const byte of head) {
    // Tab, line feed, vertical tab, form feed, carriage return and escape appear in real text; other controls do not.
    const isControl = (byte < 0x20 && !(byte >= 0x09 && byte <= 0x0d) && byte !== 0x1b) || byte === 0x7f;
    if (isControl) return null;
  }
  return new TextDecoder('utf-8').decode(head);
}

/**
 * Tells what `bytes` hold from their first 512 bytes: a decodable image (png, jpeg, gif, webp, bmp),
 * an SVG drawing, an empty file, or something else described in words. Never throws.
 */
export function sniffFileType(bytes: Uint8Array): SniffResult {
  if (bytes.length === 0) return { kind: 'empty' };
  const head = bytes.subarray(0, SNIFF_LENGTH);
  const format = sniffImage(head);
  if (format) return { kind: 'image', format };
  const binaryKind = sniffOtherBinary(head);
  if (binaryKind) return { kind: 'other', looksLike: binaryKind };
  const text = headAsText(head);
  if (text === null) return { kind: 'other', looksLike: LOOKS_LIKE.binary };
  // An HTML page may inline an <svg>; it is still a page, not a drawing.
  if (/^\uFEFF?\s*<(!doctype\s+html|html)[\s>]/i.test(text)) return { kind: 'other', looksLike: LOOKS_LIKE.html };
  if (/<svg(?![\w.-])/i.test(text)) return { kind: 'svg' };
  return { kind: 'other', looksLike: LOOKS_LIKE.text };
}

/** True when `looksLike` names an image format the app recognises but does not decode. */
export function isUnsupportedImage(looksLike: string): boolean {
  return looksLike.endsWith(UNSUPPORTED_SUFFIX);
}

/** The user-facing reason a non-image file was skipped, quoting `path`; null for a decodable image. */
export function describeRejection(path: string, result: NotAnImage): string;
export function describeRejection(path: string, result: SniffResult): string | null;
export function describeRejection(path: string, result: SniffResult): string | null {
  switch (result.kind) {
    case 'image':
      return null;
    case 'empty':
      return `'${path}' is empty (0 bytes). It was skipped.`;
    case 'svg':
      return `'${path}' is an SVG drawing; SVG files are never rendered. It was skipped.`;
    case 'other':
      if (isUnsupportedImage(result.looksLike)) {
        const format = result.looksLike.slice(0, -UNSUPPORTED_SUFFIX.length);
        return `'${path}' is ${format}, which is not supported. It was skipped. Convert it to PNG or JPEG and add it again.`;
      }
      return `'${path}' is not an image (it starts like ${result.looksLike}). It was skipped.`;
    default:
      return assertNever(result);
  }
}

/** Sniffs one file's bytes: `{ok: true, format}` for a decodable image, else `{ok: false, reason}` quoting `path`. */
export function checkImageBytes(path: string, bytes: Uint8Array): ImageCheck {
  const result = sniffFileType(bytes);
  if (result.kind === 'image') return { ok: true, format: result.format };
  return { ok: false, reason: describeRejection(path, result) };
}

function assertNever(value: never): never {
  throw new Error(`Unexpected sniff result ${JSON.stringify(value)}`);
}
