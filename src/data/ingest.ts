/**
 * From dropped files to labelled pixels. The decoder is injected so the whole
 * path runs in Node under Vitest with a fake one; in the browser it is
 * `decodeToPixels`. One bad file never stops the others: it becomes a reason.
 * Only a file's head is read before it is known to be an image within the pixel
 * budget; the whole file is then read once, hashed and handed to the decoder.
 */
import { sha256Hex } from '../core/hash';
import { DataError } from './errors';
import { checkClasses, planFolderImport } from './folderLayout';
import { HEADER_READ_LENGTH, PIXEL_BUDGET, pixelBudgetReason, readImageSize } from './imageHeader';
import { imageByteLength } from './pixels';
import { checkImageBytes } from './sniff';
import type { DatasetNotice, ImageShape, LabeledImage, RejectedFile } from './types';

/** Decodes one file's bytes (or its blob) to `[H·W·C]` uint8 HWC pixels of `shape`; rejects for a corrupt image. */
export type DecodeImage = (bytes: Uint8Array, blob: Blob, shape: ImageShape) => Promise<Uint8Array>;

/** Called after each planned file is handled: `done` of `total` files (also once with `done = 0` at the start). */
export type IngestProgressCallback = (done: number, total: number) => void;

/**
 * Everything learnt from one drop: decoded images in input order, rejected files with reasons,
 * dataset notices (an 'error' blocks training), silently ignored system files, and the
 * class names in code-point order.
 */
export type IngestResult = {
  images: LabeledImage[];
  rejected: RejectedFile[];
  /** What the folder layout says (files beside the class folders, nested folders, no classes…). */
  notices: DatasetNotice[];
  /** Checks of the dropped classes alone (one class, tiny classes): the studio checks the whole dataset instead. */
  classNotices: DatasetNotice[];
  ignored: string[];
  classNames: string[];
  /** Set when `signal` aborted the ingest: files handled before it (`done` of `total`); the result holds those. */
  cancelled: { done: number; total: number } | null;
};

/** How many files are read and decoded at once; decoding is asynchronous in the browser, so a few overlap well. */
export const INGEST_CONCURRENCY = 4;

/** The reason given for a file that looked like an image but failed to decode. */
export function decodeFailureReason(path: string): string {
  return `'${path}' could not be decoded (truncated or corrupt image). It was skipped.`;
}

/** The reason given for a file whose bytes could not be read (moved, deleted or unreadable since it was chosen). */
export function readFailureReason(path: string): string {
  return `'${path}' could not be read (it may have been moved or deleted since it was chosen). It was skipped. Add the folder again.`;
}

/** Options of `ingestFiles`; every field is optional. */
export type IngestOptions = {
  /** Called after each planned file is handled. */
  onProgress?: IngestProgressCallback;
  /** Aborts the ingest: it rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Hex SHA-256 → path of images already in the dataset; a dropped file with one of these hashes is a duplicate. */
  knownHashes?: ReadonlyMap<string, string>;
  /** Images with more pixels than this (read from their header) are refused undecoded; default `PIXEL_BUDGET`. */
  pixelBudget?: number;
};

/** The reason given for a file whose bytes equal those of `keptPath`, which stays in the dataset. */
export function duplicateReason(path: string, keptPath: string): string {
  return `'${path}' has the same content as '${keptPath}', which was kept.`;
}

type Outcome =
  | { kind: 'image'; image: LabeledImage & { hash: string } }
  /** The ingest was cancelled while this file was in flight: it is not counted either way. */
  | { kind: 'cancelled' }
  | { kind: 'rejected'; rejected: RejectedFile }
  /** Same bytes as the lower-numbered file `of` (not decoded); settled once every file is done. */
  | { kind: 'duplicate'; path: string; hash: string; of: number };

/** Reads at most `length` leading bytes of `blob` (all of it when it is smaller). */
async function readPrefix(blob: Blob, length: number): Promise<Uint8Array<ArrayBuffer>> {
  const part = typeof blob.size === 'number' && blob.size > length ? blob.slice(0, length) : blob;
  return new Uint8Array(await part.arrayBuffer());
}

type IngestContext = {
  signal?: AbortSignal;
  shape: ImageShape;
  decode: DecodeImage;
  knownHashes?: ReadonlyMap<string, string>;
  pixelBudget: number;
  /** Hash → lowest file number seen with it so far. */
  firstByHash: Map<string, number>;
};

async function ingestOne(slot: number, path: string, className: string, blob: Blob, context: IngestContext): Promise<Outcome> {
  const reject = (reason: string): Outcome => ({ kind: 'rejected', rejected: { path, reason } });
  let bytes: Uint8Array<ArrayBuffer>;
  let whole: boolean;
  try {
    // Only the head is read first, so a non-image or an image over the budget is never read in full.
    bytes = await readPrefix(blob, HEADER_READ_LENGTH);
    whole = !(blob.size > bytes.length);
  } catch {
    return reject(readFailureReason(path));
  }
  const check = checkImageBytes(path, bytes);
  if (!check.ok) return reject(check.reason);
  try {
    let size = readImageSize(bytes, check.format);
    if (!size && !whole && check.format === 'jpeg') {
      // A JPEG's frame header can sit behind more than 64 KiB of metadata.
      bytes = new Uint8Array(await blob.arrayBuffer());
      whole = true;
      size = readImageSize(bytes, check.format);
    }
    // Without a readable size the decoder decides: it names a truncated or corrupt file itself.
    const overBudget = size && pixelBudgetReason(path, size, context.pixelBudget);
    if (overBudget) return reject(overBudget);
    if (!whole) bytes = new Uint8Array(await blob.arrayBuffer());
  } catch {
    return reject(readFailureReason(path));
  }

  const hash = await sha256Hex([bytes]);
  const known = context.knownHashes?.get(hash);
  if (known !== undefined) return reject(duplicateReason(path, known));
  const first = context.firstByHash.get(hash);
  if (first !== undefined && first < slot) return { kind: 'duplicate', path, hash, of: first };
  context.firstByHash.set(hash, slot);

  let pixels: Uint8Array;
  try {
    pixels = await context.decode(bytes, blob, context.shape);
  } catch (error) {
    // A decoder that cannot run at all is the program's fault, not the file's.
    if (error instanceof DataError) throw error;
    // A decode cut short by Cancel says nothing about the file.
    if (context.signal?.aborted) return { kind: 'cancelled' };
    return reject(decodeFailureReason(path));
  }
  const expected = imageByteLength(context.shape);
  if (!(pixels instanceof Uint8Array) || pixels.length !== expected) {
    const { height, width, channels } = context.shape;
    throw new DataError(
      'decoder-output',
      `The decoder returned ${pixels?.length} values for '${path}'; shape ${height}×${width}×${channels} needs ${expected}.`,
    );
  }
  return { kind: 'image', image: { path, className, pixels, source: blob, hash } };
}

/**
 * Plans the folder layout, reads each file's head to sniff it and read its size, refuses images over
 * the pixel budget undecoded, hashes the rest (SHA-256) and decodes them with `decode`, then checks the
 * classes. Each image keeps its `source` blob and `hash`. Bad files become `rejected` entries naming
 * them; of files with the same bytes the first in input order is kept and the others are named as
 * duplicates, as are files whose hash is in `knownHashes`. Accepts `(files, shape, decode, onProgress,
 * signal)` or `(files, shape, decode, options)`. When `signal` aborts, no further file is started and
 * the result holds what was handled before (`cancelled` says how many). Rejects with `DataError` for
 * programmer errors (bad `shape`, decoder output of the wrong length).
 */
export async function ingestFiles(
  files: readonly { path: string; blob: Blob }[],
  shape: ImageShape,
  decode: DecodeImage,
  progressOrOptions?: IngestProgressCallback | IngestOptions,
  signal?: AbortSignal,
): Promise<IngestResult> {
  const options: IngestOptions = typeof progressOrOptions === 'function' ? { onProgress: progressOrOptions, signal } : { signal, ...progressOrOptions };
  const { onProgress } = options;
  signal = options.signal;
  imageByteLength(shape);
  const plan = planFolderImport(files);
  const total = plan.entries.length;
  const outcomes: (Outcome | undefined)[] = new Array(total);
  const context: IngestContext = {
    signal,
    shape,
    decode,
    knownHashes: options.knownHashes,
    pixelBudget: options.pixelBudget ?? PIXEL_BUDGET,
    firstByHash: new Map(),
  };
  let next = 0;
  let done = 0;
  onProgress?.(0, total);

  let failed = false;
  const worker = async () => {
    try {
      while (next < total && !failed && !signal?.aborted) {
        const slot = next++;
        const entry = plan.entries[slot];
        outcomes[slot] = await ingestOne(slot, entry.path, entry.className, files[entry.index].blob, context);
        done++;
        onProgress?.(done, total);
      }
    } catch (error) {
      failed = true; // stop the other workers too
      throw error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(INGEST_CONCURRENCY, total) }, worker));

  const images: LabeledImage[] = [];
  const rejected: RejectedFile[] = [...plan.rejected];
  const counts = new Map<string, number>(plan.classNames.map((name) => [name, 0]));
  // Files run concurrently, so a later copy may have been decoded before the first one was hashed:
  // settle duplicates here, in input order, keeping the first copy that decoded.
  const keptByHash = new Map<string, string>();
  for (const outcome of outcomes) {
    if (outcome === undefined || outcome.kind === 'cancelled') continue; // not reached before Cancel
    if (outcome.kind === 'image') {
      const kept = keptByHash.get(outcome.image.hash);
      if (kept !== undefined) {
        rejected.push({ path: outcome.image.path, reason: duplicateReason(outcome.image.path, kept) });
        continue;
      }
      keptByHash.set(outcome.image.hash, outcome.image.path);
      images.push(outcome.image);
      counts.set(outcome.image.className, (counts.get(outcome.image.className) ?? 0) + 1);
    } else if (outcome.kind === 'duplicate') {
      const kept = keptByHash.get(outcome.hash);
      // The same bytes decode the same way: if the first copy failed, this one would have too.
      rejected.push({ path: outcome.path, reason: kept !== undefined ? duplicateReason(outcome.path, kept) : decodeFailureReason(outcome.path) });
    } else {
      rejected.push(outcome.rejected);
    }
  }
  // When the layout already explained why there are no classes, "No classes found" would only repeat it.
  const layoutExplained = counts.size === 0 && plan.notices.some((notice) => notice.level === 'error');
  const classNotices = layoutExplained ? [] : checkClasses(counts);
  const cancelled = signal?.aborted ? { done, total } : null;
  return { images, rejected, notices: plan.notices, classNotices, ignored: plan.ignored, classNames: plan.classNames, cancelled };
}
