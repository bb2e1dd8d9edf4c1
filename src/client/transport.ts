import type { WorkerReply, WorkerRequest } from '../worker/protocol';

/** How the client talks to the worker; tests pass an in-process one. */
export interface Transport {
  post(request: WorkerRequest, transfer?: Transferable[]): void;
  /** Registers the single reply listener (it stays registered across restarts). */
  listen(onReply: (reply: WorkerReply) => void, onCrash: (message: string) => void): void;
  /** Ends the current worker, whatever state it is in, and starts a fresh one that reports to the same listeners. */
  restart(): void;
}

/** The real transport: a module worker running the studio's engine; restart() terminates it and starts another. */
export function createWorkerTransport(): Transport {
  let onReply: (reply: WorkerReply) => void = () => {};
  let onCrash: (message: string) => void = () => {};
  const start = (): Worker => {
    const started = new Worker(new URL('../worker/studio.worker.ts', import.meta.url), { type: 'module', name: 'studio-trainer' });
    // A late message of a terminated worker must not reach the client: only the current worker's are passed on.
    started.onmessage = (event: MessageEvent<WorkerReply>) => {
      if (started === worker) onReply(event.data);
    };
    started.onerror = (event) => {
      event.preventDefault();
      if (started === worker) onCrash(event.message || 'the worker stopped without saying why');
    };
    started.onmessageerror = () => {
      if (started === worker) onCrash('a message from it could not be read');
    };
    return started;
  };
  let worker = start();
  return {
    post: (request, transfer = []) => worker.postMessage(request, transfer),
    listen: (reply, crash) => {
      onReply = reply;
      onCrash = crash;
    },
    restart: () => {
      worker.terminate();
      worker = start();
    },
  };
}
