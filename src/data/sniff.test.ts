import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkImageBytes, describeRejection, LOOKS_LIKE, SNIFF_LENGTH, type SniffResult, sniffFileType } from './sniff';

const text = (s: string) => new TextEncoder().encode(s);
const bytes = (...parts: (number[] | string | Uint8Array)[]) => {
  const chunks = parts.map((part) => (typeof part === 'string' ? Uint8Array.from(part, (c) => c.charCodeAt(0)) : Uint8Array.from(part)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
};
const u32be = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const u32le = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
const zeros = (n: number) => new Array<number>(n).fill(0);

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_IHDR = [...u32be(13), ...'IHDR'.split('').map((c) => c.charCodeAt(0)), ...u32be(8), ...u32be(8), 8, 6, 0, 0, 0];
const BMP_HEADER = bytes('BM', u32le(70), zeros(4), u32le(54), u32le(40), u32le(2), u32le(2));
const ftyp = (major: string, ...compatible: string[]) => bytes(u32be(16 + 4 * compatible.length), 'ftyp', major, zeros(4), ...compatible);

const image = (format: string): SniffResult => ({ kind: 'image', format }) as SniffResult;
const other = (looksLike: string): SniffResult => ({ kind: 'other', looksLike });

describe('sniffFileType', () => {
  it.each<[string, Uint8Array, SniffResult]>([
    ['PNG signature', bytes(PNG_SIGNATURE, PNG_IHDR), image('png')],
    ['bare PNG signature', bytes(PNG_SIGNATURE), image('png')],
    ['JPEG/JFIF', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16], 'JFIF'), image('jpeg')],
    ['JPEG/Exif', bytes([0xff, 0xd8, 0xff, 0xe1, 0, 16], 'Exif'), image('jpeg')],
    ['GIF89a', bytes('GIF89a', [1, 0, 1, 0, 0x80]), image('gif')],
    ['GIF87a', bytes('GIF87a', [1, 0, 1, 0]), image('gif')],
    ['WebP', bytes('RIFF', u32le(26), 'WEBPVP8 '), image('webp')],
    ['BMP with a 40-byte info header', BMP_HEADER, image('bmp')],
    ['SVG with XML prolog', text('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'), { kind: 'svg' }],
    ['SVG with BOM and comment', text('\uFEFF<!-- drawn by hand -->\n<svg width="10">'), { kind: 'svg' }],
    ['SVG in UTF-16LE', bytes([0xff, 0xfe], Uint8Array.from(Array.from('<svg>', (c) => [c.charCodeAt(0), 0]).flat())), { kind: 'svg' }],
    ['empty file', new Uint8Array(0), { kind: 'empty' }],
    ['plain text', text('hello, these are my notes\n'), other(LOOKS_LIKE.text)],
    ['UTF-8 text with accents and CJK', text('café 猫 notes\r\n\tindented'), other(LOOKS_LIKE.text)],
    ['"BM" text is not a BMP', text('BMW parts list, row 1 of 20\n'), other(LOOKS_LIKE.text)],
    ['HTML page that inlines an svg', text('<!DOCTYPE html><html><body><svg></svg></body></html>'), other(LOOKS_LIKE.html)],
    ['PDF', bytes('%PDF-1.7\n%', [0xe2, 0xe3, 0xcf, 0xd3]), other('a PDF document')],
    ['ZIP', bytes([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0]), other('a ZIP archive')],
    ['empty ZIP', bytes([0x50, 0x4b, 0x05, 0x06], zeros(18)), other('a ZIP archive')],
    ['gzip', bytes([0x1f, 0x8b, 8, 0]), other(LOOKS_LIKE.gzip)],
    ['TIFF little-endian', bytes('II*\0', u32le(8)), other('a TIFF image (not supported)')],
    ['TIFF big-endian', bytes('MM\0*', u32be(8)), other('a TIFF image (not supported)')],
    ['HEIC', ftyp('heic', 'mif1', 'heic'), other('an HEIC/AVIF image (not supported)')],
    ['AVIF', ftyp('avif', 'avif', 'mif1', 'miaf'), other('an HEIC/AVIF image (not supported)')],
    ['HEIF by compatible brand only', ftyp('miaf', 'mif1'), other('an HEIC/AVIF image (not supported)')],
    ['MP4 video', ftyp('isom', 'isom', 'mp41'), other(LOOKS_LIKE.isoMedia)],
    ['JPEG XL codestream', bytes([0xff, 0x0a, 0xfa]), other(LOOKS_LIKE.jpegXl)],
    ['Photoshop document', bytes('8BPS', [0, 1]), other(LOOKS_LIKE.psd)],
    ['WAV audio', bytes('RIFF', u32le(36), 'WAVEfmt '), other(LOOKS_LIKE.riff)],
    ['binary with NUL bytes', bytes([0x00, 0x01, 0x02, 0x03, 0x10, 0x00]), other('binary data')],
    ['ELF executable', bytes([0x7f], 'ELF', [2, 1, 1, 0]), other('binary data')],
  ])('%s', (_name, input, expected) => {
    expect(sniffFileType(input)).toEqual(expected);
  });

  it('looks only at the first 512 bytes', () => {
    const late = text(' '.repeat(600) + '<svg>');
    expect(sniffFileType(late)).toEqual(other(LOOKS_LIKE.text));
    const binaryTail = bytes(text('plain words '.repeat(50)), zeros(100));
    expect(sniffFileType(binaryTail)).toEqual(other(LOOKS_LIKE.text));
  });

  it('reads the content, not the name: a PNG signature inside a subarray view still counts', () => {
    const buffer = bytes([1, 2, 3], PNG_SIGNATURE);
    expect(sniffFileType(buffer.subarray(3))).toEqual(image('png'));
  });

  it('never throws on random bytes, reads only the first 512, and names a non-image with a known phrase', () => {
    const phrases: string[] = Object.values(LOOKS_LIKE);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), (input) => {
        const result = sniffFileType(input);
        expect(result.kind === 'empty').toBe(input.length === 0);
        expect(sniffFileType(input.slice(0, SNIFF_LENGTH))).toEqual(result);
        if (result.kind === 'other') expect(phrases).toContain(result.looksLike);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on random prefixes after real magic numbers', () => {
    const magic = fc.constantFrom(
      PNG_SIGNATURE,
      [0xff, 0xd8, 0xff],
      [...'RIFF'].map((c) => c.charCodeAt(0)),
      [0x42, 0x4d],
      [0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70],
      [0xff, 0xfe],
    );
    fc.assert(
      fc.property(magic, fc.uint8Array({ maxLength: 64 }), (head, tail) => {
        expect(() => sniffFileType(bytes(head, tail))).not.toThrow();
      }),
    );
  });
});

describe('describeRejection', () => {
  it.each<[string, SniffResult, string | null]>([
    ['notes.txt', other(LOOKS_LIKE.text), `'notes.txt' is not an image (it starts like a text file). It was skipped.`],
    ['report.png', other(LOOKS_LIKE.pdf), `'report.png' is not an image (it starts like a PDF document). It was skipped.`],
    ['logo.svg', { kind: 'svg' }, `'logo.svg' is an SVG drawing; SVG files are never rendered. It was skipped.`],
    ['blank.png', { kind: 'empty' }, `'blank.png' is empty (0 bytes). It was skipped.`],
    ['scan.tif', other(LOOKS_LIKE.tiff), `'scan.tif' is a TIFF image, which is not supported. It was skipped. Convert it to PNG or JPEG and add it again.`],
    [
      'IMG_0001.HEIC',
      other(LOOKS_LIKE.heif),
      `'IMG_0001.HEIC' is an HEIC/AVIF image, which is not supported. It was skipped. Convert it to PNG or JPEG and add it again.`,
    ],
    ['ok.png', image('png'), null],
  ])('%s → %s', (path, result, expected) => {
    expect(describeRejection(path, result)).toBe(expected);
  });
});

describe('checkImageBytes', () => {
  it.each<[string, Uint8Array, ReturnType<typeof checkImageBytes>]>([
    ['cats/a.png', bytes(PNG_SIGNATURE), { ok: true, format: 'png' }],
    ['cats/a.jpg', bytes(PNG_SIGNATURE), { ok: true, format: 'png' }],
    ['cats/a.png', text('not really'), { ok: false, reason: `'cats/a.png' is not an image (it starts like a text file). It was skipped.` }],
    ['cats/b.png', new Uint8Array(0), { ok: false, reason: `'cats/b.png' is empty (0 bytes). It was skipped.` }],
  ])('%s', (path, input, expected) => {
    expect(checkImageBytes(path, input)).toEqual(expected);
  });
});
