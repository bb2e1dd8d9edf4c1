/**
 * Unpacks a dropped .zip into `{path, blob}` files for the ingest, in memory, without a server.
 * The archive is hostile input: its central directory is read by hand so that every entry's
 * declared size, compression ratio and path are checked before a single byte is inflated, and
 * entries are inflated by fflate's streaming `Inflate` in small chunks so one that inflates past
 * its declared size is stopped there. Nothing here throws on bad bytes.
 *
 * Path rule: if every entry lies under one top folder that itself holds subfolders
 * (`pets/cat/1.png`), the paths are kept as they are; otherwise they are put under a folder named
 * after the zip (`pets.zip` holding `cat/1.png` gives `pets/cat/1.png`), so a zip of class folders
 * and a zip of one dataset folder both become `root/class/file`.
 *
 * Limits: ZIP64 archives (over 4 GiB or 65,535 entries) and encrypted entries are refused;
 * names without the UTF-8 flag are decoded as UTF-8 when valid (macOS writes them so), else as Windows-1252.
 */
import { Inflate } from 'fflate';
import { DataError } from './errors';
import { isHiddenOrSystemName } from './folderLayout';
import { sniffFileType } from './sniff';
import type { DatasetNotice, RejectedFile } from './types';

/** Bounds on what one zip may unpack to; all sizes in bytes. */
export type ZipLimits = {
  /** Sum of the declared uncompressed sizes of the entries that would be unpacked. */
  maxTotalBytes: number;
  /** Declared uncompressed size of one entry. */
  maxEntryBytes: number;
  /** Declared uncompressed ÷ compressed size of one entry, checked for entries over `ratioFloorBytes`. */
  maxRatio: number;
  /** Entries smaller than this are never refused for their ratio (a tiny file cannot be a bomb). */
  ratioFloorBytes: number;
  /** Number of entries in the central directory. */
  maxEntries: number;
};

/** 2 GiB in all, 200 MiB per entry, 1,000:1 at most above 1 MiB, 100,000 entries. */
export const DEFAULT_ZIP_LIMITS: ZipLimits = {
  maxTotalBytes: 2 * 1024 ** 3,
  maxEntryBytes: 200 * 1024 ** 2,
  maxRatio: 1000,
  ratioFloorBytes: 1024 ** 2,
  maxEntries: 100_000,
};

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

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const INFLATE_CHUNK = 16 * 1024;

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** `1.5 MiB`, `2.0 GiB`, `512 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 || Number.isInteger(value) ? 0 : 1)} ${units[unit]}`;
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

function crc32Update(crc: number, chunk: Uint8Array): number {
  let c = crc;
  for (let i = 0; i < chunk.length; i++) c = CRC_TABLE[(c ^ chunk[i]) & 0xff] ^ (c >>> 8);
  return c;
}

/** The zip's file name without folders and without `.zip`, used as the dataset's root folder. */
export function zipStem(zipName: string): string {
  const base = zipName.split(/[\\/]/).pop() ?? '';
  const stem = base.replace(/\.zip$/i, '');
  return stem === '' || stem === '.' || stem === '..' ? 'archive' : stem;
}

function decodeName(raw: Uint8Array, utf8Flag: boolean): string {
  if (utf8Flag) return new TextDecoder('utf-8').decode(raw);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return new TextDecoder('windows-1252').decode(raw);
  }
}

/** True when an entry name, with backslashes read as separators, is absolute or climbs out with `..`. */
export function escapesArchive(name: string): boolean {
  const slashed = name.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed) || slashed.includes('\0')) return true;
  return slashed.split('/').some((segment) => segment === '..');
}

type CentralEntry = {
  name: string;
  segments: string[];
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
};

type Directory = { ok: true; entries: CentralEntry[] } | { ok: false; reason: string };

function corruptReason(zipName: string): string {
  return `'${zipName}' could not be opened: the zip archive is truncated or corrupt. Nothing was taken from it. Zip the folder again and add the new file.`;
}

function readDirectory(zipName: string, bytes: Uint8Array, limits: ZipLimits): Directory {
  const sniff = sniffFileType(bytes);
  if (sniff.kind === 'empty') return { ok: false, reason: `'${zipName}' is empty (0 bytes). Nothing was taken from it.` };
  const looksLikeZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b;
  let eocd = -1;
  for (let o = bytes.length - 22; o >= 0 && o >= bytes.length - 22 - 0xffff; o--) {
    if (u32(bytes, o) === EOCD_SIGNATURE) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) {
    if (looksLikeZip) return { ok: false, reason: corruptReason(zipName) };
    const looksLike = sniff.kind === 'image' ? `a ${sniff.format.toUpperCase()} image` : sniff.kind === 'svg' ? 'an SVG drawing' : sniff.looksLike;
    return { ok: false, reason: `'${zipName}' is not a zip archive (it starts like ${looksLike}). Nothing was taken from it.` };
  }
  const count = u16(bytes, eocd + 10);
  const directoryOffset = u32(bytes, eocd + 16);
  if (count === 0xffff || directoryOffset === 0xffffffff || u32(bytes, eocd + 12) === 0xffffffff) {
    return {
      ok: false,
      reason: `'${zipName}' is a ZIP64 archive (made for over 4 GiB or 65,535 files), which is over the limits for one zip. Nothing was taken from it. Split it into smaller zips.`,
    };
  }
  if (count > limits.maxEntries) {
    return {
      ok: false,
      reason: `'${zipName}' holds ${count.toLocaleString('en-US')} entries, over the ${limits.maxEntries.toLocaleString('en-US')} allowed in one zip. Nothing was taken from it. Split it into smaller zips.`,
    };
  }
  const entries: CentralEntry[] = [];
  let o = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (o + 46 > eocd || u32(bytes, o) !== CENTRAL_SIGNATURE) return { ok: false, reason: corruptReason(zipName) };
    const nameLength = u16(bytes, o + 28);
    const next = o + 46 + nameLength + u16(bytes, o + 30) + u16(bytes, o + 32);
    if (next > eocd) return { ok: false, reason: corruptReason(zipName) };
    const flags = u16(bytes, o + 8);
    const name = decodeName(bytes.subarray(o + 46, o + 46 + nameLength), (flags & 0x800) !== 0);
    entries.push({
      name,
      segments: name
        .replace(/\\/g, '/')
        .split('/')
        .filter((s) => s !== '' && s !== '.'),
      method: u16(bytes, o + 10),
      flags,
      crc: u32(bytes, o + 16),
      compressedSize: u32(bytes, o + 20),
      size: u32(bytes, o + 24),
      localOffset: u32(bytes, o + 42),
    });
    o = next;
  }
  return { ok: true, entries };
}

type Inflated = { ok: true; chunks: Uint8Array[] } | { ok: false; reason: string };

function inflateEntry(bytes: Uint8Array, entry: CentralEntry, shown: string): Inflated {
  const corrupt = { ok: false as const, reason: `${shown} is corrupt (it could not be unpacked); it was skipped. Zip the folder again and add the new file.` };
  const o = entry.localOffset;
  if (o + 30 > bytes.length || u32(bytes, o) !== LOCAL_SIGNATURE) return corrupt;
  const start = o + 30 + u16(bytes, o + 26) + u16(bytes, o + 28);
  const end = start + entry.compressedSize;
  if (end > bytes.length) return corrupt;
  const data = bytes.subarray(start, end);
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size || (crc32Update(-1, data) ^ -1) >>> 0 !== entry.crc) return corrupt;
    return { ok: true, chunks: [data.slice()] };
  }
  const chunks: Uint8Array[] = [];
  let produced = 0;
  let overflow = false;
  let crc = -1;
  const inflater = new Inflate((chunk) => {
    if (overflow) return;
    produced += chunk.length;
    if (produced > entry.size) {
      overflow = true;
      return;
    }
    crc = crc32Update(crc, chunk);
    chunks.push(chunk);
  });
  if (data.length === 0) return corrupt;
  try {
    for (let p = 0; p < data.length && !overflow; p += INFLATE_CHUNK) {
      const final = p + INFLATE_CHUNK >= data.length;
      inflater.push(data.subarray(p, p + INFLATE_CHUNK), final);
    }
  } catch {
    return corrupt;
  }
  if (overflow) {
    return {
      ok: false,
      reason: `${shown} unpacks to more than the ${formatBytes(entry.size)} it declares, so it looks like a zip bomb; unpacking was stopped and it was skipped.`,
    };
  }
  if (produced !== entry.size || (crc ^ -1) >>> 0 !== entry.crc) return corrupt;
  return { ok: true, chunks };
}

function checkLimits(limits: ZipLimits): void {
  for (const [key, value] of Object.entries(limits)) {
    if (!(typeof value === 'number' && value >= 0)) throw new DataError('bad-limit', `Zip limit ${key} must be a number ≥ 0, got ${value}.`);
  }
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
  const directory = readDirectory(zipName, bytes, bounds);
  if (!directory.ok) {
    result.rejected.push({ path: zipName, reason: directory.reason });
    return result;
  }

  const wanted: CentralEntry[] = [];
  for (const entry of directory.entries) {
    const path = `${zipName}/${entry.name}`;
    const shown = `'${entry.name}' in '${zipName}'`;
    const isDirectory = /[\\/]$/.test(entry.name) || entry.segments.length === 0;
    if (escapesArchive(entry.name)) {
      result.rejected.push({ path, reason: `${shown} has a path that points outside the archive; it was not unpacked.` });
    } else if (isDirectory) {
      continue;
    } else if (entry.segments.some(isHiddenOrSystemName)) {
      result.ignored.push(path);
    } else if (entry.flags & 1) {
      result.rejected.push({ path, reason: `${shown} is encrypted; it was not unpacked. Zip the folder again without a password.` });
    } else if (entry.method !== 0 && entry.method !== 8) {
      result.rejected.push({
        path,
        reason: `${shown} uses compression method ${entry.method}, which is not supported (only stored and deflated entries are); it was not unpacked. Zip the folder again with standard settings.`,
      });
    } else if (entry.size > bounds.maxEntryBytes) {
      result.rejected.push({
        path,
        reason: `${shown} would unpack to ${formatBytes(entry.size)}, over the ${formatBytes(bounds.maxEntryBytes)} limit for one file; it was not unpacked.`,
      });
    } else if (entry.size > bounds.ratioFloorBytes && entry.size > bounds.maxRatio * Math.max(entry.compressedSize, 1)) {
      const ratio = Math.round(entry.size / Math.max(entry.compressedSize, 1)).toLocaleString('en-US');
      result.rejected.push({
        path,
        reason: `${shown} is compressed ${ratio}:1 (${formatBytes(entry.compressedSize)} unpacking to ${formatBytes(entry.size)}), more than the ${bounds.maxRatio.toLocaleString('en-US')}:1 allowed, so it looks like a zip bomb; it was not unpacked.`,
      });
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
    const inflated = inflateEntry(bytes, entry, `'${entry.name}' in '${zipName}'`);
    if (!inflated.ok) {
      result.rejected.push({ path: `${zipName}/${entry.name}`, reason: inflated.reason });
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
