import * as tf from '@tensorflow/tfjs';
import { strFromU8, unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeBatch } from './batches';
import { applyFreezePlan } from './freeze';
import { guardFrozenLayers } from './frozenLayers';
import { buildTransferModel, defaultCutLayer } from './head';
import { serializeModel } from './exportModel';
import {
  buildExportFiles,
  buildExportMetadata,
  exportFileName,
  readExportedStructure,
  zipExportFiles,
  type ExportContext,
  type ExportMetadata,
  type ModelArtifactsWire,
} from '../core/exportModelFiles';
import { loadLayersModelFromFileSet, type LoadedModel } from './modelFiles';
import { readMobileNetV2FilesFromDisk } from './testing/builtInFiles';
import { predictProbabilities } from './predict';
import { bitIdentical, createFlexibleTinyModel, createTinyImages, createTinyModel } from './testing/tinyModel';
import { trainModel } from './trainer';
import type { FreezePlan, HeadConfig, Preprocessing, TrainConfig } from '../core/types';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const preprocessing: Preprocessing = { range: [-1, 1], resize: 'center-crop' };
const head: HeadConfig = { pooling: 'max', hiddenUnits: 4, dropout: 0.25 };
const config: TrainConfig = { epochs: 2, batchSize: 8, learningRate: 0.01, seed: 5 };
const classNames = ['cat', 'dog', 'emu'];
const plan: FreezePlan = { conv1: true, bn1: true, relu1: true, conv2: false, bn2: false, relu2: false };

/** Reads every float32 weight of a model.json + weights.bin pair, by manifest name. */
function weightsByName(modelJson: string, weightsBin: Uint8Array): Map<string, Float32Array> {
  const json = JSON.parse(modelJson) as { weightsManifest: { weights: { name: string; shape: number[]; dtype: string }[] }[] };
  const bytes = weightsBin.slice().buffer;
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const spec of json.weightsManifest.flatMap((g) => g.weights)) {
    expect(spec.dtype).toBe('float32');
    const size = spec.shape.reduce((p, d) => p * d, 1);
    out.set(spec.name, new Float32Array(bytes, offset, size));
    offset += size * 4;
  }
  expect(offset).toBe(weightsBin.byteLength);
  return out;
}

/** The tiny model as a file set on disk would hold it: model.json + weights.bin. */
async function tinySourceFiles(): Promise<{ name: string; buffer: ArrayBuffer }[]> {
  const model = createTinyModel();
  const artifacts = await serializeModel(model);
  model.dispose();
  const json = {
    format: artifacts.format,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['source-weights.bin'], weights: artifacts.weightSpecs }],
    userDefinedMetadata: { preprocessing: { range: [0, 1] }, trainedOn: 'tiny bands' },
  };
  return [
    { name: 'model.json', buffer: new TextEncoder().encode(JSON.stringify(json)).buffer },
    { name: 'source-weights.bin', buffer: artifacts.weightData },
  ];
}

function context(loaded: LoadedModel, epochs: number): ExportContext {
  return {
    studio: { name: 'Transfer Studio', version: '9.9.9' },
    exportedAt: new Date('2026-01-02T03:04:05Z'),
    classNames,
    inputShape: loaded.inputShape,
    preprocessing,
    sourceModel: { name: loaded.model.name, label: 'Imported: model.json', sourceHash: loaded.sourceHash, provenance: loaded.provenance },
    head,
    config,
    backend: 'cpu',
    dataset: { name: 'bands', images: 36, validationFraction: 0.25, splitSeed: 42 },
    outcome: { stopped: false, epochsCompleted: epochs, batches: 6, validationLoss: 0.5, validationAccuracy: 0.75 },
    epochs: [
      { epoch: 0, trainLoss: 1, trainAccuracy: 0.4, validationLoss: 0.9, validationAccuracy: 0.5, millis: 3 },
      { epoch: 1, trainLoss: 0.6, trainAccuracy: 0.7, validationLoss: 0.5, validationAccuracy: 0.75, millis: 2 },
    ],
  };
}

async function predict(model: tf.LayersModel, images: ReturnType<typeof createTinyImages>, range: Preprocessing): Promise<Float32Array> {
  const { xs, ys } = makeBatch(images, Array.from(images.labels.keys()), classNames.length, range);
  const probs = model.predict(xs) as tf.Tensor;
  const values = (await probs.data()) as Float32Array;
  tf.dispose([xs, ys, probs]);
  return values;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i])), 0);
}

describe('exporting a trained transfer model', () => {
  it('round-trips through zip, the studio import and plain tfjs: same predictions, source weight names, metadata', async () => {
    const sourceFiles = await tinySourceFiles();
    const sourceWeights = weightsByName(new TextDecoder().decode(sourceFiles[0].buffer), new Uint8Array(sourceFiles[1].buffer));
    // A second copy in the same engine: its variables get unique names ("conv1/kernel_1"), the file must not.
    const first = await loadLayersModelFromFileSet(sourceFiles.map((f) => ({ ...f, buffer: f.buffer.slice(0) })));
    const loaded = await loadLayersModelFromFileSet(sourceFiles);
    expect(loaded.model.weights.filter((w) => w.name !== w.originalName).length).toBeGreaterThan(0);

    const transfer = buildTransferModel(loaded.model, 'relu2', classNames.length, config.seed, head);
    guardFrozenLayers(transfer.model);
    applyFreezePlan(transfer.model, plan, transfer.headLayers);
    const train = createTinyImages(36, 3, 1);
    await trainModel(transfer.model, train, createTinyImages(9, 3, 2), classNames.length, preprocessing, config);
    const probe = createTinyImages(12, 3, 9);
    const studioPredictions = await predict(transfer.model, probe, preprocessing);

    const tensorsBefore = tf.memory().numTensors;
    const artifacts = await serializeModel(transfer.model);
    const metadata = buildExportMetadata(artifacts.modelTopology, context(loaded, 2));
    const zip = zipExportFiles(buildExportFiles(artifacts, metadata), new Date('2026-01-02T03:04:05Z'));
    const unzipped = unzipSync(zip);
    expect(Object.keys(unzipped).sort()).toEqual(['metadata.json', 'model.json', 'weights.bin']);
    const files = Object.entries(unzipped).map(([name, bytes]) => ({ name, buffer: bytes.slice().buffer }));

    // 1. Back into the studio, through the import path (model.json + its weight file).
    const reimported = await loadLayersModelFromFileSet(files.filter((f) => f.name !== 'metadata.json'));
    expect(reimported.preprocessing).toEqual(preprocessing);
    expect(reimported.provenance).toBe("bands, fine-tuned in Transfer Studio from 'tiny'");
    expect(reimported.model.getLayer('conv1').trainable).toBe(false);
    expect(reimported.model.getLayer('conv2').trainable).toBe(true);
    expect(maxAbsDiff(await predict(reimported.model, probe, reimported.preprocessing), studioPredictions)).toBeLessThanOrEqual(1e-5);

    // 2. Into plain tfjs, which knows nothing of the studio's frozen-layer guard.
    const modelJson = JSON.parse(strFromU8(unzipped['model.json'])) as tf.io.ModelJSON;
    const topologyClasses = (modelJson.modelTopology as { config: { layers: { class_name: string }[] } }).config.layers.map((l) => l.class_name);
    const registered = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const className of topologyClasses) expect(registered[className], className).toBeDefined();
    const plain = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights,
        weightData: unzipped['weights.bin'].slice().buffer,
      }),
    );
    expect(maxAbsDiff(await predict(plain, probe, preprocessing), studioPredictions)).toBeLessThanOrEqual(1e-5);
    reimported.model.dispose();
    plain.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    // Weight names: every pretrained weight keeps the source file's name; frozen ones keep its bytes.
    expect(modelJson.weightsManifest).toHaveLength(1);
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    const exported = weightsByName(strFromU8(unzipped['model.json']), unzipped['weights.bin']);
    const pretrainedSource = [...sourceWeights.keys()].filter((n) => /^(conv1|bn1|conv2|bn2)\//.test(n));
    expect(pretrainedSource).toHaveLength(11); // conv1 kernel, conv2 kernel + bias, 4 per BN layer
    for (const name of pretrainedSource) expect(exported.has(name), name).toBe(true);
    for (const name of pretrainedSource.filter((n) => /^(conv1|bn1)\//.test(n))) {
      expect(bitIdentical(exported.get(name)!, sourceWeights.get(name)!), name).toBe(true);
    }
    expect(bitIdentical(exported.get('conv2/kernel')!, sourceWeights.get('conv2/kernel')!)).toBe(false);
    const newNames = [...exported.keys()].filter((n) => !sourceWeights.has(n)).sort();
    expect(newNames).toEqual(['head_dense/bias', 'head_dense/kernel', 'head_hidden/bias', 'head_hidden/kernel']);
    expect(exported.has('classifier/kernel')).toBe(false);

    // metadata.json: what the model holds and how it was made.
    const meta = JSON.parse(strFromU8(unzipped['metadata.json'])) as ExportMetadata;
    expect(meta).toMatchObject({
      format: 'transfer-studio-export',
      studio: { name: 'Transfer Studio', version: '9.9.9' },
      exportedAt: '2026-01-02T03:04:05.000Z',
      classNames,
      preprocessing: { range: [-1, 1], resize: 'center-crop', inputSize: [8, 8], channels: 1 },
      sourceModel: { name: 'tiny', sourceHash: loaded.sourceHash },
      cutLayer: 'relu2',
      freezePlan: plan,
      training: { config, backend: 'cpu' },
      metrics: { outcome: { epochsCompleted: 2, validationAccuracy: 0.75 }, finalEpoch: { epoch: 1, validationAccuracy: 0.75 } },
    });
    expect(Object.keys(meta.freezePlan)).toEqual(['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'relu2']);
    expect(meta.head).toEqual({
      config: head,
      layers: [
        { name: 'head_pool', className: 'GlobalMaxPooling2D' },
        { name: 'head_hidden', className: 'Dense', units: 4, activation: 'relu' },
        { name: 'head_dropout', className: 'Dropout', rate: 0.25 },
        { name: 'head_dense', className: 'Dense', units: 3, activation: 'softmax' },
      ],
    });
    expect(meta.sourceModel.sourceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(modelJson.userDefinedMetadata).toMatchObject({ classLabels: classNames, sourceModel: { name: 'tiny', sourceHash: loaded.sourceHash } });

    for (const name of transfer.headLayers) transfer.model.getLayer(name).dispose();
    loaded.model.dispose();
    first.model.dispose();
  });

  it("writes no seed into the head's Dropout config, also after training calls drew masks", async () => {
    const base = createTinyModel();
    const transfer = buildTransferModel(base, 'relu2', classNames.length, config.seed, head);
    const x = tf.ones([2, 8, 8, 1]);
    tf.dispose([transfer.model.apply(x, { training: true }) as tf.Tensor, transfer.model.apply(x, { training: true }) as tf.Tensor, x]);
    const artifacts = await serializeModel(transfer.model);
    const dropout = artifacts.modelTopology.config.layers.find((l) => l.name === 'head_dropout')!;
    expect(dropout.class_name).toBe('Dropout');
    expect(dropout.config).toMatchObject({ rate: 0.25 });
    // null is what Keras writes for an unseeded Dropout; a number would make every loader's dropout draw one fixed mask.
    expect(dropout.config.seed ?? null).toBeNull();
    for (const name of transfer.headLayers) transfer.model.getLayer(name).dispose();
    base.dispose();
  });

  it('joins weight data tfjs hands over in several buffers', async () => {
    const model = createTinyModel();
    const real = await serializeModel(model);
    const bytes = new Uint8Array(real.weightData);
    const split = [bytes.slice(0, 10).buffer, bytes.slice(10).buffer];
    const fake = {
      name: 'split',
      save: (handler: tf.io.IOHandler) =>
        handler.save!({ ...real, weightData: split, modelTopology: real.modelTopology as unknown as tf.io.ModelArtifacts['modelTopology'] }),
    } as unknown as tf.LayersModel;
    const joined = await serializeModel(fake);
    expect(new Uint8Array(joined.weightData)).toEqual(bytes);
    model.dispose();
  });
});

describe('exporting a model with open height and width ([null, null, 3])', () => {
  it('keeps the open input, records the size the studio fed, and predicts the same after re-import', async () => {
    const source = createFlexibleTinyModel();
    const sourceArtifacts = await serializeModel(source);
    source.dispose();
    const sourceJson = {
      format: sourceArtifacts.format,
      modelTopology: sourceArtifacts.modelTopology,
      weightsManifest: [{ paths: ['w.bin'], weights: sourceArtifacts.weightSpecs }],
      userDefinedMetadata: { preprocessing: { inputSize: [8, 8] } },
    };
    const loaded = await loadLayersModelFromFileSet([
      { name: 'model.json', buffer: new TextEncoder().encode(JSON.stringify(sourceJson)).buffer },
      { name: 'w.bin', buffer: sourceArtifacts.weightData },
    ]);
    expect(loaded.inputShape).toEqual({ height: 8, width: 8, channels: 3 });
    const transfer = buildTransferModel(loaded.model, 'relu2', classNames.length, config.seed, head);
    guardFrozenLayers(transfer.model);
    applyFreezePlan(transfer.model, plan, transfer.headLayers);
    const rgb = { ...loaded.inputShape };
    await trainModel(transfer.model, createTinyImages(18, 3, 1, rgb), null, classNames.length, preprocessing, { ...config, epochs: 1 });
    const probe = createTinyImages(6, 3, 9, rgb);
    const studio = await predictProbabilities(transfer.model, probe.pixels, probe.shape, preprocessing, 4);

    const artifacts = await serializeModel(transfer.model);
    const input = artifacts.modelTopology.config.layers.find((l) => l.class_name === 'InputLayer')!;
    expect(input.config.batch_input_shape).toEqual([null, null, null, 3]);
    const files = buildExportFiles(artifacts, buildExportMetadata(artifacts.modelTopology, context(loaded, 2)));
    expect(JSON.parse(files['model.json']).userDefinedMetadata.preprocessing).toMatchObject({ inputSize: [8, 8], channels: 3 });
    const reimported = await loadLayersModelFromFileSet([
      { name: 'model.json', buffer: new TextEncoder().encode(files['model.json']).buffer },
      { name: 'weights.bin', buffer: files['weights.bin'].slice().buffer },
    ]);
    expect(reimported.model.inputs[0].shape).toEqual([null, null, null, 3]);
    expect(reimported.inputShape).toEqual({ height: 8, width: 8, channels: 3 });
    const again = await predictProbabilities(reimported.model, probe.pixels, probe.shape, reimported.preprocessing, 4);
    expect(again.numClasses).toBe(3);
    expect(maxAbsDiff(again.probabilities, studio.probabilities)).toBeLessThanOrEqual(1e-5);
    reimported.model.dispose();
    for (const name of transfer.headLayers) transfer.model.getLayer(name).dispose();
    loaded.model.dispose();
  });
});

describe('exporting the built-in MobileNetV2 (uint8-quantized source weights)', () => {
  it('keeps every pretrained weight name of the source file and the float32 values tfjs loaded, and predicts the same after re-import', async () => {
    const sourceFiles = readMobileNetV2FilesFromDisk();
    const sourceJson = JSON.parse(new TextDecoder().decode(sourceFiles.find((f) => f.name === 'model.json')!.buffer)) as {
      weightsManifest: { weights: { name: string; quantization?: { dtype: string } }[] }[];
    };
    const sourceSpecs = sourceJson.weightsManifest.flatMap((g) => g.weights);
    expect(sourceSpecs.every((w) => w.quantization?.dtype === 'uint8')).toBe(true);
    const loaded = await loadLayersModelFromFileSet(sourceFiles);
    const cut = defaultCutLayer(loaded.model);
    const transfer = buildTransferModel(loaded.model, cut, 5, 1);
    guardFrozenLayers(transfer.model);
    applyFreezePlan(transfer.model, Object.fromEntries(transfer.model.layers.map((l) => [l.name, true])), transfer.headLayers);
    const inMemory = new Map<string, Float32Array>();
    for (const w of transfer.model.weights) inMemory.set(w.originalName, (await w.read().data()) as Float32Array);

    const artifacts = await serializeModel(transfer.model);
    const exportedNames = artifacts.weightSpecs.map((w) => w.name);
    const kept = sourceSpecs.map((w) => w.name).filter((name) => transfer.model.layers.some((l) => name.startsWith(`${l.name}/`)));
    expect(kept.length).toBeGreaterThan(250);
    expect(exportedNames.filter((name) => !kept.includes(name)).sort()).toEqual(['head_dense/bias', 'head_dense/kernel']);
    expect(artifacts.weightSpecs.every((w) => w.dtype === 'float32' && !w.quantization)).toBe(true); // tfjs never re-quantizes (TFJS-FACTS #16)
    const exported = weightsByName(JSON.stringify({ weightsManifest: [{ weights: artifacts.weightSpecs }] }), new Uint8Array(artifacts.weightData));
    for (const name of kept) expect(bitIdentical(exported.get(name)!, inMemory.get(name)!), name).toBe(true);

    const metadata = buildExportMetadata(artifacts.modelTopology, {
      ...context(loaded, 0),
      classNames: ['a', 'b', 'c', 'd', 'e'],
      preprocessing: loaded.preprocessing,
    });
    const files = buildExportFiles(artifacts, metadata);
    const reimported = await loadLayersModelFromFileSet([
      { name: 'model.json', buffer: new TextEncoder().encode(files['model.json']).buffer },
      { name: 'weights.bin', buffer: files['weights.bin'].slice().buffer },
    ]);
    const x = tf.tidy(() => tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 3));
    const before = transfer.model.predict(x) as tf.Tensor;
    const after = reimported.model.predict(x) as tf.Tensor;
    expect(maxAbsDiff((await after.data()) as Float32Array, (await before.data()) as Float32Array)).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, before, after]);
    reimported.model.dispose();
    for (const name of transfer.headLayers) transfer.model.getLayer(name).dispose();
    loaded.model.dispose();
  }, 180_000);
});

describe('export file set', () => {
  const topology = (layers: ModelArtifactsWire['modelTopology']['config']['layers']): ModelArtifactsWire['modelTopology'] => ({
    class_name: 'Model',
    config: { name: 'm', layers },
  });
  const layer = (name: string, className: string, inbound: string | null, config: Record<string, unknown> = {}) => ({
    name,
    class_name: className,
    config: { name, ...config },
    inbound_nodes: inbound ? [[[inbound, 0, 0, {}]]] : [],
  });

  it('refuses a model without the studio head', () => {
    expect(() => readExportedStructure(topology([layer('input', 'InputLayer', null), layer('dense', 'Dense', 'input', { units: 2 })]))).toThrow(
      /Model 'm' has no studio head/,
    );
  });

  it('refuses class names that no longer match the model outputs, naming both counts', () => {
    const t = topology([
      layer('input', 'InputLayer', null),
      layer('flat', 'Flatten', 'input', { trainable: false }),
      layer('head_dense', 'Dense', 'flat', { units: 2 }),
    ]);
    expect(readExportedStructure(t)).toMatchObject({ cutLayer: 'flat', freezePlan: { flat: true }, outputUnits: 2 });
    const ctx = { classNames: ['a', 'b', 'c'] } as ExportContext;
    expect(() => buildExportMetadata(t, ctx)).toThrow(
      "The trained model has 2 outputs but the dataset now has 3 classes ('a', 'b', 'c'). Train again, then export.",
    );
  });

  it.each([
    ['digits_cnn', 'digits_cnn-transfer.zip'],
    ['my model (v2)', 'my-model-v2-transfer.zip'],
    ['../..', '..-..-transfer.zip'],
    ['', 'model-transfer.zip'],
  ])('names the zip after the model: %j → %s', (name, file) => {
    expect(exportFileName(name)).toBe(file);
  });
});
