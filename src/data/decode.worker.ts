/**
 * The decode worker: one request in, one reply out. It only runs `decodeToPixels`
 * (createImageBitmap + OffscreenCanvas), so full-size bitmaps never touch the main
 * thread; the pixels' buffer is transferred back, not copied. Owned by `src/app/decodePool.ts`.
 */
import { decodeToPixels, type DecodeReply, type DecodeRequest } from './decode';
import { DataError } from './errors';

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(message: DecodeReply, transfer: Transferable[]): void;
};

scope.onmessage = async (event) => {
  const { id, blob, shape, resize } = event.data;
  try {
    const pixels = await decodeToPixels(blob, shape, resize);
    scope.postMessage({ id, ok: true, pixels }, [pixels.buffer]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    scope.postMessage({ id, ok: false, message, code: error instanceof DataError ? error.code : undefined }, []);
  }
};
