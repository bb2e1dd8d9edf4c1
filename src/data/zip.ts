/**
 * Unpacks a dropped .zip into `{path, blob}` files for the ingest, in memory, without a server, through
 * the checked reader of zipReader.ts, and words each problem with advice for a dataset.
 *
 * Path rule: if every entry lies under one top folder that itself holds subfolders
 * (`pets/cat/1.png`), the paths are kept as they are; otherwise they are put under a folder named
 * after the zip (`pets.zip` holding `cat/1.png` gives `pets/cat/1.png`), so a zip of class folders
 * and a zip of one dataset folder both become `root/class/file`.
 */
import { isHiddenOrSystemName } from './folderLayout';
import type { DatasetNotice, RejectedFile } from './types';
import {
  checkLimits,
  DEFAULT_ZIP_LIMITS,
  formatBytes,
  inflateZipEntry,
  readZipDirectory,
  zipEntryProblem,
  zipStem,
  type ZipEntry,
  type ZipLimits,
  type ZipProblem,
  type ZipProblemCode,
} from './zipReader';

export { checkLimits, DEFAULT_ZIP_LIMITS, escapesArchive, formatBytes, inflateZipEntry, readZipDirectory, zipEntryProblem, zipStem } from './zipReader';
export type { ZipEntry, ZipLimits, ZipProblem, ZipProblemCode } from './zipReader';

/**
 * What a zip gave: `files` to ingest (paths `root/class/file`), `rejected` entries or the whole zip
 * with reasons naming the zip and the entry, `notices` (an empty zip), and `ignored` system entries
 * (`__MACOSX/…`, `.DS_Store`) as `zipName/entry`. Directories are not listed anywhere.
 */
export type ZipContents = {
  files: { path: string; blob: Blob }[];
  rejected: RejectedFile[];
  notices: DatasetNotice[];
  ignored: string[];
};

/** What `readZip` adds to each fact: what happened to the files, and what to do. */
const DATASET_ADVICE: Record<ZipProblemCode, string> = {
  empty: '. Nothing was taken from it.',
  'not-a-zip': '. Nothing was taken from it.',
  corrupt: '. Nothing was taken from it. Zip the folder again and add the new file.',
  zip64: '. Nothing was taken from it. Split it into smaller zips.',
  'too-many-entries': '. Nothing was taken from it. Split it into smaller zips.',
  'escaping-path': '; it was not unpacked.',
  encrypted: '; it was not unpacked. Zip the folder again without a password.',
  'unsupported-compression': '; it was not unpacked. Zip the folder again with standard settings.',
  'entry-too-large': '; it was not unpacked.',
  'compression-ratio': '; it was not unpacked.',
  'corrupt-entry': '; it was skipped. Zip the folder again and add the new file.',
  'inflates-past-size': '; unpacking was stopped and it was skipped.',
};

function datasetReason(problem: ZipProblem): string {
  return `${problem.fact}${DATASET_ADVICE[problem.code]}`;
}

/**
 * Unpacks `bytes`, the contents of the file `zipName`, into files for `ingestFiles`. Refuses the whole
 * zip when it is not a zip, is corrupt, or declares more than `maxTotalBytes`; skips and names each
 * entry whose path escapes the archive, that is encrypted, uses an unknown compression, declares
 * more than `maxEntryBytes` or a ratio above `maxRatio`, or inflates past its declared size or CRC.
 */
export function readZip(zipName: string, bytes: Uint8Array, limits: Partial<ZipLimits> = {}): ZipContents {
  const bounds: ZipLimits = { ...DEFAULT_ZIP_LIMITS, ...limits };
  checkLimits(bounds);
  const result: ZipContents = { files: [], rejected: [], notices: [], ignored: [] };
  const directory = readZipDirectory(zipName, bytes, bounds);
  if (!directory.ok) {
    result.rejected.push({ path: zipName, reason: datasetReason(directory) });
    return result;
  }

  const wanted: ZipEntry[] = [];
  for (const entry of directory.entries) {
    const path = `${zipName}/${entry.name}`;
    const problem = zipEntryProblem(entry, `'${entry.name}' in '${zipName}'`, bounds);
    const isDirectory = /[\\/]$/.test(entry.name) || entry.segments.length === 0;
    if (problem?.code === 'escaping-path') {
      result.rejected.push({ path, reason: datasetReason(problem) });
    } else if (isDirectory) {
      continue;
    } else if (entry.segments.some(isHiddenOrSystemName)) {
      result.ignored.push(path);
    } else if (problem) {
      result.rejected.push({ path, reason: datasetReason(problem) });
    } else {
      wanted.push(entry);
    }
  }

  const declaredTotal = wanted.reduce((sum, entry) => sum + entry.size, 0);
  if (declaredTotal > bounds.maxTotalBytes) {
    return {
      files: [],
      notices: [],
      ignored: [],
      rejected: [
        {
          path: zipName,
          reason: `'${zipName}' would unpack to ${formatBytes(declaredTotal)}, over the ${formatBytes(bounds.maxTotalBytes)} limit for one zip; nothing was unpacked. Split it into smaller zips and add them one by one.`,
        },
      ],
    };
  }

  const first = wanted[0]?.segments[0];
  const keepPaths = wanted.length > 0 && wanted.every((e) => e.segments[0] === first) && wanted.some((e) => e.segments.length >= 3);
  const stem = zipStem(zipName);
  for (const entry of wanted) {
    const inflated = inflateZipEntry(bytes, entry, `'${entry.name}' in '${zipName}'`);
    if (!inflated.ok) {
      result.rejected.push({ path: `${zipName}/${entry.name}`, reason: datasetReason(inflated) });
      continue;
    }
    const relative = entry.segments.join('/');
    result.files.push({ path: keepPaths ? relative : `${stem}/${relative}`, blob: new Blob(inflated.chunks as BlobPart[]) });
  }
  if (result.files.length === 0 && result.rejected.length === 0) {
    result.notices.push({ level: 'warning', message: `'${zipName}' holds no files; nothing was added from it.` });
  }
  return result;
}

/** True for a dropped file named `*.zip` (any case); its bytes are checked by `readZip`. */
export function isZipName(path: string): boolean {
  return /\.zip$/i.test(path);
}

/**
 * Replaces each `*.zip` among dropped `files` by the files it holds (`readZip`, one zip at a time so
 * only one archive's bytes are in memory), keeping the other files in place. Returns what to pass to
 * `ingestFiles` plus the zips' own rejected files, notices and ignored entries. Never rejects for a
 * bad zip: an unreadable one becomes a rejected file too.
 */
export async function expandZips(files: readonly { path: string; blob: Blob }[], limits: Partial<ZipLimits> = {}): Promise<ZipContents> {
  const out: ZipContents = { files: [], rejected: [], notices: [], ignored: [] };
  for (const file of files) {
    if (!isZipName(file.path)) {
      out.files.push(file);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await file.blob.arrayBuffer());
    } catch {
      out.rejected.push({ path: file.path, reason: `'${file.path}' could not be read (it may have been moved or deleted since it was chosen). Add it again.` });
      continue;
    }
    const unpacked = readZip(file.path, bytes, limits);
    out.files.push(...unpacked.files);
    out.rejected.push(...unpacked.rejected);
    out.notices.push(...unpacked.notices);
    out.ignored.push(...unpacked.ignored);
  }
  return out;
}
