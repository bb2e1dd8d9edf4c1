/**
 * Export PyTorch project end to end in one process: the real client and worker over a MessageChannel, the built-in
 * MobileNetV2 (the studio's biggest model: nested-free but 150+ layers, BatchNorm everywhere, quantised weights),
 * no run. Every layer is one the bundle's interpreter builds, the zip's model.json states the plan as flags, and
 * every pretrained weight is the model as loaded, by name and bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { strFromU8, unzipSync } from 'fflate';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { exportPytorchProject } from '../app/exportPytorch';
import { createStudioClient } from '../client/studioClient';
import type { Transport } from '../client/transport';
import { topologyTrainableFlags } from '../core/pytorchBundle';
import type { PytorchRecipe } from '../core/pytorchRecipe';
import { snapshotOfWeights } from '../core/pytorchRun';
import { loadMobileNetV2FromDisk } from '../engine/testing/builtInFiles';
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

function studioOverChannel() {
  channel = new MessageChannel();
  const { port1: workerEnd, port2: pageEnd } = channel;
  const deps = tinyDeps({ loadModel: async () => ({ ok: true, loaded: await loadMobileNetV2FromDisk() }) });
  const onRequest = createStudioWorker((reply, transfer) => workerEnd.postMessage(reply, transfer ?? []), deps);
  workerEnd.onmessage = (event: MessageEvent<WorkerRequest>) => void onRequest(event.data);
  const transport: Transport = {
    post: (request, transfer = []) => pageEnd.postMessage(request, transfer),
    listen: (onReply) => {
      pageEnd.onmessage = (event: MessageEvent<WorkerReply>) => onReply(event.data);
    },
    restart: () => {},
  };
  const store = createStudioStore();
  return { store, client: createStudioClient(transport, store) };
}

describe('Export PyTorch project of the built-in MobileNetV2, through the real worker', () => {
  it('needs no run, builds with every layer supported, states the plan as flags and keeps every pretrained weight bit for bit', async () => {
    const { store, client } = studioOverChannel();
    await client.init('auto');
    await client.loadModel({ kind: 'url', url: 'mobilenet_v2/model.json' }, { kind: 'builtin', id: 'mobilenet_v2', label: 'MobileNetV2' });
    const s = store.getState();
    s.setAllFrozen(true);
    s.setLayersFrozen(
      s.model!.layers.filter((l) => l.name.startsWith('block_16_')).map((l) => l.name),
      false,
    );
    s.setBatchNormOverride('block_16_project_BN', 'inference');
    s.createClass('cats');
    s.createClass('dogs');
    const saved: Blob[] = [];
    const result = await exportPytorchProject(client, store, { includeImages: false }, (blob) => saved.push(blob));
    expect(result).toMatchObject({ weightsFrom: 'pretrained', images: 0 });
    const zip = unzipSync(new Uint8Array(await saved[0].arrayBuffer()));
    const recipe = JSON.parse(strFromU8(zip['recipe.json'])) as PytorchRecipe;
    const modelJson = JSON.parse(strFromU8(zip['model.json']));

    expect(recipe.model.sourceHash).toBe(store.getState().model!.sourceHash);
    expect(recipe.batchNormOverrides).toEqual({ block_16_project_BN: 'inference' });
    const flags = topologyTrainableFlags(modelJson.modelTopology);
    expect(Object.keys(flags)).toEqual(Object.keys(recipe.freezePlan));
    for (const [layer, frozen] of Object.entries(recipe.freezePlan)) expect(flags[layer], layer).toBe(!frozen);
    expect(
      Object.entries(recipe.freezePlan)
        .filter(([, frozen]) => !frozen)
        .map(([name]) => name),
    ).toEqual(
      [
        ...store
          .getState()
          .model!.layers.filter((l) => l.name.startsWith('block_16_'))
          .map((l) => l.name),
        'head_pool',
        'head_dense',
      ].filter((name) => name in recipe.freezePlan),
    );

    // Every pretrained weight in the bundle is the model as the worker loaded it (dequantised), by name.
    const bundle = snapshotOfWeights({ weightSpecs: modelJson.weightsManifest[0].weights, weightData: zip['weights.bin'].slice().buffer });
    const source = snapshotOfWeights((await client.readSourceWeights()).weights);
    const sourceByName = new Map(source.layers.flatMap((l) => l.weights.map((w) => [w.name, w.values])));
    const pretrained = bundle.layers.filter((l) => !l.name.startsWith('head_')).flatMap((l) => l.weights);
    expect(pretrained.length).toBeGreaterThan(200);
    for (const weight of pretrained) {
      const expected = sourceByName.get(weight.name);
      expect(expected, weight.name).toBeDefined();
      expect(
        new Uint8Array(weight.values.buffer).every((byte, i) => byte === new Uint8Array(expected!.buffer)[i]),
        weight.name,
      ).toBe(true);
    }
  });
});
