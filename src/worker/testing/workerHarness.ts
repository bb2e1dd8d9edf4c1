/** A worker handler over the tiny test model, for tests: replies are collected in arrays. */
import { createTinyImages, createTinyModel } from '../../engine/testing/tinyModel';
import { createStudioWorker } from '../studioWorker';
import type { WorkerDeps } from '../workerContext';
import type { WireImageSet, WorkerReply, WorkerRequest } from '../protocol';

/** Handler dependencies over the tiny model (8×8×1, cut 'flatten'), backend cpu. */
export function tinyDeps(overrides: Partial<WorkerDeps> = {}): WorkerDeps {
  return {
    selectBackend: async () => ({ backend: 'cpu', notes: [] }),
    loadModel: async () => ({
      ok: true,
      loaded: {
        model: createTinyModel(),
        inputShape: { height: 8, width: 8, channels: 1 },
        preprocessing: { range: [0, 1], resize: 'stretch' },
        provenance: 'tiny test model',
        sourceHash: 'abc',
      },
    }),
    ...overrides,
  };
}

/** A handler on the tiny model whose replies land in `replies`. */
export function setup(overrides: Partial<WorkerDeps> = {}) {
  const replies: WorkerReply[] = [];
  const handle = createStudioWorker((reply) => replies.push(reply), tinyDeps(overrides));
  return { replies, handle };
}

/** A handler on the tiny model whose replies are kept with the buffers they transfer. */
export function setupWithTransfers() {
  const sent: { reply: WorkerReply; transfer?: Transferable[] }[] = [];
  const handle = createStudioWorker((reply, transfer) => sent.push({ reply, transfer }), tinyDeps({ batchFlushMs: 0 }));
  return { sent, handle };
}

/** `count` tiny 8×8×1 images of two classes, as they cross to the worker. */
export function wire(count: number, seed: number): WireImageSet {
  return createTinyImages(count, 2, seed);
}

/** A train request on the tiny model: conv1 and bn1 frozen, 32 training and 8 validation images, 2 epochs. */
export function trainRequest(runId: number, overrides: Partial<Extract<WorkerRequest, { type: 'train' }>> = {}): WorkerRequest {
  return {
    type: 'train',
    runId,
    plan: { conv1: true, bn1: true },
    cutLayer: 'flatten',
    head: { pooling: 'avg', hiddenUnits: 0, dropout: 0 },
    preprocessing: { range: [0, 1], resize: 'stretch' },
    classNames: ['a', 'b'],
    train: wire(32, 1),
    validation: wire(8, 2),
    config: { epochs: 2, batchSize: 4, learningRate: 0.01, seed: 1 },
    ...overrides,
  };
}

/** The freeze audit posted at the end of run `runId` (not a Verify's). */
export function auditOf(replies: WorkerReply[], runId: number) {
  const audit = replies.find((r) => r.type === 'audit' && r.runId === runId && r.requestId === null);
  if (audit?.type !== 'audit') throw new Error(`no audit for run ${runId}`);
  return audit.report;
}
