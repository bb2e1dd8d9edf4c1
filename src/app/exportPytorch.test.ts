/** app/exportPytorch: the zip's layout and recipe.json from the store, over a fake worker that serialises as the real one does. */
import { strFromU8, unzipSync } from 'fflate';
import { PNG } from 'pngjs';
import { describe, expect, it, vi } from 'vitest';
import { sha256Hex } from '../core/hash';
import type { ModelArtifactsWire } from '../core/exportModelFiles';
import type { PytorchRecipe } from '../core/pytorchRecipe';
import { transferLayers } from '../store/selectors';
import { createStudioStore, type StudioStore } from '../store/store';
import { describedModel, layerRow } from '../store/testing/modelDescription';
import type { SetWeightsModel } from '../worker/protocol';
import { exportPytorchProject, pytorchExportBlocker } from './exportPytorch';

const rows = [
  layerRow('conv1', 'Conv2D', [8, 8, 4], 112),
  { ...layerRow('bn1', 'BatchNormalization', [8, 8, 4], 8), nonTrainableParams: 8 },
  layerRow('block_1_conv', 'Conv2D', [8, 8, 8], 296),
  layerRow('block_1_relu', 'ReLU', [8, 8, 8]),
  layerRow('gap', 'GlobalAveragePooling2D', [8]),
  layerRow('out', 'Dense', [3], 27),
];

/** A worker stand-in: the transfer rows as a Keras topology, each layer's trainable flag from the plan, 4 bytes per parameter. */
function fakeClient(store: StudioStore, classOf: (name: string) => string = (name) => (name === 'block_1_relu' ? 'ReLU' : 'Conv2D')) {
  const requests: SetWeightsModel[] = [];
  const exportTransfer = vi.fn(async (request: SetWeightsModel) => {
    requests.push(request);
    const layers = transferLayers(store.getState()).map((layer) => ({
      class_name: layer.origin === 'head' ? layer.className : classOf(layer.name),
      name: layer.name,
      config: { name: layer.name, trainable: layer.origin === 'head' || request.plan[layer.name] !== true },
      inbound_nodes: [],
    }));
    const artifacts: ModelArtifactsWire = {
      format: 'layers-model',
      generatedBy: 'test',
      modelTopology: { class_name: 'Functional', config: { name: 'tiny_transfer', layers } },
      weightSpecs: [{ name: 'conv1/kernel', shape: [3], dtype: 'float32' }],
      weightData: new Float32Array([1, 2, 3]).buffer,
    };
    return { artifacts, weightsFrom: 'pretrained' as const };
  });
  return { client: { exportTransfer }, requests };
}

function storeWithModel(): StudioStore {
  const store = createStudioStore();
  const s = store.getState();
  s.modelLoaded(
    describedModel('tiny net', rows),
    { conv1: true, bn1: true, block_1_conv: false, block_1_relu: false },
    { kind: 'builtin', id: 'tiny', label: 'Tiny' },
  );
  s.setBatchNormOverride('bn1', 'train-stats');
  s.setConfig({ epochs: 4, batchSize: 2, learningRate: 0.01, seed: 9 });
  s.setAutoEpochs(false);
  return store;
}

const pixels = (v: number) => new Uint8Array(8 * 8 * 3).fill(v);
const file = (n: number) => new Blob([Uint8Array.from({ length: 30 }, (_, i) => (i + n) & 255)]);

async function exported(store: StudioStore, includeImages: boolean) {
  const saved: { blob: Blob; name: string }[] = [];
  const { client, requests } = fakeClient(store);
  const result = await exportPytorchProject(client, store, { includeImages }, (blob, name) => saved.push({ blob, name }));
  const zip = unzipSync(new Uint8Array(await saved[0].blob.arrayBuffer()));
  return { result, zip, name: saved[0].name, requests, recipe: JSON.parse(strFromU8(zip['recipe.json'])) as PytorchRecipe };
}

describe('exportPytorchProject', () => {
  it('zips the model with the plan as flags, recipe.json from the store, the Python sources and the images', async () => {
    const store = storeWithModel();
    store.getState().addUserImages(
      'pets',
      [
        { path: 'pets/cat/a.png', className: 'cat', pixels: pixels(1), source: file(1), hash: 'a'.repeat(64) },
        { path: 'pets/cat/b.png', className: 'cat', pixels: pixels(2), source: file(2), hash: 'b'.repeat(64) },
        { path: 'pets/dog/a.png', className: 'dog', pixels: pixels(3), source: file(3), hash: 'c'.repeat(64) },
        { path: 'pets/dog/b.png', className: 'dog', pixels: pixels(4), source: file(4), hash: 'd'.repeat(64) },
      ],
      [],
      [],
    );
    store.getState().setValidationFraction(0.5);
    const { result, zip, name, requests, recipe } = await exported(store, true);
    expect(name).toBe('tiny-net-pytorch.zip');
    expect(result).toEqual({ fileName: 'tiny-net-pytorch.zip', weightsFrom: 'pretrained', images: 4 });
    expect(requests[0]).toMatchObject({ cutLayer: 'gap', classNames: ['cat', 'dog'], plan: { conv1: true, bn1: true }, config: { epochs: 4, seed: 9 } });
    expect(Object.keys(zip)).toEqual(
      expect.arrayContaining(['README.md', 'train.py', 'transfer_studio_torch/__init__.py', 'model.json', 'weights.bin', 'recipe.json']),
    );
    expect(Object.keys(zip).filter((p) => p.startsWith('data/'))).toEqual(['data/cat/a.png', 'data/cat/b.png', 'data/dog/a.png', 'data/dog/b.png']);
    expect([...zip['data/dog/b.png']]).toEqual([...new Uint8Array(await file(4).arrayBuffer())]);
    expect(strFromU8(zip['train.py'])).toMatch(/torch/);

    expect(recipe).toMatchObject({
      format: 'transfer-studio-recipe',
      model: { name: 'tiny net', label: 'Built-in: Tiny', sourceHash: 'ab' },
      inputShape: { height: 8, width: 8, channels: 3 },
      preprocessing: { range: [-1, 1], resize: 'center-crop' },
      cut: 'gap',
      classNames: ['cat', 'dog'],
      freezePlan: { conv1: true, bn1: true, block_1_conv: false, head_dense: false },
      batchNormOverrides: { bn1: 'train-stats' },
      config: { epochs: 4, batchSize: 2, learningRate: 0.01, seed: 9, optimizer: 'adam' },
      counts: { trainable: 296 + 18, nonTrainable: 112 + 16 },
    });
    expect(recipe.split.validationFraction).toBe(0.5);
    expect(Object.fromEntries(recipe.split.files.map((f) => [f.path, f.sha256]))).toEqual({
      'cat/a.png': 'a'.repeat(64),
      'cat/b.png': 'b'.repeat(64),
      'dog/a.png': 'c'.repeat(64),
      'dog/b.png': 'd'.repeat(64),
    });
    expect(recipe.split.files.filter((f) => f.subset === 'validation').map((f) => f.label)).toEqual(['cat', 'dog']);

    const modelJson = JSON.parse(strFromU8(zip['model.json']));
    expect(modelJson.weightsManifest).toEqual([{ paths: ['weights.bin'], weights: [{ name: 'conv1/kernel', shape: [3], dtype: 'float32' }] }]);
    expect(modelJson.userDefinedMetadata).toMatchObject({ classLabels: ['cat', 'dog'], preprocessing: { range: [-1, 1], inputSize: [8, 8] } });
    const flags = Object.fromEntries(
      modelJson.modelTopology.config.layers.map((l: { name: string; config: { trainable: boolean } }) => [l.name, l.config.trainable]),
    );
    for (const [layer, frozen] of Object.entries(recipe.freezePlan)) expect(flags[layer], layer).toBe(!frozen);
  });

  it('leaves the images out unless asked, and writes the built-in sample as PNG files it hashes', async () => {
    const store = storeWithModel();
    const sample = [0, 1, 2, 3].map((i) => ({
      path: `sample/${i % 2 ? 'odd' : 'even'}/000${i}`,
      className: i % 2 ? 'odd' : 'even',
      pixels: new Uint8Array(4 * 4).fill(i * 60),
    }));
    store.getState().setShippedSample({ name: 'digits', images: sample, shape: { height: 4, width: 4, channels: 1 } });
    store.getState().loadSample(
      'digits',
      sample.map((image) => ({ ...image, pixels: pixels(0) })),
    );
    const without = await exported(store, false);
    expect(Object.keys(without.zip).some((p) => p.startsWith('data/'))).toBe(false);
    const { zip, recipe } = await exported(store, true);
    expect(recipe.split.files.map((f) => f.path)).toEqual(['even/0000.png', 'odd/0001.png', 'even/0002.png', 'odd/0003.png']);
    const png = zip['data/even/0002.png'];
    expect(recipe.split.files[2].sha256).toBe(await sha256Hex([png]));
    expect(without.recipe.split.files[2].sha256).toBe(recipe.split.files[2].sha256);
    const decoded = PNG.sync.read(Buffer.from(png));
    expect([decoded.width, decoded.height, decoded.data[0]]).toEqual([4, 4, 120]);
  });

  it('names a layer the PyTorch interpreter cannot build, and downloads nothing', async () => {
    const store = storeWithModel();
    store.getState().createClass('a');
    store.getState().createClass('b');
    const { client } = fakeClient(store, (name) => (name === 'block_1_conv' ? 'ConvLSTM2D' : 'Conv2D'));
    const save = vi.fn();
    await expect(exportPytorchProject(client, store, { includeImages: false }, save)).rejects.toThrow(/does not build ConvLSTM2D \('block_1_conv'\)/);
    expect(save).not.toHaveBeenCalled();
  });

  it('needs a model and two classes, not a run', () => {
    const store = createStudioStore();
    expect(pytorchExportBlocker(store.getState())).toBe('Load a model first.');
    const loaded = storeWithModel();
    expect(pytorchExportBlocker(loaded.getState())).toMatch(/two classes/);
    loaded.getState().createClass('a');
    loaded.getState().createClass('b');
    expect(pytorchExportBlocker(loaded.getState())).toBeNull();
    loaded.getState().modelLoading();
    expect(pytorchExportBlocker(loaded.getState())).toMatch(/A model is loading/);
  });
});
