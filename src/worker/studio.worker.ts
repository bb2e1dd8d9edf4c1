/// <reference lib="webworker" />
import { selectBackend } from '../engine/backend';
import { openModel } from '../engine/modelSources';
import { createStudioWorker } from './studioWorker';
import type { WorkerRequest } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;

const handle = createStudioWorker((reply, transfer) => scope.postMessage(reply, transfer ?? []), {
  selectBackend,
  loadModel: openModel,
});

scope.onmessage = (event: MessageEvent<WorkerRequest>) => {
  void handle(event.data);
};
