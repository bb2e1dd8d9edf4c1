import fc from 'fast-check';
import { strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { projectManifestText, type ProjectSnapshot } from '../core/project';
import { fullProject } from '../core/projectFixture';
import { datasetPartNames, isSafePartName } from '../core/projectParts';
import { DataError } from './errors';
import { isProjectFileZip, readProjectFile, writeProjectFile, type ProjectFileCode } from './projectFile';
import { escapesArchive, readZipDirectory, DEFAULT_ZIP_LIMITS } from './zip';

const FILE = 'pets.project.zip';

function written(snapshot: ProjectSnapshot, parts: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const result = writeProjectFile(snapshot, parts);
  if (!result.ok) throw new Error(result.reason);
  return result.bytes;
}

/** A project file of `entries` (name → bytes) as fflate writes it: the fixture's by default, changed by `edit`. */
function projectZip(edit: (entries: Record<string, Uint8Array>, manifest: any) => void = () => {}): Uint8Array {
  const { snapshot, parts } = fullProject();
  const manifest = JSON.parse(projectManifestText(snapshot));
  const entries: Record<string, Uint8Array> = Object.fromEntries(parts);
  edit(entries, manifest);
  const zippable: Zippable = { 'project.json': strToU8(JSON.stringify(manifest)) };
  for (const [name, bytes] of Object.entries(entries)) zippable[name] = [bytes, { level: 0 }];
  return zipSync(zippable);
}

/** Offset of the central-directory header of `name` in a zip. */
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

/** Paths of the null, empty-list and empty-object values in `value`. */
function emptyFields(value: unknown, path = ''): string[] {
  if (value === null) return [path];
  if (Array.isArray(value)) return value.length === 0 ? [path] : value.flatMap((item, i) => emptyFields(item, `${path}[${i}]`));
  if (typeof value === 'object') {
    const entries = Object.entries(value as object);
    return entries.length === 0 ? [path] : entries.flatMap(([key, item]) => emptyFields(item, path ? `${path}.${key}` : key));
  }
  return [];
}

describe('writeProjectFile → readProjectFile', () => {
  it('the fixture fills in every field (null only where null is the value: the sample image, a step keeping its factor)', () => {
    expect(emptyFields(fullProject().snapshot)).toEqual([
      'dataset.images[3].hash',
      'dataset.images[3].file',
      'training.scheduleSteps[1].learningRateFactor',
      'weights.run.settings.autoEpochs',
      'weights.run.setup.featureCache.millis',
      'weights.run.setup.featureCache.probes[0].msPerImage',
      'weights.run.outcome.failure',
      'weights.run.outcome.endNote',
    ]);
  });

  it('round-trips every field of a fully populated project and every byte of its parts', async () => {
    const { snapshot, parts } = fullProject();
    const opened = await readProjectFile(written(snapshot, parts), FILE);
    expect(opened).toEqual({ ok: true, snapshot, parts, migratedFrom: null });
    expect(opened.ok && opened.snapshot.runs[0].epochs[0].trainLoss).toBeNaN();
  });

  it('writes the documented layout: project.json, model/, dataset/<class>/, weights/, evaluation/', () => {
    const { snapshot, parts } = fullProject();
    expect(Object.keys(unzipSync(written(snapshot, parts)))).toEqual([
      'project.json',
      'model/model.json',
      'model/group1-shard1of1.bin',
      'dataset/cat/1.png',
      'dataset/cat/1 (2).png',
      'dataset/dog/a_b_.jpg',
      'dataset/dog/_.hidden name.webp',
      'weights/model.json',
      'weights/weights.bin',
      'evaluation/validation.f32',
      'evaluation/test.f32',
    ]);
  });

  it('round-trips a project with no model, no runs, no weights and no evaluation', async () => {
    const { snapshot } = fullProject();
    const empty: ProjectSnapshot = {
      ...snapshot,
      model: null,
      runs: [],
      weights: null,
      evaluation: null,
      dataset: { ...snapshot.dataset, images: [], rejected: [] },
    };
    expect(await readProjectFile(written(empty, new Map()), FILE)).toEqual({ ok: true, snapshot: empty, parts: new Map(), migratedFrom: null });
  });

  it('round-trips a manifest big enough to inflate in many chunks, and one that deflates past the bomb ratio (stored instead)', async () => {
    const { snapshot, parts } = fullProject();
    const rejected = Array.from({ length: 4000 }, (_, i) => ({
      path: `pets/junk/${i}.txt`,
      reason: `'pets/junk/${i}.txt' is not an image (${(i * 7919) % 1000}).`,
    }));
    for (const big of [
      { ...snapshot, dataset: { ...snapshot.dataset, rejected } },
      { ...snapshot, dataset: { ...snapshot.dataset, name: 'a'.repeat(3 * 1024 ** 2) } },
    ]) {
      const bytes = written(big, parts);
      const opened = await readProjectFile(bytes, FILE);
      expect(opened.ok && opened.snapshot).toEqual(big);
    }
  });

  it('opens a version-0 project file, migrated', async () => {
    const bytes = projectZip((_entries, manifest) => {
      manifest.schemaVersion = 0;
      manifest.model.batchNormOverrides = manifest.model.batchNormModes;
      delete manifest.model.batchNormModes;
    });
    const opened = await readProjectFile(bytes, FILE);
    expect(opened.ok && opened.migratedFrom).toBe(0);
    expect(opened.ok && opened.snapshot.model).toEqual(fullProject().snapshot.model);
  });
});

describe('readProjectFile refuses, naming the file and the reason', () => {
  const stored = () => written(fullProject().snapshot, fullProject().parts);

  it.each<[string, () => Uint8Array, ProjectFileCode, string]>([
    [
      'a truncated file',
      () => stored().subarray(0, 3000),
      'corrupt-file',
      `'${FILE}' could not be opened: the zip archive is truncated or corrupt. Download or copy it again`,
    ],
    ['a file cut by one byte', () => stored().subarray(0, stored().length - 1), 'corrupt-file', 'truncated or corrupt'],
    ['an empty file', () => new Uint8Array(0), 'not-a-zip', `'${FILE}' is empty (0 bytes). Choose a project file saved by Transfer Studio`],
    [
      'a PNG',
      () => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]),
      'not-a-zip',
      `'${FILE}' is not a zip archive (it starts like a PNG image).`,
    ],
    [
      'a dataset zip',
      () => zipSync({ 'cat/1.png': new Uint8Array(4) }),
      'missing-manifest',
      `'${FILE}' holds no project.json, so it is not a Transfer Studio project file.`,
    ],
    [
      'bad JSON',
      () => projectZip((e) => (e['project.json'] = strToU8('{"format": "transfer-studio-project",'))),
      'bad-json',
      `project.json in '${FILE}' is not valid JSON (`,
    ],
    ['a manifest that is not UTF-8', () => projectZip((e) => (e['project.json'] = Uint8Array.from([0x7b, 0xff, 0x7d]))), 'bad-json', 'is not valid JSON'],
    [
      'a bad field',
      () => projectZip((_e, m) => (m.dataset.splitSeed = 'forty-two')),
      'bad-field',
      `'${FILE}' is not a valid project file: Field 'dataset.splitSeed' is 'forty-two'; expected a whole number.`,
    ],
    [
      'a newer schema',
      () => projectZip((_e, m) => (m.schemaVersion = 3)),
      'unsupported-version',
      'saved with schema version 3 by a newer Transfer Studio; this studio reads schema version 2',
    ],
    [
      'a missing part',
      () => projectZip((e) => delete e['dataset/cat/1 (2).png']),
      'missing-part',
      `'${FILE}' lacks 'dataset/cat/1 (2).png', which dataset.images[1].file names.`,
    ],
    [
      'a part of another size',
      () => projectZip((e) => (e['weights/weights.bin'] = new Uint8Array(8))),
      'part-size',
      `'weights/weights.bin' in '${FILE}' holds 8 bytes, but weights.weightsBin.bytes says 84.`,
    ],
    [
      'an extra file',
      () => projectZip((e) => (e['notes.txt'] = strToU8('hi'))),
      'extra-file',
      `'${FILE}' holds 'notes.txt', which its project.json does not name`,
    ],
    ['a hidden extra file', () => projectZip((e) => (e['dataset/cat/.DS_Store'] = strToU8('x'))), 'extra-file', "holds 'dataset/cat/.DS_Store'"],
    [
      'an escaping path',
      () => projectZip((e) => (e['../evil.sh'] = strToU8('rm -rf'))),
      'escaping-path',
      `'../evil.sh' in '${FILE}' has a path that points outside the archive.`,
    ],
    ['an absolute path', () => projectZip((e) => (e['/etc/passwd'] = strToU8('x'))), 'escaping-path', "'/etc/passwd'"],
    [
      'trained weights that do not fit their model.json',
      () =>
        projectZip((e, m) => {
          e['weights/weights.bin'] = new Uint8Array(80);
          m.weights.weightsBin.bytes = 80;
        }),
      'bad-weights',
      `The trained weights in '${FILE}' cannot be read: weights/model.json's 2 weights take 84 bytes, but weights/weights.bin holds 80.`,
    ],
  ])('%s', async (_name, make, code, reason) => {
    const opened = await readProjectFile(make(), FILE);
    expect(opened.ok).toBe(false);
    if (opened.ok) return;
    expect(opened.code).toBe(code);
    expect(opened.reason).toContain(reason);
  });

  it('refuses a zip bomb by its ratio before inflating it, and one that inflates past its declared size', async () => {
    const zeros = zipSync({ 'project.json': [new Uint8Array(4 * 1024 ** 2), { level: 9 }] });
    const ratio = await readProjectFile(zeros, FILE);
    expect(ratio.ok === false && ratio.code).toBe('zip-bomb');
    expect(ratio.ok === false && ratio.reason).toContain(`'project.json' in '${FILE}' is compressed`);
    expect(ratio.ok === false && ratio.reason).toContain('so it looks like a zip bomb.');

    // The manifest declares fewer bytes than it inflates to.
    const lying = stored();
    new DataView(lying.buffer).setUint32(centralHeader(lying, 'project.json') + 24, 10, true);
    const past = await readProjectFile(lying, FILE);
    expect(past.ok === false && past.code).toBe('zip-bomb');
    expect(past.ok === false && past.reason).toContain(
      `'project.json' in '${FILE}' unpacks to more than the 10 bytes it declares, so it looks like a zip bomb.`,
    );
  });

  it('refuses an encrypted entry, a damaged part (CRC) and an entry named twice', async () => {
    const encrypted = stored();
    const flags = centralHeader(encrypted, 'weights/weights.bin') + 8;
    encrypted[flags] |= 1;
    expect(await readProjectFile(encrypted, FILE)).toMatchObject({ ok: false, code: 'unsupported-entry' });

    const damaged = stored();
    const last = readZipDirectory(FILE, damaged, DEFAULT_ZIP_LIMITS);
    if (!last.ok) throw new Error(last.fact);
    const entry = last.entries.find((e) => e.name === 'weights/weights.bin')!;
    damaged[entry.localOffset + 30 + entry.name.length + 5] ^= 0xff;
    const crc = await readProjectFile(damaged, FILE);
    expect(crc).toMatchObject({ ok: false, code: 'corrupt-file' });
    expect(crc.ok === false && crc.reason).toContain(`'weights/weights.bin' in '${FILE}' is corrupt (it could not be unpacked).`);

    // An entry renamed to 'project.json' in the central directory (a name of the same length).
    const patched = projectZip((e) => (e['project.jsox'] = strToU8('x')));
    patched.set(strToU8('project.json'), centralHeader(patched, 'project.jsox') + 46);
    expect(await readProjectFile(patched, FILE)).toMatchObject({
      ok: false,
      code: 'duplicate-entry',
      reason: expect.stringContaining(`'${FILE}' holds 'project.json' twice.`),
    });
  });

  it('refuses a file over the limits', async () => {
    const opened = await readProjectFile(stored(), FILE, { maxEntryBytes: 50 });
    expect(opened).toMatchObject({ ok: false, code: 'too-large' });
    expect(opened.ok === false && opened.reason).toContain('over the 50 bytes limit for one file.');
    const total = await readProjectFile(stored(), FILE, { maxTotalBytes: 1000 });
    expect(total.ok === false && total.reason).toContain(`'${FILE}' would unpack to`);
  });

  it('never throws on damaged files: each single byte flip or truncation is refused with a code and a reason, or changes nothing (property)', async () => {
    const { snapshot, parts } = fullProject();
    const original = written(snapshot, parts);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant('flip' as const), at: fc.nat({ max: original.length - 1 }), mask: fc.integer({ min: 1, max: 255 }) }),
          fc.record({ kind: fc.constant('cut' as const), at: fc.nat({ max: original.length - 1 }), mask: fc.constant(0) }),
        ),
        async ({ kind, at, mask }) => {
          const bytes = kind === 'cut' ? original.slice(0, at) : original.slice();
          if (kind === 'flip') bytes[at] ^= mask;
          const opened = await readProjectFile(bytes, FILE);
          if (opened.ok) {
            expect(opened.snapshot).toEqual(snapshot);
            expect(opened.parts).toEqual(parts);
          } else {
            expect(opened.reason).toContain(`'`);
            expect(opened.reason.length).toBeGreaterThan(20);
            expect(opened.code).toMatch(/^[a-z-]+$/);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('never throws on several random flips anywhere (property)', async () => {
    const original = written(fullProject().snapshot, fullProject().parts);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: original.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        async (flips) => {
          const bytes = original.slice();
          for (const [at, value] of flips) bytes[at] = value;
          const opened = await readProjectFile(bytes, FILE);
          expect(opened.ok || opened.reason.length > 20).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('writeProjectFile refuses what it could not read back', () => {
  it('refuses a project over the limits with a reason', () => {
    const { snapshot, parts } = fullProject();
    expect(writeProjectFile(snapshot, parts, { maxEntryBytes: 50 })).toEqual({
      ok: false,
      code: 'too-large',
      reason: "'model/group1-shard1of1.bin' is 96 bytes, over the 50 bytes a project file may hold in one file.",
    });
    const few = writeProjectFile(snapshot, parts, { maxEntries: 5 });
    expect(few.ok === false && few.reason).toBe('The project has 11 files, over the 5 a project file may hold. Remove images, or split the dataset.');
  });

  it.each<[string, (p: { snapshot: any; parts: Map<string, Uint8Array> }) => void, string]>([
    [
      'a snapshot that fails its check',
      ({ snapshot }) => (snapshot.dataset.classNames = ['cat']),
      "The project cannot be saved as it is: dataset.images[2] ('pets/dog/a:b?.jpg') is in class 'dog'",
    ],
    ['a missing part', ({ parts }) => parts.delete('weights/weights.bin'), "The parts lack 'weights/weights.bin', which weights.weightsBin names."],
    [
      'a part of another size',
      ({ parts }) => parts.set('evaluation/test.f32', new Uint8Array(4)),
      "'evaluation/test.f32' holds 4 bytes, but evaluation.test.probabilities.bytes says 12.",
    ],
    [
      'a part nobody names',
      ({ parts }) => parts.set('dataset/cat/9.png', new Uint8Array(4)),
      "The parts hold 'dataset/cat/9.png', which the manifest does not name.",
    ],
  ])('throws a DataError for %s (a programming error)', (_name, change, message) => {
    const project = fullProject();
    change(project);
    expect(() => writeProjectFile(project.snapshot, project.parts)).toThrow(DataError);
    expect(() => writeProjectFile(project.snapshot, project.parts)).toThrow(message);
  });

  it('gives dataset files names that never leave the archive (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ className: fc.string({ unit: 'binary' }), path: fc.string({ unit: 'binary' }) }), { maxLength: 20 }), (images) => {
        const names = datasetPartNames(images);
        expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
        for (const name of names) {
          expect(isSafePartName(name)).toBe(true);
          expect(escapesArchive(name)).toBe(false);
          expect(name.split('/')).toHaveLength(3);
        }
      }),
    );
  });
});

describe('isProjectFileZip', () => {
  it('tells a project file (project.json at the root) from a zip of images, a zip with project.json in a folder, and bytes that are no zip', () => {
    const { snapshot, parts } = fullProject();
    const written = writeProjectFile(snapshot, parts);
    if (!written.ok) throw new Error(written.reason);
    expect(isProjectFileZip(written.bytes)).toBe(true);
    expect(isProjectFileZip(zipSync({ 'cats/1.png': strToU8('x'), 'dogs/1.png': strToU8('y') }))).toBe(false);
    expect(isProjectFileZip(zipSync({ 'photos/project.json': strToU8('{}') }))).toBe(false);
    expect(isProjectFileZip(strToU8('not a zip at all'))).toBe(false);
  });
});
