import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { DataError } from './errors';
import { decodeFailureReason, type DecodeImage, ingestFiles, readFailureReason } from './ingest';
import type { ImageShape } from './types';

const shape: ImageShape = { height: 2, width: 2, channels: 1 };
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff, 0xe0];
const CORRUPT = 0xee;

/** A PNG- or JPEG-looking file whose 9th byte the fake decoder turns into every pixel; CORRUPT makes it fail. */
const png = (value: number) => new Blob([Uint8Array.from([...PNG, value])]);
const jpeg = (value: number) => new Blob([Uint8Array.from([...JPEG, 0, 0, 0, 0, value])]);
const textFile = (s: string) => new Blob([s]);

const fakeDecode: DecodeImage = async (bytes, _blob, { height, width, channels }) => {
  const value = bytes[8];
  if (value === CORRUPT || value === undefined) throw new Error('bad Huffman table');
  return new Uint8Array(height * width * channels).fill(value);
};

/** A blob whose bytes cannot be read, like a file deleted after it was picked. */
const unreadable = { arrayBuffer: () => Promise.reject(new Error('NotReadableError')) } as unknown as Blob;

describe('ingestFiles', () => {
  it('keeps good images in input order with their class and pixels', async () => {
    const result = await ingestFiles(
      [
        { path: 'pets/cats/1.png', blob: png(10) },
        { path: 'pets/dogs/2.jpg', blob: jpeg(20) },
        { path: 'pets/cats/3.png', blob: jpeg(30) },
      ],
      shape,
      fakeDecode,
    );
    expect(result.images.map(({ path, className, pixels }) => [path, className, [...pixels]])).toEqual([
      ['pets/cats/1.png', 'cats', [10, 10, 10, 10]],
      ['pets/dogs/2.jpg', 'dogs', [20, 20, 20, 20]],
      ['pets/cats/3.png', 'cats', [30, 30, 30, 30]],
    ]);
    expect(result.rejected).toEqual([]);
    expect(result.notices).toEqual([{ level: 'warning', message: expect.stringContaining(`Class 'dogs' has only 1 image`) }]);
    expect(result.classNames).toEqual(['cats', 'dogs']);
  });

  it.each<[string, Blob, string]>([
    ['a text file named .png', textFile('just notes'), `'pets/cats/notes.png' is not an image (it starts like a text file). It was skipped.`],
    ['an empty file', new Blob([]), `'pets/cats/notes.png' is empty (0 bytes). It was skipped.`],
    ['an SVG', textFile('<svg xmlns="http://www.w3.org/2000/svg"></svg>'), `'pets/cats/notes.png' is an SVG drawing; SVG files are never rendered. It was skipped.`],
    ['a PDF', textFile('%PDF-1.4\n'), `'pets/cats/notes.png' is not an image (it starts like a PDF document). It was skipped.`],
    ['a truncated PNG', new Blob([Uint8Array.from(PNG)]), decodeFailureReason('pets/cats/notes.png')],
    ['a corrupt PNG', png(CORRUPT), `'pets/cats/notes.png' could not be decoded (truncated or corrupt image). It was skipped.`],
    ['an unreadable file', unreadable, readFailureReason('pets/cats/notes.png')],
  ])('rejects %s with a reason naming it, and keeps the rest', async (_name, blob, reason) => {
    const result = await ingestFiles(
      [
        { path: 'pets/cats/1.png', blob: png(1) },
        { path: 'pets/cats/notes.png', blob },
        { path: 'pets/cats/2.png', blob: png(2) },
        { path: 'pets/dogs/3.png', blob: png(3) },
        { path: 'pets/dogs/4.png', blob: png(4) },
      ],
      shape,
      fakeDecode,
    );
    expect(result.rejected).toEqual([{ path: 'pets/cats/notes.png', reason }]);
    expect(result.images.map((i) => i.path)).toEqual(['pets/cats/1.png', 'pets/cats/2.png', 'pets/dogs/3.png', 'pets/dogs/4.png']);
    expect(result.notices).toEqual([]);
  });

  it('does not stop when the decoder throws synchronously for one file', async () => {
    const decode: DecodeImage = (bytes, blob, s) => {
      if (bytes[8] === CORRUPT) throw new TypeError('boom');
      return fakeDecode(bytes, blob, s);
    };
    const result = await ingestFiles(
      [
        { path: 'r/a/bad.png', blob: png(CORRUPT) },
        { path: 'r/a/good.png', blob: png(5) },
        { path: 'r/b/good.png', blob: png(6) },
      ],
      shape,
      decode,
    );
    expect(result.images.map((i) => i.path)).toEqual(['r/a/good.png', 'r/b/good.png']);
    expect(result.rejected).toEqual([{ path: 'r/a/bad.png', reason: decodeFailureReason('r/a/bad.png') }]);
  });

  it('merges layout rejections, ignored files and class checks', async () => {
    const result = await ingestFiles(
      [
        { path: 'r/loose.png', blob: png(1) },
        { path: 'r/cats/.DS_Store', blob: textFile('x') },
        { path: 'r/cats/1.png', blob: png(1) },
        { path: 'r/cats/2.png', blob: png(2) },
        { path: 'r/dogs/broken.png', blob: png(CORRUPT) },
      ],
      shape,
      fakeDecode,
    );
    expect(result.ignored).toEqual(['r/cats/.DS_Store']);
    expect(result.rejected.map((r) => r.path)).toEqual(['r/loose.png', 'r/dogs/broken.png']);
    expect(result.classNames).toEqual(['cats', 'dogs']);
    expect(result.notices).toEqual([
      { level: 'error', message: `Class 'dogs' has no usable images. Add images to its folder or remove the folder, then add the folder again.` },
    ]);
  });

  it.each<[string, { path: string; blob: Blob }[], string[]]>([
    ['nothing dropped', [], ['No classes found. Add a folder that holds one subfolder of images per class (e.g. animals/cats, animals/dogs).']],
    [
      'a folder without subfolders explains itself once',
      [{ path: 'flat/a.png', blob: png(1) }],
      [`'flat' has no class subfolders. Make one subfolder per class (e.g. flat/cats, flat/dogs) and add the folder again.`],
    ],
    [
      'a single class',
      [{ path: 'r/cats/a.png', blob: png(1) }, { path: 'r/cats/b.png', blob: png(1) }],
      [`Only one class ('cats'): training needs at least two classes. Add another class folder.`],
    ],
  ])('reports %s', async (_name, files, messages) => {
    const result = await ingestFiles(files, shape, fakeDecode);
    expect(result.notices.map((n) => n.message)).toEqual(messages);
    expect(result.notices.every((n) => n.level === 'error')).toBe(true);
  });

  it('reports progress from 0 to the number of planned files', async () => {
    const onProgress = vi.fn();
    await ingestFiles(
      [
        { path: 'r/a/1.png', blob: png(1) },
        { path: 'r/b/2.png', blob: textFile('x') },
        { path: 'r/.DS_Store', blob: textFile('x') },
      ],
      shape,
      fakeDecode,
      onProgress,
    );
    expect(onProgress.mock.calls).toEqual([
      [0, 2],
      [1, 2],
      [2, 2],
    ]);
  });

  it('rejects with the abort reason and stops decoding when aborted', async () => {
    const controller = new AbortController();
    const files = Array.from({ length: 40 }, (_, i) => ({ path: `r/${i % 2}/${i}.png`, blob: png(i) }));
    const decode = vi.fn<DecodeImage>(async (bytes, blob, s) => {
      if (decode.mock.calls.length === 5) controller.abort(new Error('user cancelled'));
      return fakeDecode(bytes, blob, s);
    });
    await expect(ingestFiles(files, shape, decode, undefined, controller.signal)).rejects.toThrow('user cancelled');
    expect(decode.mock.calls.length).toBeLessThan(12);
  });

  it('rejects at once for an already aborted signal', async () => {
    const decode = vi.fn(fakeDecode);
    await expect(ingestFiles([{ path: 'r/a/1.png', blob: png(1) }], shape, decode, undefined, AbortSignal.abort())).rejects.toThrow();
    expect(decode).not.toHaveBeenCalled();
  });

  it('throws a DataError when the decoder returns the wrong number of values (a programming error)', async () => {
    const decode: DecodeImage = async () => new Uint8Array(3);
    await expect(ingestFiles([{ path: 'r/a/1.png', blob: png(1) }], shape, decode)).rejects.toMatchObject({ code: 'decoder-output' });
  });

  it('lets a DataError from the decoder through instead of blaming the file', async () => {
    const decode: DecodeImage = async () => {
      throw new DataError('no-canvas', 'no OffscreenCanvas');
    };
    await expect(ingestFiles([{ path: 'r/a/1.png', blob: png(1) }], shape, decode)).rejects.toBeInstanceOf(DataError);
  });

  it('never throws on random bytes and random paths, and accounts for every file once (property)', async () => {
    const segment = fc.constantFrom('r', 'cats', 'dogs', '猫', 'sub', '.DS_Store', 'a.png', 'b.jpg', '');
    const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
    const content = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 32 }).map((tail) => Uint8Array.from([...PNG, ...tail])),
    );
    const file = fc.record({ path, content, decoderFails: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(file, { maxLength: 12 }), async (specs) => {
        const failing = new Set(specs.filter((s) => s.decoderFails).map((s) => s.content));
        const decode: DecodeImage = async (bytes, blob, s) => {
          if ([...failing].some((c) => c.length === bytes.length && c.every((v, i) => v === bytes[i]))) throw new Error('corrupt');
          return new Uint8Array(s.height * s.width * s.channels).fill(blob.size & 255);
        };
        const files = specs.map((s) => ({ path: s.path, blob: new Blob([s.content]) }));
        const result = await ingestFiles(files, shape, decode);
        expect(result.images.length + result.rejected.length + result.ignored.length).toBe(files.length);
        for (const rejected of result.rejected) expect(rejected.reason.length).toBeGreaterThan(0);
        for (const image of result.images) expect(image.pixels).toHaveLength(4);
      }),
      { numRuns: 200 },
    );
  });
});
