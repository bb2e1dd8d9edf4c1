/// <reference lib="webworker" />
import { selectBackend } from '../engine/backend';
import { loadLayersModelFromFileSet, loadLayersModelFromUrl } from '../engine/modelFiles';
import { createHandler } from './handler';
import type { WorkerRequest } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;

const handle = createHandler((reply, transfer) => scope.postMessage(reply, transfer ?? []), {
  selectBackend,
  loadModel: (source) => (source.kind === 'url' ? loadLayersModelFromUrl(source.url) : loadLayersModelFromFileSet(source.files)),
});

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  void handle(event.data);
};
