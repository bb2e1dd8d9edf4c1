import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFeatures } from './featureCache';
import { buildFeaturesOn, chooseForwardBackend, pickFastest } from './forwardBackend';
import { applyFreezePlan } from './freeze';
import { guardFrozenLayers } from './frozenLayers';
import { buildTransferModel, defaultCutLayer } from './head';
import { createFlexibleTinyModel, createTinyImages, createTinyModel } from './testing/tinyModel';
import type { Preprocessing } from './types';

const preprocessing: Preprocessing = { range: [-1, 1], resize: 'stretch' };
const images = createTinyImages(20, 2, 4);
const HEAD_ONLY = { conv1: true, bn1: true, relu1: true, conv2: true, bn2: true, relu2: true, flatten: true };

/** A second pure-JS backend under another name: in Node it stands in for "another backend" (WebGL beside WebGPU in a browser). */
const OTHER = 'cpu-other';

beforeAll(async () => {
  const cpu = tf.findBackendFactory('cpu')!;
  if (!tf.findBackendFactory(OTHER)) {
    tf.registerBackend(OTHER, cpu);
    for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: OTHER });
  }
  await tf.setBackend('cpu');
});

function prepare() {
  const tiny = createTinyModel();
  const transfer = buildTransferModel(tiny, defaultCutLayer(tiny), 2, 11);
  guardFrozenLayers(transfer.model);
  applyFreezePlan(transfer.model, HEAD_ONLY, transfer.headLayers);
  return transfer;
}

describe('the feature cache pass on another backend', () => {
  it('computes the same features as on the training backend, leaves nothing behind on either, and switches back', async () => {
    const { model, headLayers } = prepare();
    const reference = await buildFeatures(model, headLayers, images, preprocessing, 8);
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const other = await buildFeaturesOn(OTHER, model, headLayers, images, preprocessing, 8, { onProgress: (done) => progress.push(done) });
    expect(tf.getBackend()).toBe('cpu');
    expect(other.shape).toEqual(reference.shape);
    expect(other.features.length).toBe(reference.features.length);
    other.features.forEach((v, i) => expect(v).toBeCloseTo(reference.features[i], 5));
    expect(progress).toEqual([8, 16, 20]);
    // tf.memory() counts tensors on every backend: the copy's weights and every batch were disposed.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('measures each candidate, keeps the training backend unless another is clearly faster, and reports one that cannot start', async () => {
    const { model, headLayers } = prepare();
    const choice = await chooseForwardBackend(model, headLayers, images, preprocessing, [OTHER, 'no-such-backend']);
    expect(tf.getBackend()).toBe('cpu');
    expect(choice.probes.map((p) => p.backend)).toEqual(['cpu', OTHER, 'no-such-backend']);
    expect(choice.probes[0].msPerImage).toBeGreaterThan(0);
    expect(choice.probes[1].msPerImage).toBeGreaterThan(0);
    expect(choice.probes[2].msPerImage).toBeNull();
    expect(choice.probes[2].error).toMatch(/no-such-backend/);
    // Two equal pure-JS backends: neither is 1.2× faster than the other, so the pass stays where training runs.
    expect(['cpu', OTHER]).toContain(choice.backend);
  });
});

describe('the pass on another backend for a model with open height and width', () => {
  it('rebuilds the [null, null, 3] prefix there and gives the features of the fed 8×8 images', async () => {
    const transfer = buildTransferModel(createFlexibleTinyModel(), 'relu2', 2, 11);
    guardFrozenLayers(transfer.model);
    applyFreezePlan(transfer.model, { conv1: true, bn1: true, relu1: true, conv2: true, bn2: true, relu2: true }, transfer.headLayers);
    const rgb = createTinyImages(6, 2, 4, { height: 8, width: 8, channels: 3 });
    const reference = await buildFeatures(transfer.model, transfer.headLayers, rgb, preprocessing, 4);
    const choice = await chooseForwardBackend(transfer.model, transfer.headLayers, rgb, preprocessing, [OTHER]);
    expect(choice.probes.map((p) => p.error)).toEqual([undefined, undefined]);
    const other = await buildFeaturesOn(OTHER, transfer.model, transfer.headLayers, rgb, preprocessing, 4);
    expect(tf.getBackend()).toBe('cpu');
    expect(other.shape).toEqual([4, 4, 4]);
    expect(other.features.length).toBe(6 * 64);
    other.features.forEach((v, i) => expect(v).toBeCloseTo(reference.features[i], 5));
  });
});

describe('a backend that cannot start', () => {
  it('is reported, and the training backend stays active (tfjs leaves none after a failed start)', async () => {
    if (!tf.findBackendFactory('broken')) {
      tf.registerBackend('broken', () => {
        throw new Error('no adapter here');
      });
    }
    const { model, headLayers } = prepare();
    const choice = await chooseForwardBackend(model, headLayers, images, preprocessing, ['broken']);
    expect(choice.backend).toBe('cpu');
    expect(choice.probes[1]).toEqual({ backend: 'broken', msPerImage: null, error: 'the broken backend could not start' });
    expect(tf.getBackend()).toBe('cpu');
    // The engine still runs ops afterwards.
    expect(await tf.add(tf.scalar(1), tf.scalar(2)).data()).toEqual(new Float32Array([3]));
  });
});

describe('pickFastest', () => {
  it('switches only for a backend at least 1.2× faster than the training one, and then to the fastest', () => {
    expect(pickFastest([{ backend: 'webgpu', msPerImage: 10 }, { backend: 'webgl', msPerImage: 9 }])).toBe('webgpu');
    expect(pickFastest([{ backend: 'webgpu', msPerImage: 12 }, { backend: 'webgl', msPerImage: 10 }])).toBe('webgl');
    expect(pickFastest([{ backend: 'webgpu', msPerImage: 30 }, { backend: 'webgl', msPerImage: 20 }, { backend: 'cpu', msPerImage: 5 }])).toBe('cpu');
    expect(pickFastest([{ backend: 'webgpu', msPerImage: 30 }, { backend: 'webgl', msPerImage: null, error: 'no context' }])).toBe('webgpu');
  });
});
