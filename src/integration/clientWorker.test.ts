/**
 * The real client against the real worker side in one process, over a MessageChannel: every message is
 * structured-cloned and its buffers transferred as between the page and the worker.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStudioClient } from '../client/studioClient';
import type { Transport } from '../client/transport';
import { createTinyImages } from '../engine/testing/tinyModel';
import { createStudioStore } from '../store/store';
import type { WorkerReply, WorkerRequest } from '../worker/protocol';
import { createStudioWorker } from '../worker/studioWorker';
import { tinyDeps } from '../worker/testing/workerHarness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let channel: MessageChannel | null = null;
afterEach(() => {
  channel?.port1.close();
  channel?.port2.close();
  channel = null;
});

/** Client and worker on the two ends of one MessageChannel; the worker opens the tiny 8×8×1 model. */
function studioOverChannel() {
  channel = new MessageChannel();
  const { port1: workerEnd, port2: pageEnd } = channel;
  const onRequest = createStudioWorker((reply, transfer) => workerEnd.postMessage(reply, transfer ?? []), tinyDeps({ batchFlushMs: 0 }));
  workerEnd.onmessage = (event: MessageEvent<WorkerRequest>) => void onRequest(event.data);
  const posted: WorkerRequest[] = [];
  const transport: Transport = {
    post: (request, transfer = []) => {
      posted.push(request);
      pageEnd.postMessage(request, transfer);
    },
    listen: (onReply) => {
      pageEnd.onmessage = (event: MessageEvent<WorkerReply>) => onReply(event.data);
    },
    restart: () => {},
  };
  const store = createStudioStore();
  return { store, client: createStudioClient(transport, store), posted };
}

/** Resolves when the store's run has ended or failed. */
function runSettled(store: ReturnType<typeof createStudioStore>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => ['done', 'failed'].includes(store.getState().runStatus);
    if (done()) return resolve();
    const unsubscribe = store.subscribe(() => {
      if (!done()) return;
      unsubscribe();
      resolve();
    });
  });
}

describe('client and worker over a MessageChannel', () => {
  it('loads, trains with transferred buffers, streams the run into the store, evaluates and exports', async () => {
    const { store, client, posted } = studioOverChannel();
    await client.init('auto');
    expect(store.getState().backend).toBe('cpu');
    await client.loadModel({ kind: 'url', url: 'tiny/model.json' }, { kind: 'url', url: 'tiny/model.json' });
    expect(store.getState().model?.layers.map((l) => l.name)).toContain('conv2');
    const tiny = createTinyImages(40, 2, 3);
    store.getState().loadSample(
      'tiny',
      Array.from({ length: 40 }, (_, i) => ({
        path: `${tiny.labels[i]}/${i}.png`,
        className: `c${tiny.labels[i]}`,
        pixels: tiny.pixels.slice(i * 64, (i + 1) * 64),
      })),
    );
    store.getState().setAutoEpochs(false);
    store.getState().setConfig({ epochs: 2, batchSize: 8, learningRate: 0.01 });
    expect(client.train()).toBe(1);
    // The pixels were transferred, not copied: the page's copy of the buffer is detached.
    const sent = posted.find((r) => r.type === 'train');
    if (sent?.type !== 'train') throw new Error('no train request');
    expect(sent.train.pixels.byteLength).toBe(0);
    await runSettled(store);
    const state = store.getState();
    expect(state.runError).toBeNull();
    expect(state.runStatus).toBe('done');
    expect(state.epochs).toHaveLength(2);
    expect(state.batchPoints.length).toBe(state.runOutcome!.batches);
    expect(state.audit?.failed).toEqual([]);
    // The evaluation arrived before the end, for this run: its validation accuracy is the run's.
    const evaluation = state.evaluation!;
    expect(evaluation.status).toBe('done');
    const probabilities = evaluation.validation!.probabilities!;
    let correct = 0;
    evaluation.validation!.labels.forEach((label, i) => {
      if ((probabilities[i * 2 + 1] > probabilities[i * 2] ? 1 : 0) === label) correct++;
    });
    expect(correct / evaluation.validation!.labels.length).toBeCloseTo(state.runOutcome!.validationAccuracy!, 6);
    const artifacts = await client.exportModel();
    expect(artifacts.weightData.byteLength).toBeGreaterThan(0);
    expect(artifacts.identicalToSource).toEqual({ conv1: false, bn1: false, conv2: false, bn2: false });
  });
});
