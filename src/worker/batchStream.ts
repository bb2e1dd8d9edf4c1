import type { BatchPoint } from '../core/types';

/** Batch losses of a run, sent in messages at most every `flushMs` (a chart needs no more), plus at every flush. */
export interface BatchStream {
  push(point: BatchPoint): void;
  /** Sends what is waiting now (before an epoch, a change of the trainable set, the end). */
  flush(): void;
}

/** A stream that sends `points` through `send`. */
export function createBatchStream(send: (points: BatchPoint[]) => void, flushMs: number): BatchStream {
  let pending: BatchPoint[] = [];
  let lastFlush = 0;
  const flush = () => {
    if (pending.length === 0) return;
    send(pending);
    pending = [];
    lastFlush = performance.now();
  };
  return {
    push(point) {
      pending.push(point);
      if (performance.now() - lastFlush >= flushMs) flush();
    },
    flush,
  };
}
