/**
 * The project file: one .zip holding `project.json` (the manifest, core/project.ts) and exactly the
 * binary parts it names (core/projectParts.ts): `model/<file>` for an imported model, `dataset/<class>/<file>`
 * for the dataset's original files, `weights/model.json` + `weights/weights.bin` for the last run's trained
 * weights, `evaluation/validation.f32` and `evaluation/test.f32` for its probabilities. The runs and their
 * curves are in project.json.
 *
 * A project file is hostile input like a dataset zip: it is read with the same checked reader (zip.ts:
 * paths, declared sizes and ratios before inflating, inflation stopped past the declared size, CRC-32),
 * and more strictly, since the studio wrote it: any bad entry refuses the whole file, and so does a part
 * the manifest names that is missing or of another size, or a file it does not name.
 */
import { strToU8, zipSync, type Zippable } from 'fflate';
import { parseProjectManifest, projectManifestText, checkProjectManifest, type ProjectManifestCode, type ProjectSnapshot } from '../core/project';
import { projectPartRefs } from '../core/projectIntegrity';
import { PROJECT_MANIFEST_NAME } from '../core/projectParts';
import { artifactsOfWeightParts, type WeightPartsCode } from '../core/projectWeights';
import { refused, type Result } from '../core/result';
import { DataError } from './errors';
import {
  checkLimits,
  DEFAULT_ZIP_LIMITS,
  formatBytes,
  inflateZipEntry,
  readZipDirectory,
  zipEntryProblem,
  type ZipEntry,
  type ZipLimits,
  type ZipProblem,
  type ZipProblemCode,
} from './zip';

/** A project's binary parts by name (the names its manifest gives). */
export type ProjectParts = ReadonlyMap<string, Uint8Array>;

/** A dataset zip's limits, with fewer entries: the zip is written without ZIP64, which 65,535 entries would need. */
export const PROJECT_ZIP_LIMITS: ZipLimits = { ...DEFAULT_ZIP_LIMITS, maxEntries: 65_534 };

/** Why a project file was refused: the zip layer's reasons, the manifest's (core/project.ts), the weights', or the file's layout. */
export type ProjectFileCode =
  | ProjectManifestCode
  | WeightPartsCode
  | 'not-a-zip'
  | 'corrupt-file'
  | 'too-large'
  | 'escaping-path'
  | 'unsupported-entry'
  | 'zip-bomb'
  | 'duplicate-entry'
  | 'missing-manifest'
  | 'bad-json'
  | 'missing-part'
  | 'part-size'
  | 'extra-file';

/** A project file read back: the checked manifest (migrated to the current schema), its parts, and the version it was migrated from (null: current). */
export type OpenedProject = { snapshot: ProjectSnapshot; parts: Map<string, Uint8Array>; migratedFrom: number | null };

type FileRefusal = { ok: false; code: ProjectFileCode; reason: string };

const ZIP_CODES: Record<ZipProblemCode, ProjectFileCode> = {
  empty: 'not-a-zip',
  'not-a-zip': 'not-a-zip',
  corrupt: 'corrupt-file',
  'corrupt-entry': 'corrupt-file',
  zip64: 'too-large',
  'too-many-entries': 'too-large',
  'entry-too-large': 'too-large',
  'escaping-path': 'escaping-path',
  encrypted: 'unsupported-entry',
  'unsupported-compression': 'unsupported-entry',
  'compression-ratio': 'zip-bomb',
  'inflates-past-size': 'zip-bomb',
};

const ADVICE: Partial<Record<ProjectFileCode, string>> = {
  'not-a-zip': 'Choose a project file saved by Transfer Studio (a .zip with project.json in it).',
  'corrupt-file': 'Download or copy it again (a transfer that did not finish leaves a file like this), or open an earlier copy.',
  'too-large': 'Nothing was taken from it.',
  'unsupported-entry': 'The studio writes neither; it was changed since it was saved. Open an earlier copy.',
  // The manifest's reason already says which versions this studio reads and what to do.
  'unsupported-version': '',
};
const DEFAULT_ADVICE = 'It was changed or damaged since it was saved. Open an earlier copy, or save the project again from the studio that made it.';

/** The refusal for `code`: `sentence`, then the advice for the code. */
function refuse(code: ProjectFileCode, sentence: string): FileRefusal {
  const advice = ADVICE[code] ?? DEFAULT_ADVICE;
  return refused(code, advice ? `${sentence} ${advice}` : sentence);
}

function fromZip(problem: ZipProblem): FileRefusal {
  return refuse(ZIP_CODES[problem.code], `${problem.fact}.`);
}

/** Text parts are deflated; images, weights and probabilities hardly compress and are stored. */
function isText(name: string): boolean {
  return /\.json$/i.test(name);
}

/** The zip's time stamp: the save time, when a zip can state it (1980–2099). */
function zipTime(savedAt: string): Date {
  const time = new Date(savedAt);
  const year = time.getFullYear();
  return year >= 1980 && year <= 2099 ? time : new Date(1980, 0, 1);
}

/** Why the project is over what a project file may hold (files, one file's size, the total), or null. */
function sizeProblem(snapshot: ProjectSnapshot, manifest: Uint8Array, limits: ZipLimits): string | null {
  const refs = projectPartRefs(snapshot);
  if (refs.length + 1 > limits.maxEntries) {
    return `The project has ${(refs.length + 1).toLocaleString('en-US')} files, over the ${limits.maxEntries.toLocaleString('en-US')} a project file may hold. Remove images, or split the dataset.`;
  }
  const big = refs.find((ref) => ref.bytes > limits.maxEntryBytes);
  if (big) return `'${big.part}' is ${formatBytes(big.bytes)}, over the ${formatBytes(limits.maxEntryBytes)} a project file may hold in one file.`;
  const total = refs.reduce((sum, ref) => sum + ref.bytes, manifest.length);
  if (total > limits.maxTotalBytes) {
    return `The project comes to ${formatBytes(total)}, over the ${formatBytes(limits.maxTotalBytes)} a project file may hold. Remove images, or split the dataset.`;
  }
  return null;
}

/**
 * Writes `snapshot` and its `parts` as one project file (the layout above; the manifest deflated, the
 * other parts stored). Refuses ('too-large') a project the reader would refuse for its size. Throws a
 * DataError ('bad-project', a programming error) when the snapshot fails its own check, or `parts` does
 * not hold exactly the parts it names at the sizes it states, so that what is written can be read back.
 */
export function writeProjectFile(snapshot: ProjectSnapshot, parts: ProjectParts, limits: Partial<ZipLimits> = {}): Result<{ bytes: Uint8Array }, 'too-large'> {
  const bounds: ZipLimits = { ...PROJECT_ZIP_LIMITS, ...limits };
  checkLimits(bounds);
  const text = projectManifestText(snapshot);
  const checked = checkProjectManifest(JSON.parse(text));
  if (!checked.ok) throw new DataError('bad-project', `The project cannot be saved as it is: ${checked.reason}`);
  const refs = projectPartRefs(snapshot);
  for (const ref of refs) {
    const bytes = parts.get(ref.part);
    if (!bytes) throw new DataError('bad-project', `The parts lack '${ref.part}', which ${ref.field} names.`);
    if (bytes.length !== ref.bytes) throw new DataError('bad-project', `'${ref.part}' holds ${bytes.length} bytes, but ${ref.field}.bytes says ${ref.bytes}.`);
  }
  const named = new Set(refs.map((ref) => ref.part));
  for (const name of parts.keys()) if (!named.has(name)) throw new DataError('bad-project', `The parts hold '${name}', which the manifest does not name.`);
  const manifest = strToU8(text);
  const tooLarge = sizeProblem(snapshot, manifest, bounds);
  if (tooLarge) return refused('too-large', tooLarge);

  const stored = new Set<string>();
  const zip = () => {
    const files: Zippable = { [PROJECT_MANIFEST_NAME]: [manifest, { level: stored.has(PROJECT_MANIFEST_NAME) ? 0 : 6 }] };
    for (const ref of refs) files[ref.part] = [parts.get(ref.part)!, { level: isText(ref.part) && !stored.has(ref.part) ? 6 : 0 }];
    return zipSync(files, { mtime: zipTime(snapshot.savedAt) });
  };
  let bytes = zip();
  // Very repetitive JSON can deflate past the ratio the reader allows (a bomb's mark): such a file is stored instead.
  const directory = readZipDirectory('project', bytes, bounds);
  if (directory.ok) {
    for (const entry of directory.entries) if (zipEntryProblem(entry, entry.name, bounds)?.code === 'compression-ratio') stored.add(entry.name);
    if (stored.size > 0) bytes = zip();
  }
  return { ok: true, bytes };
}

/** The archive's entries by name after every check that needs no inflating, or the refusal. */
function checkedEntries(bytes: Uint8Array, fileName: string, limits: ZipLimits): { ok: true; entries: Map<string, ZipEntry> } | FileRefusal {
  const directory = readZipDirectory(fileName, bytes, limits);
  if (!directory.ok) return fromZip(directory);
  const entries = new Map<string, ZipEntry>();
  let total = 0;
  for (const entry of directory.entries) {
    const problem = zipEntryProblem(entry, `'${entry.name}' in '${fileName}'`, limits);
    if (problem) return fromZip(problem);
    if (/\/$/.test(entry.name) && entry.size === 0) continue;
    if (entries.has(entry.name)) return refuse('duplicate-entry', `'${fileName}' holds '${entry.name}' twice.`);
    entries.set(entry.name, entry);
    total += entry.size;
  }
  if (total > limits.maxTotalBytes) {
    return refuse('too-large', `'${fileName}' would unpack to ${formatBytes(total)}, over the ${formatBytes(limits.maxTotalBytes)} a project file may hold.`);
  }
  return { ok: true, entries };
}

/** One entry's bytes, inflated and checked. */
function inflated(bytes: Uint8Array, entry: ZipEntry, fileName: string): { ok: true; data: Uint8Array } | FileRefusal {
  const result = inflateZipEntry(bytes, entry, `'${entry.name}' in '${fileName}'`);
  if (!result.ok) return fromZip(result);
  if (result.chunks.length === 1) return { ok: true, data: result.chunks[0] };
  const data = new Uint8Array(entry.size);
  let offset = 0;
  for (const chunk of result.chunks) {
    data.set(chunk, offset);
    offset += chunk.length;
  }
  return { ok: true, data };
}

/** The manifest's JSON, migrated and checked. */
function readManifest(
  bytes: Uint8Array,
  entries: Map<string, ZipEntry>,
  fileName: string,
): { ok: true; snapshot: ProjectSnapshot; migratedFrom: number | null } | FileRefusal {
  const entry = entries.get(PROJECT_MANIFEST_NAME);
  if (!entry) {
    return refuse(
      'missing-manifest',
      `'${fileName}' holds no ${PROJECT_MANIFEST_NAME}, so it is not a Transfer Studio project file. (A zip of images is added as a dataset in the Data panel.)`,
    );
  }
  const data = inflated(bytes, entry, fileName);
  if (!data.ok) return data;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data.data));
  } catch (error) {
    return refuse('bad-json', `${PROJECT_MANIFEST_NAME} in '${fileName}' is not valid JSON (${error instanceof Error ? error.message : String(error)}).`);
  }
  const parsed = parseProjectManifest(json);
  if (!parsed.ok) return refuse(parsed.code, `'${fileName}' is not a valid project file: ${parsed.reason}`);
  return { ok: true, snapshot: parsed.manifest, migratedFrom: parsed.migratedFrom };
}

/**
 * Reads a project file: checks the archive as a dataset zip is checked (any bad entry refuses the whole
 * file), parses, migrates and checks project.json, then requires exactly the parts it names at the sizes it
 * states (no other file), inflates them (CRC-checked) and checks the trained weights' model.json against
 * weights.bin. Never throws on bad bytes: each refusal has a code and a reason naming the file and the entry.
 */
export async function readProjectFile(
  bytes: Uint8Array,
  fileName = 'project.zip',
  limits: Partial<ZipLimits> = {},
): Promise<Result<OpenedProject, ProjectFileCode>> {
  const bounds: ZipLimits = { ...PROJECT_ZIP_LIMITS, ...limits };
  checkLimits(bounds);
  const listed = checkedEntries(bytes, fileName, bounds);
  if (!listed.ok) return listed;
  const { entries } = listed;
  const manifest = readManifest(bytes, entries, fileName);
  if (!manifest.ok) return manifest;
  const { snapshot } = manifest;

  const refs = projectPartRefs(snapshot);
  for (const ref of refs) {
    const entry = entries.get(ref.part);
    if (!entry) return refuse('missing-part', `'${fileName}' lacks '${ref.part}', which ${ref.field} names.`);
    if (entry.size !== ref.bytes)
      return refuse('part-size', `'${ref.part}' in '${fileName}' holds ${entry.size} bytes, but ${ref.field}.bytes says ${ref.bytes}.`);
  }
  const named = new Set([PROJECT_MANIFEST_NAME, ...refs.map((ref) => ref.part)]);
  for (const name of entries.keys()) {
    if (!named.has(name))
      return refuse(
        'extra-file',
        `'${fileName}' holds '${name}', which its ${PROJECT_MANIFEST_NAME} does not name; a project file holds only the files its manifest names.`,
      );
  }

  const parts = new Map<string, Uint8Array>();
  for (const ref of refs) {
    const data = inflated(bytes, entries.get(ref.part)!, fileName);
    if (!data.ok) return data;
    parts.set(ref.part, data.data);
  }
  if (snapshot.weights) {
    const weights = artifactsOfWeightParts(parts.get(snapshot.weights.modelJson.part)!, parts.get(snapshot.weights.weightsBin.part)!);
    if (!weights.ok) return refuse(weights.code, `The trained weights in '${fileName}' cannot be read: ${weights.reason}`);
  }
  return { ok: true, snapshot, parts, migratedFrom: manifest.migratedFrom };
}

/**
 * Whether `bytes` (a dropped .zip) is a project file rather than a zip of images: its directory reads and it
 * holds `project.json` at the root. Cheap (the directory only); a damaged file answers false and is then
 * refused with its reason by whichever path takes it.
 */
export function isProjectFileZip(bytes: Uint8Array): boolean {
  const directory = readZipDirectory('project', bytes, PROJECT_ZIP_LIMITS);
  return directory.ok && directory.entries.some((entry) => entry.name === PROJECT_MANIFEST_NAME);
}
