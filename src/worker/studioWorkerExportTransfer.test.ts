import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KerasLayerJson } from '../core/exportModelFiles';
import type { SetWeightsModel, WorkerReply } from './protocol';
import { setup, trainRequest } from './testing/workerHarness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const model: SetWeightsModel = {
  cutLayer: 'flatten',
  classNames: ['a', 'b'],
  head: { pooling: 'avg', hiddenUnits: 0, dropout: 0 },
  plan: { conv1: true, bn1: true },
  batchNormOverrides: {},
  preprocessing: { range: [0, 1], resize: 'stretch' },
  config: { epochs: 1, batchSize: 4, learningRate: 0.01, seed: 1 },
};

type Exported = Extract<WorkerReply, { type: 'transferExported' }>;

async function exportTransfer(handle: ReturnType<typeof setup>['handle'], replies: WorkerReply[], requestId: number, request = model) {
  await handle({ type: 'exportTransfer', requestId, model: request });
  return replies.find((r) => 'requestId' in r && r.requestId === requestId)!;
}

const flags = (reply: Exported) =>
  Object.fromEntries((reply.artifacts.modelTopology.config.layers as KerasLayerJson[]).map((layer) => [layer.name, layer.config.trainable]));

describe("the worker's exportTransfer", () => {
  it('serialises the transfer model before any run, then the trained one after a run, flags as the plan says', async () => {
    const { handle, replies } = setup();
    expect((await exportTransfer(handle, replies, 1)).type).toBe('requestFailed');
    await handle({ type: 'loadModel', requestId: 2, source: { kind: 'url', url: 'tiny' } });
    const before = (await exportTransfer(handle, replies, 3)) as Exported;
    expect(before.type).toBe('transferExported');
    expect(before.weightsFrom).toBe('pretrained');
    expect(flags(before)).toMatchObject({ conv1: false, bn1: false, conv2: true, head_dense: true });
    expect(before.artifacts.weightSpecs.map((s) => s.name)).toContain('head_dense/kernel');

    await handle(trainRequest(4));
    const after = (await exportTransfer(handle, replies, 5, { ...model, plan: { conv1: true, bn1: true, conv2: true } })) as Exported;
    expect(after.weightsFrom).toBe('trained');
    expect(flags(after)).toMatchObject({ conv1: false, conv2: false, bn2: true });
    expect(after.artifacts.identicalToSource).toMatchObject({ conv1: true, bn1: true, conv2: false });
  });

  it('reads the source weights as loaded, by original name, also after a run trained them', async () => {
    const { handle, replies } = setup();
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'tiny' } });
    await handle({ type: 'readSourceWeights', requestId: 2 });
    await handle(trainRequest(3, { plan: {} }));
    await handle({ type: 'readSourceWeights', requestId: 4 });
    const [before, after] = [2, 4].map(
      (id) => replies.find((r) => r.type === 'sourceWeights' && r.requestId === id) as Extract<WorkerReply, { type: 'sourceWeights' }>,
    );
    expect(before.sourceHash).toBe('abc');
    expect(before.weights.weightSpecs.map((s) => s.name)).toEqual(expect.arrayContaining(['conv1/kernel', 'bn1/moving_mean', 'classifier/kernel']));
    expect(new Uint8Array(after.weights.weightData)).toEqual(new Uint8Array(before.weights.weightData));
    const trained = (await exportTransfer(handle, replies, 5, { ...model, plan: {} })) as Exported;
    expect(trained.artifacts.identicalToSource?.conv1).toBe(false);
  });

  it('refuses a cut the model does not offer, naming it', async () => {
    const { handle, replies } = setup();
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'tiny' } });
    const reply = await exportTransfer(handle, replies, 2, { ...model, cutLayer: 'nope' });
    expect(reply.type === 'requestFailed' && reply.error.message).toMatch(/cut layer 'nope'/);
  });
});
