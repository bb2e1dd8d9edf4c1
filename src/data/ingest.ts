/**
 * From dropped files to labelled pixels. The decoder is injected so the whole
 * path runs in Node under Vitest with a fake one; in the browser it is
 * `decodeToPixels`. One bad file never stops the others: it becomes a reason.
 */
import { DataError } from './errors';
import { checkClasses, planFolderImport } from './folderLayout';
import { imageByteLength } from './pixels';
import { checkImageBytes } from './sniff';
import type { DatasetNotice, ImageShape, LabeledImage, RejectedFile } from './types';

/** Decodes one file's bytes (or its blob) to `[H·W·C]` uint8 HWC pixels of `shape`; rejects for a corrupt image. */
export type DecodeImage = (bytes: Uint8Array, blob: Blob, shape: ImageShape) => Promise<Uint8Array>;

/** Called after each planned file is handled: `done` of `total` files (also once with `done = 0` at the start). */
export type IngestProgress = (done: number, total: number) => void;

/**
 * Everything learnt from one drop: decoded images in input order, rejected files with reasons,
 * dataset notices (an 'error' blocks training), silently ignored system files, and the
 * class names in code-point order.
 */
export type IngestResult = {
  images: LabeledImage[];
  rejected: RejectedFile[];
  notices: DatasetNotice[];
  ignored: string[];
  classNames: string[];
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

type Outcome = { ok: true; image: LabeledImage } | { ok: false; rejected: RejectedFile };

async function ingestOne(path: string, className: string, blob: Blob, shape: ImageShape, decode: DecodeImage): Promise<Outcome> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await blob.arrayBuffer());
  } catch {
    return { ok: false, rejected: { path, reason: readFailureReason(path) } };
  }
  const check = checkImageBytes(path, bytes);
  if (!check.ok) return { ok: false, rejected: { path, reason: check.reason } };
  let pixels: Uint8Array;
  try {
    pixels = await decode(bytes, blob, shape);
  } catch (error) {
    // A decoder that cannot run at all is the program's fault, not the file's.
    if (error instanceof DataError) throw error;
    return { ok: false, rejected: { path, reason: decodeFailureReason(path) } };
  }
  const expected = imageByteLength(shape);
  if (!(pixels instanceof Uint8Array) || pixels.length !== expected) {
    throw new DataError('decoder-output', `The decoder returned ${pixels?.length} values for '${path}'; shape ${shape.height}×${shape.width}×${shape.channels} needs ${expected}.`);
  }
  return { ok: true, image: { path, className, pixels } };
}

/**
 * Plans the folder layout, reads and sniffs each file, decodes the images with `decode`, and checks
 * the classes. Bad files become `rejected` entries naming them; a decoder rejection becomes
 * "could not be decoded". Rejects with `signal.reason` when aborted, and with `DataError` for
 * programmer errors (bad `shape`, decoder output of the wrong length).
 */
export async function ingestFiles(
  files: readonly { path: string; blob: Blob }[],
  shape: ImageShape,
  decode: DecodeImage,
  onProgress?: IngestProgress,
  signal?: AbortSignal,
): Promise<IngestResult> {
  imageByteLength(shape);
  signal?.throwIfAborted();
  const plan = planFolderImport(files);
  const total = plan.entries.length;
  const outcomes: Outcome[] = new Array(total);
  let next = 0;
  let done = 0;
  onProgress?.(0, total);

  let failed = false;
  const worker = async () => {
    try {
      while (next < total && !failed) {
        signal?.throwIfAborted();
        const slot = next++;
        const entry = plan.entries[slot];
        outcomes[slot] = await ingestOne(entry.path, entry.className, files[entry.index].blob, shape, decode);
        done++;
        onProgress?.(done, total);
      }
    } catch (error) {
      failed = true; // stop the other workers too
      throw error;
    }
  };
  await Promise.all(Array.from({ length: Math.min(INGEST_CONCURRENCY, total) }, worker));
  signal?.throwIfAborted();

  const images: LabeledImage[] = [];
  const rejected: RejectedFile[] = [...plan.rejected];
  const counts = new Map<string, number>(plan.classNames.map((name) => [name, 0]));
  for (const outcome of outcomes) {
    if (outcome.ok) {
      images.push(outcome.image);
      counts.set(outcome.image.className, (counts.get(outcome.image.className) ?? 0) + 1);
    } else {
      rejected.push(outcome.rejected);
    }
  }
  // When the layout already explained why there are no classes, "No classes found" would only repeat it.
  const layoutExplained = counts.size === 0 && plan.notices.some((notice) => notice.level === 'error');
  const notices = layoutExplained ? plan.notices : [...plan.notices, ...checkClasses(counts)];
  return { images, rejected, notices, ignored: plan.ignored, classNames: plan.classNames };
}
