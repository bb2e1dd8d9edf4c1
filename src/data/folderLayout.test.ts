import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkClasses, isHiddenOrSystemName, planFolderImport } from './folderLayout';
import type { DatasetNotice } from './types';

const plan = (...paths: string[]) => planFolderImport(paths.map((path) => ({ path })));
const classesOf = (...paths: string[]) => plan(...paths).entries.map(({ path, className }) => [path, className]);

describe('planFolderImport: classes', () => {
  it.each<[string, string[], [string, string][]]>([
    [
      'root/class/file → class',
      ['digits/5/img001.png', 'digits/7/img002.png'],
      [
        ['digits/5/img001.png', '5'],
        ['digits/7/img002.png', '7'],
      ],
    ],
    [
      'a leading slash from a drop walk',
      ['/pets/cats/a.png', '/pets/dogs/b.png'],
      [
        ['/pets/cats/a.png', 'cats'],
        ['/pets/dogs/b.png', 'dogs'],
      ],
    ],
    [
      'CJK class names as-is',
      ['動物/猫/1.png', '動物/犬/2.png'],
      [
        ['動物/猫/1.png', '猫'],
        ['動物/犬/2.png', '犬'],
      ],
    ],
    [
      'accents and emoji as-is',
      ['food/café/1.jpg', 'food/🍕 pizza/2.jpg'],
      [
        ['food/café/1.jpg', 'café'],
        ['food/🍕 pizza/2.jpg', '🍕 pizza'],
      ],
    ],
    [
      'decomposed accents (NFD) become composed (NFC)',
      ['food/cafe\u0301/1.jpg', 'food/tea/2.jpg'],
      [
        ['food/cafe\u0301/1.jpg', 'caf\u00e9'],
        ['food/tea/2.jpg', 'tea'],
      ],
    ],
    [
      'Greek, CJK and accented names as-is',
      ['x/Ωmega/1.png', 'x/猫/2.png', 'x/café/3.png'],
      [
        ['x/Ωmega/1.png', 'Ωmega'],
        ['x/猫/2.png', '猫'],
        ['x/café/3.png', 'café'],
      ],
    ],
    [
      'class names are case-sensitive',
      ['x/Cat/1.png', 'x/cat/2.png'],
      [
        ['x/Cat/1.png', 'Cat'],
        ['x/cat/2.png', 'cat'],
      ],
    ],
    [
      'same class under two dropped roots merges',
      ['a/cats/1.png', 'b/cats/2.png'],
      [
        ['a/cats/1.png', 'cats'],
        ['b/cats/2.png', 'cats'],
      ],
    ],
    [
      'deeper files go to their class',
      ['root/cats/indoor/1.png', 'root/dogs/2.png'],
      [
        ['root/cats/indoor/1.png', 'cats'],
        ['root/dogs/2.png', 'dogs'],
      ],
    ],
  ])('%s', (_name, paths, expected) => {
    expect(classesOf(...paths)).toEqual(expected);
  });

  it('lists class names sorted by code point and keeps input indices', () => {
    const result = plan('r/zebra/1.png', 'r/猫/2.png', 'r/Ant/3.png', 'r/ant/4.png');
    expect(result.classNames).toEqual(['Ant', 'ant', 'zebra', '猫']);
    expect(result.entries.map((e) => e.index)).toEqual([0, 1, 2, 3]);
  });

  it('merges a composed (NFC) and a decomposed (NFD) spelling of a name into one class', () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    const result = plan(`mac/${nfd}/1.png`, `win/${nfc}/2.png`, `win/${nfd}/sub/3.png`, 'win/tea/4.png');
    expect(result.classNames).toEqual([nfc, 'tea']);
    expect(result.entries.map((e) => e.className)).toEqual([nfc, nfc, nfc, 'tea']);
    expect(result.notices.map((n) => n.message)).toEqual([`'win/${nfd}/sub' is a folder inside class '${nfc}'; its 1 file was included in class '${nfc}'.`]);
    expect(
      checkClasses(
        new Map([
          [nfc, 3],
          ['Ωmega', 1],
        ]),
      ),
    ).toEqual([{ level: 'warning', message: `Class 'Ωmega' has only 1 image, so none can be kept for validation. Add more images to it.` }]);
  });
});

describe('planFolderImport: rejected, ignored and notices', () => {
  it('rejects a file beside the class folders, naming it and saying what to do', () => {
    const result = plan('root/file.png', 'root/cats/1.png', 'root/dogs/2.png');
    expect(result.rejected).toEqual([
      { path: 'root/file.png', reason: `'root/file.png' lies beside the class folders, not inside one; it was skipped. Put it in a class folder.` },
    ]);
    expect(result.entries).toHaveLength(2);
    expect(result.notices).toEqual([]);
  });

  it('reports a folder without subfolders as an error and rejects its files', () => {
    const result = plan('root/a.png', 'root/b.png');
    expect(result.notices).toEqual<DatasetNotice[]>([
      {
        level: 'error',
        message: `'root' has no class subfolders. Make one subfolder per class (e.g. root/cats, root/dogs) and add the folder again, or drop several class folders together (each becomes a class).`,
      },
    ]);
    expect(result.rejected.map((r) => r.path)).toEqual(['root/a.png', 'root/b.png']);
    expect(result.rejected[0].reason).toContain(`'root/a.png'`);
    expect(result.entries).toEqual([]);
    expect(result.classNames).toEqual([]);
  });

  it('takes several folders of images dropped together as one class each', () => {
    const result = plan('cats/1.png', 'cats/2.png', 'dogs/3.png', 'cafe\u0301/4.png');
    expect(result.entries.map((e) => [e.path, e.className])).toEqual([
      ['cats/1.png', 'cats'],
      ['cats/2.png', 'cats'],
      ['dogs/3.png', 'dogs'],
      ['cafe\u0301/4.png', 'caf\u00e9'],
    ]);
    expect(result.classNames).toEqual(['café', 'cats', 'dogs']);
    expect(result.rejected).toEqual([]);
    expect(result.notices.filter((n) => n.level === 'error')).toEqual([]);
  });

  it('judges each dropped root on its own', () => {
    const result = plan('flat/a.png', 'good/cats/1.png', 'good/dogs/2.png');
    expect(result.notices.map((n) => n.message)).toEqual([expect.stringContaining(`'flat' has no class subfolders`)]);
    expect(result.entries.map((e) => e.className)).toEqual(['cats', 'dogs']);
  });

  it.each([['x.png'], ['/x.png'], ['x.png/']])('rejects a loose single file %j', (path) => {
    const result = plan(path);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0].path).toBe(path);
    expect(result.rejected[0].reason).toMatch(/^'x\.png' is not inside a class folder/);
  });

  it('gives one warning per sub-folder below class level, counting its files', () => {
    const result = plan('root/cats/indoor/1.png', 'root/cats/indoor/deep/2.png', 'root/cats/outdoor/3.png', 'root/cats/4.png', 'root/dogs/5.png');
    expect(result.notices).toEqual<DatasetNotice[]>([
      { level: 'warning', message: `'root/cats/indoor' is a folder inside class 'cats'; its 2 files were included in class 'cats'.` },
      { level: 'warning', message: `'root/cats/outdoor' is a folder inside class 'cats'; its 1 file was included in class 'cats'.` },
    ]);
    expect(result.entries.filter((e) => e.className === 'cats')).toHaveLength(4);
  });

  it('hints that a lone class made only of sub-folders was probably dropped one level too high', () => {
    const result = plan('photos/animals/cats/1.png', 'photos/animals/dogs/2.png');
    expect(result.classNames).toEqual(['animals']);
    expect(result.notices).toHaveLength(3);
    expect(result.notices[2]).toEqual({
      level: 'warning',
      message: `'photos/animals' holds only subfolders (cats, dogs), so they were merged into the single class 'animals'. If those subfolders are your classes, add the folder 'photos/animals' itself instead.`,
    });
  });

  it.each([
    ['root/cats/.DS_Store'],
    ['root/.DS_Store'],
    ['root/cats/._1.png'],
    ['root/cats/Thumbs.db'],
    ['root/cats/thumbs.db'],
    ['root/dogs/desktop.ini'],
    ['root/.git/objects/ab'],
    ['__MACOSX/root/cats/._1.png'],
    ['.hidden'],
  ])('ignores %j silently', (path) => {
    const result = plan('root/cats/1.png', 'root/dogs/2.png', path);
    expect(result.ignored).toEqual([path]);
    expect(result.rejected).toEqual([]);
    expect(result.notices).toEqual([]);
    expect(result.entries).toHaveLength(2);
  });

  it('does not count a hidden folder as a class subfolder', () => {
    const result = plan('root/a.png', 'root/.thumbnails/a.png');
    expect(result.ignored).toEqual(['root/.thumbnails/a.png']);
    expect(result.notices[0]).toMatchObject({ level: 'error', message: expect.stringContaining(`'root' has no class subfolders`) });
  });

  it('puts every input path in exactly one of entries, rejected or ignored', () => {
    const segment = fc.oneof(fc.constantFrom('cats', 'dogs', '猫', '.DS_Store', 'Thumbs.db', '.git', 'a.png', '', '.', '🍕'), fc.string({ maxLength: 6 }));
    const path = fc.oneof(
      fc.array(segment, { maxLength: 5 }).map((parts) => parts.join('/')),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(path, { maxLength: 30 }), (paths) => {
        const result = plan(...paths);
        const seen = [...result.entries.map((e) => e.index)];
        const placed = result.entries.length + result.rejected.length + result.ignored.length;
        expect(placed).toBe(paths.length);
        expect(new Set(seen).size).toBe(seen.length);
        for (const entry of result.entries) expect(paths[entry.index]).toBe(entry.path);
        // The classes are exactly those of the entries, each once.
        expect([...result.classNames].sort()).toEqual([...new Set(result.entries.map((e) => e.className))].sort());
        // An error notice (a root without class folders) always comes with the files it skipped.
        if (result.notices.some((n) => n.level === 'error')) expect(result.rejected.length).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });
});

describe('isHiddenOrSystemName', () => {
  it.each<[string, boolean]>([
    ['.DS_Store', true],
    ['._photo.jpg', true],
    ['Thumbs.db', true],
    ['desktop.ini', true],
    ['Desktop.ini', true],
    ['photo.jpg', false],
    ['thumbs.db.png', false],
    ['猫', false],
  ])('%j → %s', (name, expected) => {
    expect(isHiddenOrSystemName(name)).toBe(expected);
  });
});

describe('checkClasses', () => {
  it.each<[string, Map<string, number> | Record<string, number>, DatasetNotice[]]>([
    ['two healthy classes', { cats: 10, dogs: 12 }, []],
    [
      'a Map works too',
      new Map([
        ['cats', 3],
        ['dogs', 4],
      ]),
      [],
    ],
    [
      'no classes at all',
      {},
      [{ level: 'error', message: 'No classes found. Add a folder that holds one subfolder of images per class (e.g. animals/cats, animals/dogs).' }],
    ],
    ['only one class', { cats: 10 }, [{ level: 'error', message: `Only one class ('cats'): training needs at least two classes. Add another class folder.` }]],
    [
      'a class with no usable images',
      { cats: 10, dogs: 0 },
      [{ level: 'error', message: `Class 'dogs' has no usable images. Add images to it (to its folder, or onto its card) or delete the class.` }],
    ],
    [
      'a class with one image',
      { cats: 10, 猫: 1 },
      [{ level: 'warning', message: `Class '猫' has only 1 image, so none can be kept for validation. Add more images to it.` }],
    ],
    [
      'one class that is also empty',
      new Map([['cats', 0]]),
      [
        { level: 'error', message: `Only one class ('cats'): training needs at least two classes. Add another class folder.` },
        { level: 'error', message: `Class 'cats' has no usable images. Add images to it (to its folder, or onto its card) or delete the class.` },
      ],
    ],
  ])('%s', (_name, counts, expected) => {
    expect(checkClasses(counts)).toEqual(expected);
  });

  it('orders per-class notices by class name', () => {
    const notices = checkClasses({ zebra: 0, ant: 1, moth: 5 });
    expect(notices.map((n) => n.message.match(/'([^']+)'/)?.[1])).toEqual(['ant', 'zebra']);
  });
});
