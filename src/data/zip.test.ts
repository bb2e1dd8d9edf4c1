import fc from 'fast-check';
import { zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { DataError } from './errors';
import { escapesArchive, formatBytes, readZip, zipStem } from './zip';

const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const bytesOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 255);

/** A zip of `entries` (name → bytes), each stored (`level: 0`) or deflated. */
function makeZip(entries: Record<string, Uint8Array>, level: 0 | 6 | 9 = 6): Uint8Array {
  const zippable: Zippable = {};
  for (const [name, data] of Object.entries(entries)) zippable[name] = [data, { level }];
  return zipSync(zippable);
}

/** Offset of the central-directory header of `name` in a zip made by `makeZip`. */
function centralHeader(zip: Uint8Array, name: string): number {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = zip.length - 22;
  while (view.getUint32(eocd, true) !== 0x06054b50) eocd--;
  let o = view.getUint32(eocd + 16, true);
  for (;;) {
    const nameLength = view.getUint16(o + 28, true);
    if (new TextDecoder().decode(zip.subarray(o + 46, o + 46 + nameLength)) === name) return o;
    o += 46 + nameLength + view.getUint16(o + 30, true) + view.getUint16(o + 32, true);
  }
}

async function contents(blob: Blob): Promise<number[]> {
  return [...new Uint8Array(await blob.arrayBuffer())];
}

describe('readZip: layout', () => {
  it.each<[string, string, string[], string[]]>([
    ['class folders at the top go under the zip stem', 'pets.zip', ['cat/1.png', 'dog/2.png'], ['pets/cat/1.png', 'pets/dog/2.png']],
    ['one top folder holding class folders is kept as the root', 'anything.zip', ['pets/cat/1.png', 'pets/dog/2.png'], ['pets/cat/1.png', 'pets/dog/2.png']],
    ['one class folder alone goes under the stem', 'cats.zip', ['cats/1.png', 'cats/2.png'], ['cats/cats/1.png', 'cats/cats/2.png']],
    ['nested folders keep their depth', 'set.zip', ['a/cat/in/1.png', 'a/dog/2.png'], ['a/cat/in/1.png', 'a/dog/2.png']],
    ['Unicode names survive', 'Données.ZIP', ['猫/1.png', 'Ωmega/2.png', 'café/3.png'], ['Données/猫/1.png', 'Données/Ωmega/2.png', 'Données/café/3.png']],
    ['backslash separators are read as folders', 'w.zip', ['cat\\1.png', 'dog\\2.png'], ['w/cat/1.png', 'w/dog/2.png']],
  ])('%s', async (_name, zipName, names, paths) => {
    const result = readZip(zipName, makeZip(Object.fromEntries(names.map((n, i) => [n, Uint8Array.from([...PNG, i])]))));
    expect(result.files.map((f) => f.path)).toEqual(paths);
    expect(result.rejected).toEqual([]);
    expect(result.notices).toEqual([]);
    expect(await contents(result.files[1].blob)).toEqual([...PNG, 1]);
  });

  it('unpacks stored and deflated entries byte for byte', async () => {
    const big = bytesOf(100_000);
    for (const level of [0, 9] as const) {
      const result = readZip('p.zip', makeZip({ 'a/1.bin': big, 'b/2.bin': new Uint8Array(0) }, level));
      expect(result.rejected).toEqual([]);
      expect(await contents(result.files[0].blob)).toEqual([...big]);
      expect(result.files[1].blob.size).toBe(0);
    }
  });

  it('ignores __MACOSX and .DS_Store entries silently, and directories entirely', () => {
    const zip = zipSync({ 'p/': {}, 'p/cat/': {}, 'p/cat/1.png': PNG, 'p/cat/.DS_Store': PNG, '__MACOSX/p/cat/._1.png': PNG, 'p/dog/2.png': PNG });
    const result = readZip('p.zip', zip);
    expect(result.files.map((f) => f.path)).toEqual(['p/cat/1.png', 'p/dog/2.png']);
    expect(result.ignored).toEqual(['p.zip/p/cat/.DS_Store', 'p.zip/__MACOSX/p/cat/._1.png']);
    expect(result.rejected).toEqual([]);
  });
});

describe('readZip: hostile and broken archives', () => {
  it.each<[string, string]>([
    ['../evil.png', `'../evil.png' in 'x.zip' has a path that points outside the archive; it was not unpacked.`],
    ['cat/../../evil.png', `'cat/../../evil.png' in 'x.zip' has a path that points outside the archive; it was not unpacked.`],
    ['..\\..\\evil.png', `'..\\..\\evil.png' in 'x.zip' has a path that points outside the archive; it was not unpacked.`],
    ['/etc/evil.png', `'/etc/evil.png' in 'x.zip' has a path that points outside the archive; it was not unpacked.`],
    ['C:/Windows/evil.png', `'C:/Windows/evil.png' in 'x.zip' has a path that points outside the archive; it was not unpacked.`],
  ])('skips and names the escaping entry %j, keeping the rest', (name, reason) => {
    const result = readZip('x.zip', makeZip({ [name]: PNG, 'cat/1.png': PNG }));
    expect(result.rejected).toEqual([{ path: `x.zip/${name}`, reason }]);
    expect(result.files.map((f) => f.path)).toEqual(['x/cat/1.png']);
  });

  it('refuses a zip-bomb-like entry by its compression ratio before inflating it', () => {
    const zeros = new Uint8Array(3 * 1024 * 1024);
    const result = readZip('bomb.zip', makeZip({ 'cat/zeros.png': zeros, 'cat/1.png': PNG }, 9));
    expect(result.files.map((f) => f.path)).toEqual(['bomb/cat/1.png']);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0].path).toBe('bomb.zip/cat/zeros.png');
    expect(result.rejected[0].reason).toMatch(
      /^'cat\/zeros\.png' in 'bomb\.zip' is compressed 1,0\d\d:1 \(\d\.\d KiB unpacking to 3 MiB\), more than the 1,000:1 allowed, so it looks like a zip bomb; it was not unpacked\.$/,
    );
  });

  it('refuses an entry over the per-file limit by its declared size', () => {
    const result = readZip('b.zip', makeZip({ 'cat/big.png': new Uint8Array(2048), 'cat/1.png': PNG }), { maxEntryBytes: 1024 });
    expect(result.rejected).toEqual([
      { path: 'b.zip/cat/big.png', reason: `'cat/big.png' in 'b.zip' would unpack to 2 KiB, over the 1 KiB limit for one file; it was not unpacked.` },
    ]);
    expect(result.files).toHaveLength(1);
  });

  it('refuses the whole zip when the declared total is over the limit, unpacking nothing', () => {
    const result = readZip('b.zip', makeZip({ 'a/1.png': new Uint8Array(1500), 'b/2.png': new Uint8Array(1500) }), { maxTotalBytes: 2048 });
    expect(result).toEqual({
      files: [],
      notices: [],
      ignored: [],
      rejected: [
        {
          path: 'b.zip',
          reason: `'b.zip' would unpack to 2.9 KiB, over the 2 KiB limit for one zip; nothing was unpacked. Split it into smaller zips and add them one by one.`,
        },
      ],
    });
  });

  it('stops an entry that inflates past the size it declares', () => {
    const zip = makeZip({ 'cat/liar.png': new Uint8Array(200_000), 'cat/1.png': PNG }, 9);
    new DataView(zip.buffer).setUint32(centralHeader(zip, 'cat/liar.png') + 24, 1000, true);
    const result = readZip('l.zip', zip);
    expect(result.rejected).toEqual([
      {
        path: 'l.zip/cat/liar.png',
        reason: `'cat/liar.png' in 'l.zip' unpacks to more than the 1000 bytes it declares, so it looks like a zip bomb; unpacking was stopped and it was skipped.`,
      },
    ]);
    expect(result.files.map((f) => f.path)).toEqual(['l/cat/1.png']);
  });

  it.each<[string, (zip: Uint8Array) => void]>([
    ['a damaged stored byte (CRC mismatch)', (zip) => (zip[30 + 'cat/a.png'.length + 2] ^= 0xff)],
    ['a wrong declared size', (zip) => new DataView(zip.buffer).setUint32(centralHeader(zip, 'cat/a.png') + 24, PNG.length + 5, true)],
    ['a local header offset out of range', (zip) => new DataView(zip.buffer).setUint32(centralHeader(zip, 'cat/a.png') + 42, 0x7fffffff, true)],
  ])('names a corrupt entry: %s', (_name, damage) => {
    const zip = makeZip({ 'cat/a.png': PNG, 'cat/b.png': Uint8Array.from([...PNG, 9]) }, 0);
    damage(zip);
    const result = readZip('c.zip', zip);
    expect(result.rejected).toEqual([
      {
        path: 'c.zip/cat/a.png',
        reason: `'cat/a.png' in 'c.zip' is corrupt (it could not be unpacked); it was skipped. Zip the folder again and add the new file.`,
      },
    ]);
    expect(result.files.map((f) => f.path)).toEqual(['c/cat/b.png']);
  });

  it('names an encrypted entry', () => {
    const zip = makeZip({ 'cat/a.png': PNG, 'cat/b.png': PNG });
    const view = new DataView(zip.buffer);
    const at = centralHeader(zip, 'cat/a.png') + 8;
    view.setUint16(at, view.getUint16(at, true) | 1, true);
    expect(readZip('e.zip', zip).rejected).toEqual([
      { path: 'e.zip/cat/a.png', reason: `'cat/a.png' in 'e.zip' is encrypted; it was not unpacked. Zip the folder again without a password.` },
    ]);
  });

  it.each<[string, Uint8Array, string]>([
    ['an empty file', new Uint8Array(0), `'d.zip' is empty (0 bytes). Nothing was taken from it.`],
    ['a text file', new TextEncoder().encode('hello'), `'d.zip' is not a zip archive (it starts like a text file). Nothing was taken from it.`],
    ['a PNG', PNG, `'d.zip' is not a zip archive (it starts like a PNG image). Nothing was taken from it.`],
    [
      'a truncated zip',
      makeZip({ 'a/1.png': PNG }).subarray(0, 40),
      `'d.zip' could not be opened: the zip archive is truncated or corrupt. Nothing was taken from it. Zip the folder again and add the new file.`,
    ],
    [
      'a zip cut before its last bytes',
      (() => {
        const zip = makeZip({ 'a/1.png': PNG, 'b/2.png': PNG });
        return zip.subarray(0, zip.length - 5);
      })(),
      `'d.zip' could not be opened: the zip archive is truncated or corrupt. Nothing was taken from it. Zip the folder again and add the new file.`,
    ],
  ])('refuses %s as a whole, naming the zip', (_name, bytes, reason) => {
    expect(readZip('d.zip', bytes)).toEqual({ files: [], notices: [], ignored: [], rejected: [{ path: 'd.zip', reason }] });
  });

  it.each<[string, Uint8Array]>([
    ['an empty zip', zipSync({})],
    ['a zip of folders only', zipSync({ 'a/': {}, 'a/b/': {} })],
    ['a zip of system files only', zipSync({ '__MACOSX/._x': PNG, '.DS_Store': PNG })],
  ])('gives a notice for %s', (_name, zip) => {
    const result = readZip('none.zip', zip);
    expect(result.files).toEqual([]);
    expect(result.rejected).toEqual([]);
    expect(result.notices).toEqual([{ level: 'warning', message: `'none.zip' holds no files; nothing was added from it.` }]);
  });

  it('throws a DataError for a negative limit (a programming error)', () => {
    expect(() => readZip('a.zip', zipSync({}), { maxRatio: -1 })).toThrow(DataError);
  });

  it('never throws on random bytes or damaged zips, and accounts for every entry (property)', () => {
    const names = fc.array(fc.stringMatching(/^[a-z.\\/猫é_]{1,12}$/), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(
        names,
        fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), { maxLength: 4 }),
        fc.constantFrom<0 | 6>(0, 6),
        (entryNames, damage, level) => {
          const unique = [...new Set(entryNames)];
          const zip = makeZip(Object.fromEntries(unique.map((n) => [n, PNG])), level);
          for (const { at, value } of damage) zip[at % zip.length] = value;
          const result = readZip('r.zip', zip);
          for (const r of result.rejected) expect(r.reason).toMatch(/'r\.zip'/);
          if (damage.length === 0) {
            // Directories are not listed; an absolute or climbing name is rejected even when it looks like one ('...' is a hidden file).
            const files = unique.filter((n) => escapesArchive(n) || (!/[\\/]$/.test(n) && n.split(/[\\/]/).some((s) => s !== '' && s !== '.')));
            expect(result.files.length + result.rejected.length + result.ignored.length).toBe(files.length);
          }
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const result = readZip('r.zip', bytes);
        expect(result.files.length + result.rejected.length + result.notices.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('zip helpers', () => {
  it.each<[string, string]>([
    ['pets.zip', 'pets'],
    ['dir/Pets.ZIP', 'Pets'],
    ['a.b.zip', 'a.b'],
    ['.zip', 'archive'],
    ['noext', 'noext'],
  ])('zipStem(%j) = %j', (name, stem) => expect(zipStem(name)).toBe(stem));

  it.each<[string, boolean]>([
    ['a/b.png', false],
    ['a/..b.png', false],
    ['../b.png', true],
    ['a\\..\\..\\b.png', true],
    ['/b.png', true],
    ['\\b.png', true],
    ['c:b.png', true],
  ])('escapesArchive(%j) = %s', (name, escapes) => expect(escapesArchive(name)).toBe(escapes));

  it.each<[number, string]>([
    [0, '0 bytes'],
    [1000, '1000 bytes'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [200 * 1024 ** 2, '200 MiB'],
    [2 * 1024 ** 3, '2 GiB'],
  ])('formatBytes(%i) = %j', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});
