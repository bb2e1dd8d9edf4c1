import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KerasLayerJson, ModelArtifactsWire } from '../core/exportModelFiles';
import type { FreezePlan, HeadConfig, TrainConfig } from '../core/types';
import { leafLayers } from './freeze';
import { topologyTrainableFlags } from '../core/pytorchBundle';
import { bitIdentical, createTinyModel } from './testing/tinyModel';
import { createTransferSession, type RunModelRequest, type TransferSession } from './transferSession';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const head: HeadConfig = { pooling: 'avg', hiddenUnits: 0, dropout: 0 };
const config: TrainConfig = { epochs: 1, batchSize: 4, learningRate: 0.01, seed: 5 };
const plan: FreezePlan = { conv1: true, bn1: true, relu1: true, conv2: false, bn2: false, relu2: false };
const request: RunModelRequest = { cutLayer: 'relu2', classNames: ['a', 'b', 'c'], head, plan, preprocessing: { range: [0, 1], resize: 'stretch' }, config };

async function loadedSession(): Promise<TransferSession> {
  const session = createTransferSession({ candidates: () => [], minProbeBuildMs: 0 });
  const model = createTinyModel();
  await session.load({
    model,
    inputShape: { height: 8, width: 8, channels: 1 },
    preprocessing: { range: [0, 1], resize: 'stretch' },
    provenance: null,
    sourceHash: 'ab',
  });
  return session;
}

/** Every float32 weight of serialised artifacts, by name. */
function weightsOf(artifacts: ModelArtifactsWire): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const spec of artifacts.weightSpecs) {
    const size = spec.shape.reduce((p, d) => p * d, 1);
    out.set(spec.name, new Float32Array(artifacts.weightData.slice(offset, offset + size * 4)));
    offset += size * 4;
  }
  expect(offset).toBe(artifacts.weightData.byteLength);
  return out;
}

const trainableFlags = (artifacts: ModelArtifactsWire) =>
  Object.fromEntries((artifacts.modelTopology.config.layers as KerasLayerJson[]).map((layer) => [layer.name, layer.config.trainable]));

async function liveWeight(session: TransferSession, name: string): Promise<Float32Array> {
  const weight = session.loaded!.model.weights.find((w) => w.originalName === name)!;
  return Float32Array.from((await weight.read().data()) as Float32Array);
}

describe('TransferSession.exportTransfer', () => {
  it('serialises the pretrained layers up to the cut and a seeded head without a run, flags as the plan says', async () => {
    const session = await loadedSession();
    const flagsBefore = leafLayers(session.loaded!.model).map((l) => l.trainable);
    const tensorsBefore = tf.memory().numTensors;
    const artifacts = await session.exportTransfer(request);
    expect(artifacts.weightsFrom).toBe('pretrained');
    expect(trainableFlags(artifacts)).toMatchObject({ conv1: false, bn1: false, relu1: false, conv2: true, bn2: true, head_pool: true, head_dense: true });
    expect(Object.keys(trainableFlags(artifacts))).not.toContain('classifier');
    const weights = weightsOf(artifacts);
    expect([...weights.keys()]).toEqual(expect.arrayContaining(['conv1/kernel', 'bn1/moving_mean', 'bn2/moving_variance', 'head_dense/kernel']));
    expect(bitIdentical(weights.get('conv1/kernel')!, await liveWeight(session, 'conv1/kernel'))).toBe(true);
    expect(weights.get('head_dense/kernel')!.length).toBe(4 * 3);
    expect(artifacts.identicalToSource).toEqual({ conv1: true, bn1: true, conv2: true, bn2: true });
    // The same seed gives the same head; nothing stays behind, the live flags are as they were.
    const again = weightsOf(await session.exportTransfer(request));
    expect(bitIdentical(again.get('head_dense/kernel')!, weights.get('head_dense/kernel')!)).toBe(true);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(leafLayers(session.loaded!.model).map((l) => l.trainable)).toEqual(flagsBefore);
  });

  it('freezes layers at multiplier 0 in the flags', async () => {
    const session = await loadedSession();
    const artifacts = await session.exportTransfer({ ...request, plan: {}, config: { ...config, rateMultipliers: { conv2: 0 } } });
    expect(trainableFlags(artifacts)).toMatchObject({ conv1: true, conv2: false });
  });

  it("takes the last run's weights when they were built for the same cut, classes and head, and the pretrained copy otherwise", async () => {
    const session = await loadedSession();
    const pretrainedConv1 = await liveWeight(session, 'conv1/kernel');
    const { model } = session.prepareRun({ ...request, plan: {} });
    // What a full fine-tune would leave: the base's weights moved.
    const conv1 = model.weights.find((w) => w.originalName === 'conv1/kernel')!.read() as tf.Variable;
    tf.tidy(() => conv1.assign(conv1.add(tf.scalar(0.5))));
    session.runEnded(true);
    const trained = await session.exportTransfer(request);
    expect(trained.weightsFrom).toBe('trained');
    expect(trained.identicalToSource).toMatchObject({ conv1: false, conv2: true });
    expect(bitIdentical(weightsOf(trained).get('conv1/kernel')!, await liveWeight(session, 'conv1/kernel'))).toBe(true);
    expect(trainableFlags(trained)).toMatchObject({ conv1: false, conv2: true });

    const otherHead = await session.exportTransfer({ ...request, head: { ...head, hiddenUnits: 4 } });
    expect(otherHead.weightsFrom).toBe('pretrained');
    expect(bitIdentical(weightsOf(otherHead).get('conv1/kernel')!, pretrainedConv1)).toBe(true);
    expect(weightsOf(otherHead).get('head_hidden/kernel')!.length).toBe(4 * 4);
    // The studio still holds the run's weights: the export changed nothing.
    expect(bitIdentical(await liveWeight(session, 'conv1/kernel'), pretrainedConv1)).toBe(false);
    expect((await session.exportTransfer(request)).weightsFrom).toBe('trained');
  });

  it("states the plan inside a nested model and puts every flag back, the nested model's own included", async () => {
    const tiny = createTinyModel();
    const backbone = tf.model({ inputs: tiny.inputs, outputs: tiny.getLayer('relu2').output, name: 'backbone' });
    const input = tf.input({ shape: [8, 8, 1], name: 'outer_input' });
    const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(backbone.apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const outer = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2, name: 'out' }).apply(pooled) as tf.SymbolicTensor, name: 'outer' });
    const session = createTransferSession({ candidates: () => [], minProbeBuildMs: 0 });
    await session.load({
      model: outer,
      inputShape: { height: 8, width: 8, channels: 1 },
      preprocessing: { range: [0, 1], resize: 'stretch' },
      provenance: null,
      sourceHash: 'cd',
    });
    backbone.getLayer('conv2').trainable = false; // a flag of the file, to be kept
    const layers = [backbone, ...leafLayers(outer)];
    const before = layers.map((l) => l.trainable);
    const artifacts = await session.exportTransfer({ ...request, cutLayer: 'backbone', plan: { conv1: true, bn1: true, conv2: false } });
    expect(topologyTrainableFlags(artifacts.modelTopology)).toMatchObject({
      conv1: false,
      bn1: false,
      conv2: true,
      bn2: true,
      head_pool: true,
      head_dense: true,
    });
    expect(layers.map((l) => l.trainable)).toEqual(before);
  });

  it('refuses before a model is loaded', async () => {
    await expect(createTransferSession({ candidates: () => [], minProbeBuildMs: 0 }).exportTransfer(request)).rejects.toThrow(/No model is loaded/);
  });
});
