/**
 * The browser decoder. It uses only `createImageBitmap` and `OffscreenCanvas`,
 * so it runs in a window and in a worker (no `document`). Node has neither;
 * it is covered end-to-end, and `ingestFiles` takes it as an injected function.
 */
import type { ResizeMode } from '../core/types';
import { DataError } from './errors';
import { fitRects } from './fit';
import { imageByteLength, rgbaToChannels } from './pixels';
import type { ImageShape } from './types';

/**
 * Decodes an image blob and fits it to `shape` under `resize` (see `fitRects`; high-quality
 * smoothing), returning `[H·W·C]` uint8 HWC pixels; transparency and letterbox bars are black.
 * Rejects if the browser cannot decode the blob; throws `DataError` ('no-canvas') where
 * OffscreenCanvas is missing.
 */
export async function decodeToPixels(blob: Blob, shape: ImageShape, resize: ResizeMode = 'stretch'): Promise<Uint8Array> {
  imageByteLength(shape);
  if (typeof OffscreenCanvas === 'undefined' || typeof createImageBitmap === 'undefined') {
    throw new DataError(
      'no-canvas',
      'This browser lacks OffscreenCanvas or createImageBitmap, which decoding images needs. Use a current Chrome, Edge, Firefox or Safari.',
    );
  }
  const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  try {
    const canvas = new OffscreenCanvas(shape.width, shape.height);
    const context = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D | null;
    if (!context) throw new DataError('no-canvas', 'Could not get a 2D context from OffscreenCanvas.');
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'high';
    const r = fitRects(bitmap.width, bitmap.height, shape.width, shape.height, resize);
    context.drawImage(bitmap, r.sx, r.sy, r.sw, r.sh, r.dx, r.dy, r.dw, r.dh);
    const { data } = context.getImageData(0, 0, shape.width, shape.height);
    return rgbaToChannels(data, shape.channels);
  } finally {
    bitmap.close();
  }
}

/** A request to the decode worker: decode `blob` to `shape` under `resize` (types only; see decode.worker.ts). */
export type DecodeRequest = { id: number; blob: Blob; shape: ImageShape; resize: ResizeMode };

/**
 * The decode worker's answer to request `id`: the pixels (their buffer transferred), or why it failed.
 * `code` is a `DataError` code when the decoder itself cannot run (e.g. 'no-canvas'), else absent.
 */
export type DecodeReply = { id: number; ok: true; pixels: Uint8Array } | { id: number; ok: false; message: string; code?: string };
