import type { WorkerReply, WorkerRequest } from '../worker/protocol';

/** How the client talks to the worker; tests pass an in-process one. */
export interface Transport {
  post(request: WorkerRequest, transfer?: Transferable[]): void;
  /** Registers the single reply listener. */
  listen(onReply: (reply: WorkerReply) => void, onCrash: (message: string) => void): void;
}

/** The real transport: a module worker running the studio's engine. */
export function createWorkerTransport(): Transport {
  const worker = new Worker(new URL('../worker/studio.worker.ts', import.meta.url), { type: 'module', name: 'studio-trainer' });
  return {
    post: (request, transfer = []) => worker.postMessage(request, transfer),
    listen: (onReply, onCrash) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) => onReply(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        onCrash(event.message || 'The training worker stopped with an unknown error.');
      };
      worker.onmessageerror = () => onCrash('A message from the training worker could not be read.');
    },
  };
}
