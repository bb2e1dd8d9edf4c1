import fc from 'fast-check';
import { zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { type DecodeImage, ingestFiles } from './ingest';
import { expandZips, isZipName, readZip } from './zip';

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const shape = { height: 1, width: 2, channels: 1 } as const;
const decode: DecodeImage = async (bytes, _blob, s) => {
  if (bytes.length % 3 === 0) throw new Error('corrupt');
  return new Uint8Array(s.height * s.width * s.channels).fill(bytes.length & 255);
};

describe('a dropped zip through the ingest', () => {
  it('turns a zip of class folders into images with the zip as the root', async () => {
    const zip = zipSync({
      'cat/1.png': Uint8Array.from([...PNG, 1, 1]),
      'cat/2.png': Uint8Array.from([...PNG, 2, 2, 2]),
      'dog/3.png': Uint8Array.from([...PNG, 3, 3, 3, 3, 3]),
    });
    const unpacked = readZip('pets.zip', zip);
    const result = await ingestFiles(unpacked.files, shape, decode);
    expect(result.images.map((i) => [i.path, i.className])).toEqual([
      ['pets/cat/1.png', 'cat'],
      ['pets/cat/2.png', 'cat'],
      ['pets/dog/3.png', 'dog'],
    ]);
    expect(result.images.every((i) => typeof i.hash === 'string' && i.source instanceof Blob)).toBe(true);
  });

  it('accounts for every entry of a random zip once: image, rejected or ignored, never lost (property)', async () => {
    const segment = fc.constantFrom('r', 'cat', 'dog', '猫', 'Ωmega', 'sub', '.DS_Store', '__MACOSX', '..', 'a.png', 'b.jpg');
    const name = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
    const content = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 20 }).map((tail) => Uint8Array.from([...PNG, ...tail])),
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(name, content, { maxKeys: 10 }), fc.boolean(), async (entries, stored) => {
        const zippable: Zippable = {};
        for (const [n, data] of Object.entries(entries)) zippable[n] = [data, { level: stored ? 0 : 6 }];
        const unpacked = readZip('drop.zip', zipSync(zippable));
        const result = await ingestFiles(unpacked.files, shape, decode);
        const entryCount = Object.keys(entries).length;
        expect(unpacked.files.length + unpacked.rejected.length + unpacked.ignored.length).toBe(entryCount);
        expect(result.images.length + result.rejected.length + result.ignored.length).toBe(unpacked.files.length);
        for (const r of [...unpacked.rejected, ...result.rejected]) expect(r.reason).toMatch(/^'/);
        if (entryCount === 0) expect(unpacked.notices).toHaveLength(1);
      }),
      { numRuns: 150 },
    );
  });
});

describe('expandZips', () => {
  it('unpacks zips in place, leaves other files alone and names bad zips', async () => {
    const pets = zipSync({ 'cat/1.png': Uint8Array.from([...PNG, 1]), 'dog/2.png': Uint8Array.from([...PNG, 2]) });
    const unreadable = { arrayBuffer: () => Promise.reject(new Error('gone')) } as unknown as Blob;
    const result = await expandZips([
      { path: 'drop/birds/3.png', blob: new Blob([Uint8Array.from([...PNG, 3])]) },
      { path: 'drop/Pets.ZIP', blob: new Blob([pets]) },
      { path: 'drop/notes.zip', blob: new Blob(['hello']) },
      { path: 'drop/empty.zip', blob: new Blob([zipSync({})]) },
      { path: 'drop/lost.zip', blob: unreadable },
    ]);
    expect(result.files.map((f) => f.path)).toEqual(['drop/birds/3.png', 'Pets/cat/1.png', 'Pets/dog/2.png']);
    expect(result.rejected).toEqual([
      { path: 'drop/notes.zip', reason: `'drop/notes.zip' is not a zip archive (it starts like a text file). Nothing was taken from it.` },
      { path: 'drop/lost.zip', reason: `'drop/lost.zip' could not be read (it may have been moved or deleted since it was chosen). Add it again.` },
    ]);
    expect(result.notices).toEqual([{ level: 'warning', message: `'drop/empty.zip' holds no files; nothing was added from it.` }]);
  });

  it.each<[string, boolean]>([
    ['a.zip', true],
    ['dir/B.ZIP', true],
    ['a.zip.png', false],
    ['zip', false],
  ])('isZipName(%j) = %s', (path, expected) => expect(isZipName(path)).toBe(expected));
});
