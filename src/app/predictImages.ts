/**
 * Predict: files the user drops, pastes or picks are checked (sniffed, pixel budget), decoded in the
 * decode workers at the model's input size with the resize mode of the last run, and sent to the
 * training worker, which maps them to the run's value range and runs the trained model.
 */
import type { StudioClient } from '../client/studioClient';
import { readImageSize, pixelBudgetReason, HEADER_READ_LENGTH } from '../data/imageHeader';
import { decodeFailureReason, readFailureReason } from '../data/ingest';
import { packImages } from '../data/pixels';
import { checkImageBytes } from '../data/sniff';
import type { ImageShape, RejectedFile } from '../data/types';
import { probabilityRow, topK } from '../core/evaluation';
import type { StudioState } from '../store/store';
import { createDecodePool } from './decodePool';

/** How many classes each predicted image lists. */
export const PREDICT_TOP_K = 3;

/** One predicted image: its pixels as the model saw them and its most probable classes. */
export interface PredictedImage {
  name: string;
  pixels: Uint8Array;
  shape: ImageShape;
  /** The `PREDICT_TOP_K` most probable classes, most probable first. */
  top: { className: string; probability: number }[];
}

/** Why Predict cannot run now, or null: it needs a run that ended since the model was loaded. */
export function predictBlocker(state: Pick<StudioState, 'model' | 'runStatus' | 'runSettings'>): string | null {
  if (!state.model) return 'Load a model first.';
  if (state.runStatus === 'starting' || state.runStatus === 'running' || state.runStatus === 'stopping') return 'Predict is possible when the run has ended.';
  if (state.runStatus !== 'done' || !state.runSettings) return 'Train first: predictions use the model of the last finished run.';
  return null;
}

/** Reads, sniffs and size-checks one file, then decodes it; a string is the reason it was skipped, naming it. */
async function decodeOne(file: File, shape: ImageShape, decode: (blob: Blob) => Promise<Uint8Array>): Promise<Uint8Array | string> {
  let head: Uint8Array;
  try {
    head = new Uint8Array(await file.slice(0, HEADER_READ_LENGTH).arrayBuffer());
  } catch {
    return readFailureReason(file.name);
  }
  const check = checkImageBytes(file.name, head);
  if (!check.ok) return check.reason;
  const size = readImageSize(head, check.format);
  const overBudget = size && pixelBudgetReason(file.name, size);
  if (overBudget) return overBudget;
  try {
    const pixels = await decode(file);
    if (pixels.length !== shape.height * shape.width * shape.channels) return decodeFailureReason(file.name);
    return pixels;
  } catch {
    return decodeFailureReason(file.name);
  }
}

/**
 * Decodes `files` as the last run's images were (model input size, the run's resize mode), predicts
 * them in one request, and returns each good image with its top classes; each bad file is named with
 * its reason and the rest are still predicted. Rejects when no run has ended or the worker refuses.
 */
export async function predictFiles(
  files: readonly File[],
  client: StudioClient,
  state: StudioState,
): Promise<{ images: PredictedImage[]; rejected: RejectedFile[] }> {
  const blocker = predictBlocker(state);
  if (blocker) throw new Error(blocker);
  const { inputShape } = state.model!;
  const run = state.runSettings!;
  const shape: ImageShape = { ...inputShape, channels: inputShape.channels === 3 ? 3 : 1 };
  const pool = createDecodePool();
  let decoded: (Uint8Array | string)[];
  try {
    decoded = await Promise.all(files.map((file) => decodeOne(file, shape, (blob) => pool.decode(blob, shape, run.preprocessing.resize))));
  } finally {
    pool.close();
  }
  const rejected: RejectedFile[] = [];
  const good: { name: string; pixels: Uint8Array }[] = [];
  decoded.forEach((result, i) => {
    if (typeof result === 'string') rejected.push({ path: files[i].name, reason: result });
    else good.push({ name: files[i].name, pixels: result });
  });
  if (good.length === 0) return { images: [], rejected };
  const packed = packImages(
    good.map((g) => g.pixels),
    shape,
  );
  const { probabilities, numClasses } = await client.predict({ pixels: packed, labels: new Int32Array(good.length), shape });
  const images = good.map((g, row) => ({
    ...g,
    shape,
    top: topK(probabilityRow(probabilities, numClasses, row), PREDICT_TOP_K).map((c) => ({
      className: run.classNames[c.classIndex] ?? `class ${c.classIndex}`,
      probability: c.probability,
    })),
  }));
  return { images, rejected };
}
