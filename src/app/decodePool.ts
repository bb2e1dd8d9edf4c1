/**
 * The main thread's owner of the decode workers (src/data/decode.worker.ts). It hands
 * `ingestFiles` a `decode` function with the usual signature, so the ingest logic stays in
 * one place while createImageBitmap and the canvas work run off the main thread.
 * Requests carry ids; pixel buffers come back transferred. A worker that crashes fails only
 * the requests it held (they become "could not be decoded" files) and is replaced.
 */
import type { DecodeReply, DecodeRequest } from '../data/decode';
import { DataError, type DataErrorCode } from '../data/errors';
import type { DecodeImage } from '../data/ingest';
import type { ImageShape } from '../data/types';
import type { ResizeMode } from '../core/types';
import { assertNever } from '../core/assertNever';

/** The part of `Worker` the pool uses; tests pass a fake. */
export interface DecodeWorkerLike {
  postMessage(message: DecodeRequest): void;
  onmessage: ((event: { data: DecodeReply }) => void) | null;
  onerror: ((event: { message?: string; preventDefault?(): void }) => void) | null;
  terminate(): void;
}

/** Options of `createDecodePool`. */
export interface DecodePoolOptions {
  /** How many workers (default: 2 where the machine has 4 or more cores, else 1). */
  size?: number;
  /** Requests one worker holds at once (default 2): enough to overlap decoding and messaging, few enough to bound the full-size bitmaps alive. */
  perWorker?: number;
  /**
   * A worker that has not answered a request for this long (ms; default 60 s) is taken for dead (a worker
   * killed for memory fires no error event): it is stopped, its requests fail, and a fresh one takes the queue.
   */
  timeoutMs?: number;
  /** Makes a worker (default: the real module worker). */
  createWorker?: () => DecodeWorkerLike;
}

/** A set of decode workers with a queue. */
export interface DecodePool {
  /** Decodes `blob` to `[H·W·C]` uint8 pixels of `shape` in a worker; rejects for a corrupt image, or with an AbortError once cancelled. */
  decode(blob: Blob, shape: ImageShape, resize: ResizeMode): Promise<Uint8Array>;
  /** The same as an `ingestFiles` decoder for one resize mode. */
  decoder(resize: ResizeMode): DecodeImage;
  /** Rejects every queued and running request with an AbortError, stops the workers; later calls reject too. */
  cancel(): void;
  /** Stops the workers once the work is done (same as cancel, for a pool that has nothing pending). */
  close(): void;
  /** How many workers the pool runs. */
  readonly size: number;
}

/** The pool size for a machine with `cores` logical cores: one worker on small machines, two otherwise (the main thread and the trainer need the rest). */
export function poolSizeFor(cores: number | undefined): number {
  return cores !== undefined && cores >= 4 ? 2 : 1;
}

function realWorker(): DecodeWorkerLike {
  return new Worker(new URL('../data/decode.worker.ts', import.meta.url), { type: 'module', name: 'studio-decoder' }) as unknown as DecodeWorkerLike;
}

function abortError(): DOMException {
  return new DOMException('Adding images was cancelled.', 'AbortError');
}

type Job = {
  id: number;
  blob: Blob;
  shape: ImageShape;
  resize: ResizeMode;
  resolve(pixels: Uint8Array): void;
  reject(error: Error): void;
  timer?: ReturnType<typeof setTimeout>;
};
type Slot = { worker: DecodeWorkerLike; running: Map<number, Job> };

/** Creates a pool of decode workers; the workers start on the first request. */
export function createDecodePool(options: DecodePoolOptions = {}): DecodePool {
  const size = Math.max(1, Math.floor(options.size ?? poolSizeFor(typeof navigator === 'undefined' ? undefined : navigator.hardwareConcurrency)));
  const perWorker = Math.max(1, Math.floor(options.perWorker ?? 2));
  const create = options.createWorker ?? realWorker;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const slots: (Slot | null)[] = Array.from({ length: size }, () => null);
  const queue: Job[] = [];
  let nextId = 1;
  let stopped = false;

  function onReply(slot: Slot, reply: DecodeReply): void {
    const job = slot.running.get(reply.id);
    if (!job) return; // answered after a crash or a cancel: nobody waits for it
    slot.running.delete(reply.id);
    clearTimeout(job.timer);
    if (reply.ok === true) {
      job.resolve(reply.pixels);
    } else if (reply.ok === false) {
      // A decoder that cannot run at all is the program's fault, not the file's: ingestFiles lets DataError through.
      job.reject(reply.code ? new DataError(reply.code as DataErrorCode, reply.message) : new Error(reply.message));
    } else {
      assertNever(reply);
    }
    pump();
  }

  function onCrash(index: number, slot: Slot, message: string): void {
    // Only the files this worker held fail; a fresh worker takes the rest of the queue.
    slot.worker.terminate();
    if (slots[index] === slot) slots[index] = null;
    for (const job of slot.running.values()) {
      clearTimeout(job.timer);
      job.reject(new Error(`The decode worker stopped: ${message}`));
    }
    slot.running.clear();
    pump();
  }

  function start(index: number): Slot {
    const worker = create();
    const slot: Slot = { worker, running: new Map() };
    worker.onmessage = (event) => onReply(slot, event.data);
    worker.onerror = (event) => {
      event.preventDefault?.();
      onCrash(index, slot, event.message || 'unknown error');
    };
    slots[index] = slot;
    return slot;
  }

  function pump(): void {
    if (stopped) return;
    for (let i = 0; i < size && queue.length > 0; i++) {
      const slot = slots[i] ?? start(i);
      while (slot.running.size < perWorker && queue.length > 0) {
        const job = queue.shift()!;
        slot.running.set(job.id, job);
        job.timer = setTimeout(() => onCrash(i, slot, `no answer within ${timeoutMs / 1000} s`), timeoutMs);
        try {
          slot.worker.postMessage({ id: job.id, blob: job.blob, shape: job.shape, resize: job.resize });
        } catch (error) {
          slot.running.delete(job.id);
          clearTimeout(job.timer);
          job.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
    }
  }

  function stop(): void {
    stopped = true;
    const error = abortError();
    for (const job of queue.splice(0)) job.reject(error);
    for (let i = 0; i < size; i++) {
      const slot = slots[i];
      if (!slot) continue;
      slot.worker.terminate();
      for (const job of slot.running.values()) {
        clearTimeout(job.timer);
        job.reject(error);
      }
      slot.running.clear();
      slots[i] = null;
    }
  }

  const decode = (blob: Blob, shape: ImageShape, resize: ResizeMode): Promise<Uint8Array> =>
    new Promise<Uint8Array>((resolve, reject) => {
      if (stopped) {
        reject(abortError());
        return;
      }
      queue.push({ id: nextId++, blob, shape, resize, resolve, reject });
      pump();
    });

  return {
    size,
    decode,
    decoder: (resize) => (_bytes, blob, shape) => decode(blob, shape, resize),
    cancel: stop,
    close: stop,
  };
}
