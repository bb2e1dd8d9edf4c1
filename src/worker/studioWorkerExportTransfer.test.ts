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

  it('refuses a cut the model does not offer, naming it', async () => {
    const { handle, replies } = setup();
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'tiny' } });
    const reply = await exportTransfer(handle, replies, 2, { ...model, cutLayer: 'nope' });
    expect(reply.type === 'requestFailed' && reply.error.message).toMatch(/cut layer 'nope'/);
  });
});
