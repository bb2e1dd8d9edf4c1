import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { DataError } from './errors';
import { HEADER_READ_LENGTH } from './imageHeader';
import { sha256Hex } from '../core/hash';
import { decodeFailureReason, type DecodeImage, duplicateReason, ingestFiles, readFailureReason } from './ingest';
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
    expect(result.notices).toEqual([]);
    expect(result.classNotices).toEqual([{ level: 'warning', message: expect.stringContaining(`Class 'dogs' has only 1 image`) }]);
    expect(result.classNames).toEqual(['cats', 'dogs']);
    expect(result.cancelled).toBeNull();
  });

  it.each<[string, Blob, string]>([
    ['a text file named .png', textFile('just notes'), `'pets/cats/notes.png' is not an image (it starts like a text file). It was skipped.`],
    ['an empty file', new Blob([]), `'pets/cats/notes.png' is empty (0 bytes). It was skipped.`],
    [
      'an SVG',
      textFile('<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
      `'pets/cats/notes.png' is an SVG drawing; SVG files are never rendered. It was skipped.`,
    ],
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
    expect(result.notices).toEqual([]);
    expect(result.classNotices).toEqual([
      { level: 'error', message: `Class 'dogs' has no usable images. Add images to it (to its folder, or onto its card) or delete the class.` },
    ]);
  });

  it.each<[string, { path: string; blob: Blob }[], string[]]>([
    ['nothing dropped', [], ['No classes found. Add a folder that holds one subfolder of images per class (e.g. animals/cats, animals/dogs).']],
    [
      'a folder without subfolders explains itself once',
      [{ path: 'flat/a.png', blob: png(1) }],
      [
        `'flat' has no class subfolders. Make one subfolder per class (e.g. flat/cats, flat/dogs) and add the folder again, or drop several class folders together (each becomes a class).`,
      ],
    ],
    [
      'a single class',
      [
        { path: 'r/cats/a.png', blob: png(1) },
        { path: 'r/cats/b.png', blob: png(2) },
      ],
      [`Only one class ('cats'): training needs at least two classes. Add another class folder.`],
    ],
  ])('reports %s', async (_name, files, messages) => {
    const result = await ingestFiles(files, shape, fakeDecode);
    // Layout notices first, then the checks of the dropped classes (the studio re-checks those over the whole dataset).
    const all = [...result.notices, ...result.classNotices];
    expect(all.map((n) => n.message)).toEqual(messages);
    expect(all.every((n) => n.level === 'error')).toBe(true);
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

  it('stops decoding when aborted and returns what was handled before, with the count', async () => {
    const controller = new AbortController();
    const files = Array.from({ length: 40 }, (_, i) => ({ path: `r/${i % 2}/${i}.png`, blob: png(i) }));
    let decoded = 0;
    const decode = vi.fn<DecodeImage>(async (bytes, blob, s) => {
      if (decode.mock.calls.length === 5) {
        controller.abort(new Error('user cancelled'));
        // A decode cut short by the cancel fails; that says nothing about the file.
        throw new DOMException('Adding images was cancelled.', 'AbortError');
      }
      decoded++;
      return fakeDecode(bytes, blob, s);
    });
    const result = await ingestFiles(files, shape, decode, undefined, controller.signal);
    expect(decode.mock.calls.length).toBeLessThan(12);
    expect(result.cancelled).toEqual({ done: expect.any(Number), total: 40 });
    expect(result.cancelled!.done).toBeLessThan(12);
    // Every image decoded before the cancel is there; the one in flight is neither kept nor named as corrupt.
    expect(result.images.length).toBe(decoded);
    expect(decoded).toBeGreaterThanOrEqual(4);
    expect(result.rejected).toEqual([]);
  });

  it('decodes nothing for an already aborted signal', async () => {
    const decode = vi.fn(fakeDecode);
    const result = await ingestFiles([{ path: 'r/a/1.png', blob: png(1) }], shape, decode, undefined, AbortSignal.abort());
    expect(decode).not.toHaveBeenCalled();
    expect(result).toMatchObject({ images: [], rejected: [], cancelled: { done: 0, total: 1 } });
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
      fc.tuple(fc.nat(), fc.nat()).map(([w, h]) => pngOfSize(w, h)),
      fc.constant(Uint8Array.from([...PNG, 1])),
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

/** A PNG whose IHDR declares `width`×`height`, padded with `padding` bytes. */
function pngOfSize(width: number, height: number, padding = 0): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(33 + padding);
  bytes.set(PNG);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, 13);
  bytes.set([0x49, 0x48, 0x44, 0x52], 12);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return bytes;
}

/** A blob that counts how many bytes were read from it, through `arrayBuffer` on it or on its slices. */
function countingBlob(bytes: Uint8Array<ArrayBuffer>): { blob: Blob; read: () => number } {
  let read = 0;
  const wrap = (blob: Blob): Blob =>
    ({
      size: blob.size,
      type: blob.type,
      slice: (start?: number, end?: number) => wrap(blob.slice(start, end)),
      arrayBuffer: async () => {
        read += blob.size;
        return blob.arrayBuffer();
      },
    }) as Blob;
  return { blob: wrap(new Blob([bytes])), read: () => read };
}

describe('ingestFiles: pixel budget', () => {
  it('refuses an image over 50 megapixels from its header, reading only the head and never decoding it', async () => {
    const big = countingBlob(pngOfSize(12000, 9000, 500_000));
    const decode = vi.fn(fakeDecode);
    const result = await ingestFiles(
      [
        { path: 'set/x/big.png', blob: big.blob },
        { path: 'set/x/ok.png', blob: new Blob([pngOfSize(4000, 3000)]) },
        { path: 'set/y/ok.png', blob: new Blob([pngOfSize(4000, 3001)]) },
      ],
      shape,
      decode,
    );
    expect(result.rejected).toEqual([
      {
        path: 'set/x/big.png',
        reason: `'set/x/big.png' is 12,000×9,000 (108.0 megapixels), over the 50-megapixel budget; it was not decoded. Resize it below 50 megapixels and add it again.`,
      },
    ]);
    expect(result.images.map((i) => i.path)).toEqual(['set/x/ok.png', 'set/y/ok.png']);
    expect(decode).toHaveBeenCalledTimes(2);
    expect(big.read()).toBe(HEADER_READ_LENGTH);
  });

  it('reads a whole JPEG when its frame header lies beyond the first 64 KiB', async () => {
    const app = (fill: number) => [0xff, 0xe1, 0xff, 0xff, ...new Array(0xfffd).fill(fill)];
    const jpegBytes = Uint8Array.from([0xff, 0xd8, ...app(1), ...app(2), 0xff, 0xc0, 0, 17, 8, 0x23, 0x28, 0x2e, 0xe0, 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
    const result = await ingestFiles([{ path: 'x/a/huge.jpg', blob: new Blob([jpegBytes]) }], shape, fakeDecode);
    expect(result.rejected).toEqual([
      {
        path: 'x/a/huge.jpg',
        reason: `'x/a/huge.jpg' is 12,000×9,000 (108.0 megapixels), over the 50-megapixel budget; it was not decoded. Resize it below 50 megapixels and add it again.`,
      },
    ]);
  });

  it('takes a lower budget from the options', async () => {
    const result = await ingestFiles([{ path: 'x/a/1.png', blob: new Blob([pngOfSize(2000, 1001)]) }], shape, fakeDecode, { pixelBudget: 2_000_000 });
    expect(result.rejected[0].reason).toBe(
      `'x/a/1.png' is 2,000×1,001 (2.0 megapixels), over the 2-megapixel budget; it was not decoded. Resize it below 2 megapixels and add it again.`,
    );
  });
});

describe('ingestFiles: content hashes and duplicates', () => {
  it("keeps each image's source blob and the SHA-256 of its bytes", async () => {
    const blob = png(7);
    const result = await ingestFiles([{ path: 'r/a/1.png', blob }], shape, fakeDecode);
    const expected = createHash('sha256')
      .update(Uint8Array.from([...PNG, 7]))
      .digest('hex');
    expect(result.images[0].hash).toBe(expected);
    expect(result.images[0].source).toBe(blob);
    expect(await sha256Hex([new Uint8Array(0)])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // Parts hash as their concatenation.
    expect(await sha256Hex([Uint8Array.from([...PNG]), new Uint8Array([7]).buffer])).toBe(expected);
  });

  it('keeps the first of identical files in input order, even when a later copy decodes first', async () => {
    // The first file is read slowly, so its copies are hashed (and one decoded) before it.
    const slow = png(1);
    const slowBlob = {
      size: slow.size,
      slice: () => slowBlob,
      arrayBuffer: () => new Promise((r) => setTimeout(r, 30)).then(() => slow.arrayBuffer()),
    } as unknown as Blob;
    const decode = vi.fn(fakeDecode);
    const result = await ingestFiles(
      [
        { path: 'a/x/1.png', blob: slowBlob },
        { path: 'a/y/2.png', blob: png(2) },
        { path: 'b/x/1-copy.png', blob: png(1) },
        { path: 'b/y/1-again.png', blob: png(1) },
      ],
      shape,
      decode,
    );
    expect(result.images.map((i) => i.path)).toEqual(['a/x/1.png', 'a/y/2.png']);
    // a/x/1 and a/y/2, plus whichever copy was hashed first while a/x/1 was still being read.
    expect(decode.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(result.rejected).toEqual([
      { path: 'b/x/1-copy.png', reason: `'b/x/1-copy.png' has the same content as 'a/x/1.png', which was kept.` },
      { path: 'b/y/1-again.png', reason: `'b/y/1-again.png' has the same content as 'a/x/1.png', which was kept.` },
    ]);
  });

  it('names copies of a corrupt file as corrupt, not as duplicates of a file that was not kept', async () => {
    const result = await ingestFiles(
      [
        { path: 'r/a/bad.png', blob: png(CORRUPT) },
        { path: 'r/a/bad-copy.png', blob: png(CORRUPT) },
        { path: 'r/b/ok.png', blob: png(3) },
      ],
      shape,
      fakeDecode,
    );
    expect(result.rejected).toEqual([
      { path: 'r/a/bad.png', reason: decodeFailureReason('r/a/bad.png') },
      { path: 'r/a/bad-copy.png', reason: decodeFailureReason('r/a/bad-copy.png') },
    ]);
  });

  it('rejects files already in the dataset (knownHashes), without decoding them', async () => {
    const known = new Map([
      [
        createHash('sha256')
          .update(Uint8Array.from([...PNG, 5]))
          .digest('hex'),
        'old/cats/5.png',
      ],
    ]);
    const decode = vi.fn(fakeDecode);
    const result = await ingestFiles(
      [
        { path: 'new/cats/five.png', blob: png(5) },
        { path: 'new/dogs/6.png', blob: png(6) },
      ],
      shape,
      decode,
      { knownHashes: known },
    );
    expect(result.rejected).toEqual([{ path: 'new/cats/five.png', reason: duplicateReason('new/cats/five.png', 'old/cats/5.png') }]);
    expect(duplicateReason('new/cats/five.png', 'old/cats/5.png')).toBe(`'new/cats/five.png' has the same content as 'old/cats/5.png', which was kept.`);
    expect(decode).toHaveBeenCalledTimes(1);
  });

  it('takes progress and abort from the options object too', async () => {
    const onProgress = vi.fn();
    await ingestFiles([{ path: 'r/a/1.png', blob: png(1) }], shape, fakeDecode, { onProgress });
    expect(onProgress.mock.calls).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect((await ingestFiles([{ path: 'r/a/1.png', blob: png(1) }], shape, fakeDecode, { signal: AbortSignal.abort() })).cancelled).toEqual({
      done: 0,
      total: 1,
    });
  });

  it('counts each class once per distinct image', async () => {
    const result = await ingestFiles(
      [
        { path: 'r/cats/1.png', blob: png(1) },
        { path: 'r/cats/1b.png', blob: png(1) },
        { path: 'r/dogs/2.png', blob: png(2) },
        { path: 'r/dogs/3.png', blob: png(3) },
      ],
      shape,
      fakeDecode,
    );
    expect(result.classNotices.map((n) => n.message)).toEqual([`Class 'cats' has only 1 image, so none can be kept for validation. Add more images to it.`]);
  });
});
