/**
 * Issue 11: the studio's defaults work on small data. A new user's first try,
 * end to end through the client and the worker's handler in one thread:
 * MobileNetV2 (the generated built-in, opened as picked files are), "Freeze all", two
 * visually distinct classes of 12 images, Train with every setting as the
 * store starts. Slow: the Node cpu backend runs MobileNetV2 at about 1.4 s
 * per image to build the feature cache (24 images ≈ 35 s).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeSmallDataImages } from '../engine/testing/smallData';
import { openModel } from '../engine/modelSources';
import { readMobileNetV2FilesFromDisk } from '../engine/testing/builtInFiles';
import { createStudioStore, type StudioStore } from '../store/store';
import { createStudioWorker } from '../worker/studioWorker';
import type { WorkerReply } from '../worker/protocol';
import { createStudioClient } from '../client/studioClient';
import type { Transport } from '../client/transport';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The client wired straight to the worker's message handler in this thread (no structured clone: transferred buffers stay readable). */
function inProcessStudio() {
  const store = createStudioStore();
  let deliver: (reply: WorkerReply) => void = () => {};
  const handle = createStudioWorker((reply) => deliver(reply), {
    selectBackend: async () => ({ backend: 'cpu', notes: [] }),
    loadModel: openModel, // as the real worker opens picked files
    batchFlushMs: 1000,
  });
  const transport: Transport = {
    post: (request) => void handle(request),
    listen: (onReply) => {
      deliver = onReply;
    },
    restart: () => {},
  };
  return { store, client: createStudioClient(transport, store) };
}

/** Resolves when the run in the store has ended or failed. */
function runSettled(store: StudioStore): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const { runStatus } = store.getState();
      if (runStatus === 'done' || runStatus === 'failed') {
        unsubscribe();
        resolve();
      }
    };
    const unsubscribe = store.subscribe(check);
    check();
  });
}

describe('small data with the default settings', () => {
  it('MobileNetV2 with everything but the head frozen reaches ≥ 90% validation accuracy on 2 classes × 12 images', async () => {
    const { store, client } = inProcessStudio();
    await client.init('cpu');
    // "Import model…" with model.json and weights.bin, then "Freeze all".
    const model = await client.loadModel({ kind: 'files', files: readMobileNetV2FilesFromDisk() }, { kind: 'files', fileName: 'model.json' });
    expect(model?.inputShape).toEqual({ height: 224, width: 224, channels: 3 });
    store.getState().setAllFrozen(true);
    const images = makeSmallDataImages(224, 12);
    store.getState().addUserImages('blobs-and-stripes', images, [], []);

    expect(client.train()).toBe(1);
    await runSettled(store);
    const state = store.getState();
    expect(state.runError).toBeNull();
    // 12 per class at the default 15% validation: 2 per class held out, 20 images to train on.
    expect(state.evaluation?.validation?.images).toHaveLength(4);
    expect(state.runSetup?.featureCache?.used).toBe(true);
    // What "Auto" made of the defaults (10 epochs of one batch of 20 would be ten Adam steps).
    expect(state.runSettings?.config).toMatchObject({ epochs: 100, batchSize: 5, earlyStopping: { patience: 10 }, learningRate: 0.001 });
    expect(state.runOutcome?.batches).toBeGreaterThan(40);
    // Ten Adam steps left the head at 50% (validation loss 0.66); trained to convergence it tells the classes apart.
    expect(state.runOutcome?.validationAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(state.runOutcome?.validationLoss).toBeLessThan(0.5);
  }, 300_000);
});
