import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildFeatures } from './featureCache';
import { buildFeaturesOn, chooseForwardBackend, chooseTrainingBackend, moveWeightsTo, pickFastest } from './forwardBackend';
import { applyFreezePlan } from './freeze';
import { guardFrozenLayers } from './frozenLayers';
import { buildTransferModel, defaultCutLayer } from './head';
import { createFlexibleTinyModel, createTinyImages, createTinyModel } from './testing/tinyModel';
import type { Preprocessing } from '../core/types';

const preprocessing: Preprocessing = { range: [-1, 1], resize: 'stretch' };
const images = createTinyImages(20, 2, 4);
const HEAD_ONLY = { conv1: true, bn1: true, relu1: true, conv2: true, bn2: true, relu2: true, flatten: true };

/** A second pure-JS backend under another name: in Node it stands in for "another backend" (WebGL beside WebGPU in a browser). */
const OTHER = 'cpu-other';

beforeAll(async () => {
  if (!tf.findBackendFactory('broken-train'))
    tf.registerBackend('broken-train', () => {
      throw new Error('no adapter here');
    });
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
});

/**
 * Virtual milliseconds. The clocked backends are copies of the cpu backend
 * whose every kernel call advances this clock by a fixed cost, and the probe
 * reads it through performance.now: each probe's time is its kernel count
 * times its backend's cost, the same on every machine and under any load.
 */
let clock = 0;

/** Registers `name` as a cpu copy whose kernels each cost `msPerKernel` on the virtual clock. */
function registerClocked(name: string, msPerKernel: number): string {
  if (!tf.findBackendFactory(name)) {
    tf.registerBackend(name, tf.findBackendFactory('cpu')!);
    for (const kernel of tf.getKernelsForBackend('cpu')) {
      tf.registerKernel({
        ...kernel,
        backendName: name,
        kernelFunc: (args) => {
          clock += msPerKernel;
          return kernel.kernelFunc(args);
        },
      });
    }
  }
  return name;
}

describe('choosing the forward backend by measured speed', () => {
  const TRAINING = registerClocked('clocked-10', 10);
  const MARGINAL = registerClocked('clocked-9', 9); // 1.11× faster: below the 1.2× rule
  const FASTER = registerClocked('clocked-8', 8); // 1.25× faster
  const FAST = registerClocked('clocked-5', 5); // 2× faster
  const SLOW = registerClocked('clocked-20', 20);

  afterEach(async () => {
    vi.restoreAllMocks();
    await tf.setBackend('cpu');
  });

  /** Runs chooseForwardBackend with `training` active and a model built there, on the virtual clock. */
  async function choose(training: string, candidates: string[], options?: Parameters<typeof chooseForwardBackend>[5]) {
    await tf.setBackend(training);
    const { model, headLayers } = prepare();
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    try {
      const choice = await chooseForwardBackend(model, headLayers, images, preprocessing, candidates, options);
      expect(tf.getBackend()).toBe(training);
      return choice;
    } finally {
      model.dispose();
    }
  }

  it('times the same pass on every candidate and keeps the training backend when another is only marginally faster', async () => {
    const choice = await choose(TRAINING, [MARGINAL, 'no-such-backend']);
    expect(choice.probes.map((p) => p.backend)).toEqual([TRAINING, MARGINAL, 'no-such-backend']);
    const [training, marginal, missing] = choice.probes;
    expect(training.msPerImage).toBeGreaterThan(0);
    // Same kernels on both, so the times stand exactly in the ratio of the kernel costs.
    expect(marginal.msPerImage! / training.msPerImage!).toBeCloseTo(0.9, 10);
    expect(missing.msPerImage).toBeNull();
    expect(missing.error).toMatch(/no-such-backend/);
    expect(choice.backend).toBe(TRAINING);
  });

  it('switches to a backend at least 1.2× faster, the fastest of several', async () => {
    const choice = await choose(TRAINING, [MARGINAL, FASTER, FAST, SLOW]);
    expect(choice.probes.map((p) => p.msPerImage! / choice.probes[0].msPerImage!).map((r) => r.toFixed(2))).toEqual(['1.00', '0.90', '0.80', '0.50', '2.00']);
    expect(choice.backend).toBe(FAST);
  });

  it('keeps the training backend when every candidate is slower', async () => {
    const choice = await choose(FAST, [TRAINING, SLOW]);
    expect(choice.probes.map((p) => p.backend)).toEqual([FAST, TRAINING, SLOW]);
    expect(choice.backend).toBe(FAST);
  });

  it('probes no other backend when the whole build on the training one would be shorter than minBuildMs', async () => {
    const { probes } = await choose(TRAINING, [FAST]);
    const buildMs = probes[0].msPerImage! * 100;
    const short = await choose(TRAINING, [FAST], { imagesToBuild: 100, minBuildMs: buildMs * 1.5 });
    expect(short).toEqual({ backend: TRAINING, probes: [{ backend: TRAINING, msPerImage: probes[0].msPerImage }] });
    const long = await choose(TRAINING, [FAST], { imagesToBuild: 100, minBuildMs: buildMs * 0.5 });
    expect(long.backend).toBe(FAST);
  });
});

describe('choosing the training backend by timing steps of the plan', () => {
  const TRAINING = registerClocked('clocked-10', 10);
  const FAST = registerClocked('clocked-5', 5);
  const VERY_SLOW = registerClocked('clocked-100', 100);

  afterEach(async () => {
    vi.restoreAllMocks();
    await tf.setBackend('cpu');
  });

  /** A model with conv1/bn1 frozen and the rest trainable, on `backend`. */
  async function planned(backend: string) {
    await tf.setBackend(backend);
    const tiny = createTinyModel();
    const transfer = buildTransferModel(tiny, defaultCutLayer(tiny), 2, 11);
    guardFrozenLayers(transfer.model);
    applyFreezePlan(transfer.model, { conv1: true, bn1: true, relu1: true }, transfer.headLayers);
    return transfer.model;
  }

  it('times a step on each backend, leaves the run’s weights untouched, and picks the fastest', async () => {
    const model = await planned(TRAINING);
    const before = await Promise.all(model.weights.map(async (w) => (await w.read().data()).slice()));
    const tensors = tf.memory().numTensors;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const input = { model, set: images, numClasses: 2, preprocessing, batchSize: 4, batchNormOverrides: {} };
    const choice = await chooseTrainingBackend(input, [FAST, VERY_SLOW, 'no-such-backend']);
    vi.restoreAllMocks();
    expect(tf.getBackend()).toBe(TRAINING);
    expect(choice.probes.map((p) => p.backend)).toEqual([TRAINING, FAST, VERY_SLOW, 'no-such-backend']);
    // The same step on both: times in the ratio of the kernel costs.
    expect(choice.probes[1].msPerStep! / choice.probes[0].msPerStep!).toBeCloseTo(0.5, 10);
    // 100 per kernel: its untimed step is over 4× the fastest timed one, so it is not timed further.
    expect(choice.probes[2]).toMatchObject({ msPerStep: null, error: expect.stringMatching(/first step took \d+ ms, over 4×/) });
    expect(choice.probes[3].msPerStep).toBeNull();
    expect(choice.backend).toBe(FAST);
    const after = await Promise.all(model.weights.map(async (w) => (await w.read().data()).slice()));
    after.forEach((v, i) => expect(v).toEqual(before[i]));
    expect(tf.memory().numTensors).toBe(tensors);
    model.dispose();
  });

  it('moves every weight to the chosen backend bit for bit, and training goes on there', async () => {
    const model = await planned(TRAINING);
    const variables = model.weights.map((w) => w.read() as tf.Variable);
    const before = await Promise.all(variables.map(async (v) => (await v.data()).slice()));
    const tensors = tf.memory().numTensors;
    await moveWeightsTo(FAST, [model, model]);
    expect(tf.getBackend()).toBe(FAST);
    const backendOf = (v: tf.Variable) =>
      (tf.engine() as unknown as { state: { tensorInfo: WeakMap<object, { backend: unknown }> } }).state.tensorInfo.get(v.dataId)!.backend;
    for (const v of variables) expect(backendOf(v)).toBe(tf.findBackend(FAST));
    const after = await Promise.all(variables.map(async (v) => (await v.data()).slice()));
    after.forEach((v, i) => expect(v).toEqual(before[i]));
    expect(tf.memory().numTensors).toBe(tensors);
    const xs = tf.randomUniform([2, 8, 8, 1]);
    const probs = model.apply(xs, { training: true }) as tf.Tensor;
    expect(probs.shape).toEqual([2, 2]);
    tf.dispose([xs, probs]);
    model.dispose();
  });

  it('does not time the active backend when no other can run', async () => {
    const model = await planned(TRAINING);
    const input = { model, set: images, numClasses: 2, preprocessing, batchSize: 4, batchNormOverrides: {} };
    const choice = await chooseTrainingBackend(input, ['no-such-backend', 'broken-train']);
    expect(choice.backend).toBe(TRAINING);
    expect(choice.probes.map((p) => [p.backend, p.msPerStep])).toEqual([
      [TRAINING, null],
      ['no-such-backend', null],
      ['broken-train', null],
    ]);
    expect(tf.getBackend()).toBe(TRAINING);
    model.dispose();
  });

  it('never runs the step on a backend whose memory it does not fit (the wasm heap check), active or candidate', async () => {
    const model = await planned(TRAINING);
    const input = { model, set: images, numClasses: 2, preprocessing, batchSize: 4, batchNormOverrides: {}, unfit: [TRAINING, VERY_SLOW] };
    const choice = await chooseTrainingBackend(input, [FAST, VERY_SLOW]);
    expect(choice.probes.map((p) => p.backend)).toEqual([TRAINING, FAST]);
    expect(choice.probes[0]).toEqual({ backend: TRAINING, msPerStep: null, error: 'not timed: the step does not fit in its memory' });
    expect(choice.probes[1].msPerStep).not.toBeNull();
    expect(choice.backend).toBe(FAST);
    expect(tf.getBackend()).toBe(TRAINING);
    model.dispose();
  });

  it('refuses a backend that cannot start and stays where it was', async () => {
    const model = await planned(TRAINING);
    await expect(moveWeightsTo('broken-train', [model])).rejects.toThrow('The broken-train backend could not start; the run stays on clocked-10.');
    expect(tf.getBackend()).toBe(TRAINING);
    model.dispose();
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
    expect(
      pickFastest([
        { backend: 'webgpu', msPerImage: 10 },
        { backend: 'webgl', msPerImage: 9 },
      ]),
    ).toBe('webgpu');
    expect(
      pickFastest([
        { backend: 'webgpu', msPerImage: 12 },
        { backend: 'webgl', msPerImage: 10 },
      ]),
    ).toBe('webgl');
    expect(
      pickFastest([
        { backend: 'webgpu', msPerImage: 30 },
        { backend: 'webgl', msPerImage: 20 },
        { backend: 'cpu', msPerImage: 5 },
      ]),
    ).toBe('cpu');
    expect(
      pickFastest([
        { backend: 'webgpu', msPerImage: 30 },
        { backend: 'webgl', msPerImage: null, error: 'no context' },
      ]),
    ).toBe('webgpu');
  });
});
