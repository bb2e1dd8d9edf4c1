/**
 * Adding the user's files to the dataset, and re-deriving their pixels when the model's input
 * changes. Decoding runs in the decode pool's workers; `ingestFiles` (src/data/ingest.ts) keeps
 * the logic of what is taken and why a file is rejected. Progress goes to the store's `ingest`.
 */
import type { DroppedFile } from '../data/dropWalk';
import { resizePixels } from '../data/fit';
import { ingestFiles } from '../data/ingest';
import { expandZips } from '../data/zip';
import type { DatasetNotice, ImageShape } from '../data/types';
import { decodeTargetOf, useStudio, type DecodeTarget, type IngestStatus } from '../store/store';
import { createDecodePool, type DecodePool } from './decodePool';

/** The store is told of progress at most this often (ms), so 10,000 files do not mean 10,000 renders. */
const PROGRESS_INTERVAL_MS = 100;
/** Images re-derived at once (the pool bounds how many decode in its workers). */
const REDERIVE_CONCURRENCY = 4;

/**
 * The running job (adding files or re-deriving): a handle, not state — its progress is the store's `ingest`,
 * and what the pixels were decoded for is the store's `decodedFor`. Cancel stops it through this.
 */
let running: { kind: IngestStatus['kind']; controller: AbortController; pool: DecodePool; key: string; byUser: boolean } | null = null;

/** What the current model wants: its input shape (1 or 3 channels) and resize mode; null while no model is loaded. */
export function decodeTarget(): DecodeTarget | null {
  const state = useStudio.getState();
  if (!state.model) return null;
  const shape: ImageShape = { ...state.model.inputShape, channels: state.model.inputShape.channels === 3 ? 3 : 1 };
  return decodeTargetOf(shape, state.preprocessing?.resize ?? 'stretch');
}

/** Stops adding files or re-deriving: pending decodes are dropped, what was decoded is kept (see `addFiles`). */
export function cancelIngest(): void {
  if (running) running.byUser = true;
  stopRunning();
}

function stopRunning(): void {
  if (!running) return;
  running.controller.abort(new DOMException('Adding images was cancelled.', 'AbortError'));
  running.pool.cancel();
}

/** Reports progress of `kind` to the store, throttled; silent once `signal` is aborted (files still in flight report late). */
function progressReporter(kind: IngestStatus['kind'], total: number, signal: AbortSignal) {
  const startedAt = Date.now();
  let last = 0;
  useStudio.getState().setIngestProgress({ kind, done: 0, total, startedAt });
  return (done: number, of: number) => {
    if (signal.aborted) return;
    const now = Date.now();
    if (done < of && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    useStudio.getState().setIngestProgress({ kind, done, total: of, startedAt });
  };
}

/** Closes a job's pool; if it is still the running one, clears the progress and re-derives in case the model changed meanwhile. */
function endJob(job: NonNullable<typeof running>): void {
  job.pool.close();
  if (running !== job) return;
  running = null;
  useStudio.getState().setIngestProgress(null);
  rederiveIfNeeded();
}

/**
 * Decodes dropped or picked files at the model's input size (in the decode workers) and adds them
 * to the dataset; a dropped .zip is unpacked first (its bad entries named), and a file with the same
 * bytes as an image already in the dataset is named as a duplicate. The first user folder replaces
 * the built-in sample. Cancel (`cancelIngest`) keeps the images decoded so far and says how many.
 */
export async function addFiles(dropped: DroppedFile[], emptyFolders: string[] = []): Promise<void> {
  const target = decodeTarget();
  if (!target) {
    // Images are decoded at the model's input size, so they cannot be taken before it is known.
    useStudio.getState().reportRejected([], [{ level: 'error', message: 'The model is still loading; add the folder again in a moment.' }]);
    return;
  }
  if (running) stopRunning(); // a re-derivation in flight restarts after this drop
  const { shape, resize, key } = target;
  const rootName = dropped[0]?.path.split('/')[0] ?? emptyFolders[0]?.split('/')[0] ?? 'files';
  const controller = new AbortController();
  const pool = createDecodePool();
  const job = { kind: 'add' as const, controller, pool, key, byUser: false };
  running = job;
  const report = progressReporter('add', dropped.length, controller.signal);
  try {
    const zips = await expandZips(dropped);
    const before = useStudio.getState();
    const knownHashes = new Map<string, string>();
    if (before.datasetSource === 'user') for (const image of before.images) if (image.hash) knownHashes.set(image.hash, image.path);
    // One pass: sniffing, hashing, duplicates and decoding all happen in ingestFiles; a Cancel returns what was done.
    const result = await ingestFiles(zips.files, shape, pool.decoder(resize), { onProgress: report, signal: controller.signal, knownHashes });
    // Class-level checks run over the whole dataset (see datasetNotices): result.classNotices are not shown for one drop.
    const notices: DatasetNotice[] = [...zips.notices, ...result.notices];
    const rejected = [...zips.rejected, ...result.rejected];
    if (result.cancelled) {
      const { done, total } = result.cancelled;
      const n = result.images.length;
      notices.push({
        level: 'warning',
        message: `Cancelled after ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} files; the ${n.toLocaleString('en-US')} ${n === 1 ? 'image' : 'images'} decoded so far ${n === 1 ? 'was' : 'were'} added. Add the folder again for the rest.`,
      });
    } else {
      for (const folder of emptyFolders) notices.push({ level: 'warning', message: `Folder '${folder}' is empty; no images were taken from it.` });
      if (result.images.length === 0 && notices.length === 0 && rejected.length > 0) {
        notices.push({ level: 'error', message: `No usable images in '${rootName}': every file was rejected (see Rejected files).` });
      }
    }
    const state = useStudio.getState();
    if (result.images.length > 0 || state.datasetSource === 'user') {
      if (state.datasetSource !== 'user' || state.images.length === 0) state.setDecodedFor(target);
      state.addUserImages(rootName, result.images, rejected, notices);
    } else {
      // Nothing usable: keep the current dataset, but say what was wrong.
      state.reportRejected(rejected, notices);
    }
  } finally {
    endJob(job);
  }
}

/**
 * Re-derives every user image for the current model (input size, channels, resize mode) from
 * its kept original file, when they were decoded for another one. Ids, classes and paths stay.
 * Images without an original (the built-in sample once the user edits it) are resized from their
 * pixels; any other image that cannot be re-derived is dropped with a notice. Called on model and
 * resize-mode changes, and after each ingest.
 */
export function rederiveIfNeeded(): void {
  const state = useStudio.getState();
  const target = decodeTarget();
  if (!target || state.datasetSource !== 'user') return;
  if (state.images.length === 0 && !running) {
    state.setDecodedFor(target); // nothing to re-derive: what comes next is decoded for this model
    return;
  }
  if (running) {
    // Files being added restart this when they are done; a re-derivation for another target is stale.
    if (running.kind === 'rederive' && running.key !== target.key) stopRunning();
    return;
  }
  if (target.key === state.decodedFor?.key) return;
  void rederive(target);
}

async function rederive(target: DecodeTarget): Promise<void> {
  const { shape, resize, key } = target;
  const from = useStudio.getState().decodedFor;
  const images = useStudio.getState().images;
  const controller = new AbortController();
  const pool = createDecodePool();
  const job = { kind: 'rederive' as const, controller, pool, key, byUser: false };
  running = job;
  const pixels = new Map<number, Uint8Array>();
  const failed: string[] = [];
  let noSource = 0;
  let next = 0;
  let done = 0;
  const report = progressReporter('rederive', images.length, controller.signal);
  const work = async () => {
    while (next < images.length && !controller.signal.aborted) {
      const image = images[next++];
      if (!image.source) {
        // No file kept (the built-in sample the user made theirs): resize the pixels it has.
        if (from && image.pixels.length === from.shape.height * from.shape.width * from.shape.channels) {
          pixels.set(image.id, resizePixels(image.pixels, from.shape, shape, resize));
        } else noSource++;
      } else {
        try {
          pixels.set(image.id, await pool.decode(image.source, shape, resize));
        } catch {
          if (controller.signal.aborted) return;
          failed.push(image.path);
        }
      }
      done++;
      report(done, images.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(REDERIVE_CONCURRENCY, images.length) }, work));
    const state = useStudio.getState();
    const size = `${shape.height}×${shape.width}×${shape.channels}`;
    if (controller.signal.aborted) {
      if (job.byUser) {
        state.reportRejected(
          [],
          [
            {
              level: 'warning',
              message: `Re-deriving the images for this model (${size}) was cancelled after ${done.toLocaleString('en-US')} of ${images.length.toLocaleString('en-US')}; they keep the previous model's size. Pick the model again to re-derive them, or add the folder again.`,
            },
          ],
        );
      }
      return;
    }
    // Images added while this ran (none: adding cancels it) or removed since are handled by replacePixels.
    const notices: DatasetNotice[] = [...state.notices];
    if (noSource > 0) {
      notices.push({
        level: 'warning',
        message: `${noSource.toLocaleString('en-US')} ${noSource === 1 ? 'image was' : 'images were'} removed: the original file was not kept, so it could not be re-decoded at ${size}. Add its folder again.`,
      });
    }
    if (failed.length > 0) {
      const shown = failed
        .slice(0, 5)
        .map((p) => `'${p}'`)
        .join(', ');
      notices.push({
        level: 'warning',
        message: `${failed.length.toLocaleString('en-US')} ${failed.length === 1 ? 'image' : 'images'} could not be re-decoded at ${size} and ${failed.length === 1 ? 'was' : 'were'} removed (the file may have been moved or deleted since it was added): ${shown}${failed.length > 5 ? ', …' : ''}. Add the folder again.`,
      });
    }
    state.setDecodedFor(target);
    state.replacePixels(pixels, notices);
  } finally {
    endJob(job);
  }
}
