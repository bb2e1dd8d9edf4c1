/**
 * The checked zip reader, shared by the dataset zip (zip.ts) and the project file (projectFile.ts). The
 * archive is hostile input: its central directory is read by hand so that every entry's declared size,
 * compression ratio and path are checked before a single byte is inflated, and entries are inflated by
 * fflate's streaming `Inflate` in small chunks so one that inflates past its declared size is stopped
 * there. Nothing here throws on bad bytes: problems are facts with a code, and each reader words its own
 * advice. ZIP64 archives (over 4 GiB or 65,535 entries) and encrypted entries are refused; names without
 * the UTF-8 flag are decoded as UTF-8 when valid (macOS writes them so), else as Windows-1252.
 */
import { Inflate } from 'fflate';
import { DataError } from './errors';
import { sniffFileType } from './sniff';
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

/** One entry of a zip's central directory, as it declares itself (nothing inflated yet). */
export type ZipEntry = {
  /** The name as stored, decoded. */
  name: string;
  /** The name's segments, backslashes read as '/', empty and '.' segments dropped. */
  segments: string[];
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  /** Declared uncompressed size in bytes. */
  size: number;
  localOffset: number;
};

/** Why a zip, or one of its entries, cannot be unpacked. */
export type ZipProblemCode =
  | 'empty'
  | 'not-a-zip'
  | 'corrupt'
  | 'zip64'
  | 'too-many-entries'
  | 'escaping-path'
  | 'encrypted'
  | 'unsupported-compression'
  | 'entry-too-large'
  | 'compression-ratio'
  | 'corrupt-entry'
  | 'inflates-past-size';

/**
 * A problem as a fact that quotes the zip or the entry, without advice: each reader adds its own (a
 * dataset zip says what was skipped, a project file what to do with it).
 */
export type ZipProblem = { code: ZipProblemCode; fact: string };

/**
 * The central directory of `bytes` (the file `zipName`), read by hand: the entries as they declare
 * themselves, or why the archive cannot be read at all (empty, not a zip, truncated or corrupt, ZIP64,
 * more than `limits.maxEntries` entries). Nothing is inflated.
 */
export function readZipDirectory(zipName: string, bytes: Uint8Array, limits: ZipLimits): { ok: true; entries: ZipEntry[] } | ({ ok: false } & ZipProblem) {
  const problem = (code: ZipProblemCode, fact: string) => ({ ok: false as const, code, fact });
  const corrupt = () => problem('corrupt', `'${zipName}' could not be opened: the zip archive is truncated or corrupt`);
  const sniff = sniffFileType(bytes);
  if (sniff.kind === 'empty') return problem('empty', `'${zipName}' is empty (0 bytes)`);
  const looksLikeZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b;
  let eocd = -1;
  for (let o = bytes.length - 22; o >= 0 && o >= bytes.length - 22 - 0xffff; o--) {
    if (u32(bytes, o) === EOCD_SIGNATURE) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) {
    if (looksLikeZip) return corrupt();
    const looksLike = sniff.kind === 'image' ? `a ${sniff.format.toUpperCase()} image` : sniff.kind === 'svg' ? 'an SVG drawing' : sniff.looksLike;
    return problem('not-a-zip', `'${zipName}' is not a zip archive (it starts like ${looksLike})`);
  }
  const count = u16(bytes, eocd + 10);
  const directoryOffset = u32(bytes, eocd + 16);
  if (count === 0xffff || directoryOffset === 0xffffffff || u32(bytes, eocd + 12) === 0xffffffff) {
    return problem('zip64', `'${zipName}' is a ZIP64 archive (made for over 4 GiB or 65,535 files), which is over the limits for one zip`);
  }
  if (count > limits.maxEntries) {
    return problem(
      'too-many-entries',
      `'${zipName}' holds ${count.toLocaleString('en-US')} entries, over the ${limits.maxEntries.toLocaleString('en-US')} allowed in one zip`,
    );
  }
  const entries: ZipEntry[] = [];
  let o = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (o + 46 > eocd || u32(bytes, o) !== CENTRAL_SIGNATURE) return corrupt();
    const nameLength = u16(bytes, o + 28);
    const next = o + 46 + nameLength + u16(bytes, o + 30) + u16(bytes, o + 32);
    if (next > eocd) return corrupt();
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

/**
 * What is wrong with one entry before it is inflated, checked in this order: a path that escapes the
 * archive, encryption, a compression other than stored or deflated, a declared size over
 * `limits.maxEntryBytes`, a ratio over `limits.maxRatio`; null when it may be inflated. `shown` quotes it.
 */
export function zipEntryProblem(entry: ZipEntry, shown: string, limits: ZipLimits): ZipProblem | null {
  if (escapesArchive(entry.name)) return { code: 'escaping-path', fact: `${shown} has a path that points outside the archive` };
  if (entry.flags & 1) return { code: 'encrypted', fact: `${shown} is encrypted` };
  if (entry.method !== 0 && entry.method !== 8) {
    return {
      code: 'unsupported-compression',
      fact: `${shown} uses compression method ${entry.method}, which is not supported (only stored and deflated entries are)`,
    };
  }
  if (entry.size > limits.maxEntryBytes) {
    return {
      code: 'entry-too-large',
      fact: `${shown} would unpack to ${formatBytes(entry.size)}, over the ${formatBytes(limits.maxEntryBytes)} limit for one file`,
    };
  }
  if (entry.size > limits.ratioFloorBytes && entry.size > limits.maxRatio * Math.max(entry.compressedSize, 1)) {
    const ratio = Math.round(entry.size / Math.max(entry.compressedSize, 1)).toLocaleString('en-US');
    return {
      code: 'compression-ratio',
      fact: `${shown} is compressed ${ratio}:1 (${formatBytes(entry.compressedSize)} unpacking to ${formatBytes(entry.size)}), more than the ${limits.maxRatio.toLocaleString('en-US')}:1 allowed, so it looks like a zip bomb`,
    };
  }
  return null;
}

/**
 * Inflates one entry that `zipEntryProblem` passed, in small chunks, stopping as soon as it produces more
 * than its declared size; the bytes must match the declared size and CRC-32. `shown` quotes it.
 */
export function inflateZipEntry(bytes: Uint8Array, entry: ZipEntry, shown: string): { ok: true; chunks: Uint8Array[] } | ({ ok: false } & ZipProblem) {
  const corrupt = { ok: false as const, code: 'corrupt-entry' as const, fact: `${shown} is corrupt (it could not be unpacked)` };
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
      code: 'inflates-past-size',
      fact: `${shown} unpacks to more than the ${formatBytes(entry.size)} it declares, so it looks like a zip bomb`,
    };
  }
  if (produced !== entry.size || (crc ^ -1) >>> 0 !== entry.crc) return corrupt;
  return { ok: true, chunks };
}

/** Throws a DataError for a limit that is not a number ≥ 0 (a programming error). */
export function checkLimits(limits: ZipLimits): void {
  for (const [key, value] of Object.entries(limits)) {
    if (!(typeof value === 'number' && value >= 0)) throw new DataError('bad-limit', `Zip limit ${key} must be a number ≥ 0, got ${value}.`);
  }
}
