import { describe, expect, it } from 'vitest';
import type { StudioClient } from '../client/studioClient';
import { splitDataset } from '../data/datasetSplit';
import { stratifiedSplit } from '../data/split';
import { createStudioStore, type DatasetImage } from '../store/store';
import type { ModelDescription, WireImageSet } from '../worker/protocol';
import { canEvaluate, evaluateLastRun } from './evaluate';

const model: ModelDescription = {
  name: 'tiny',
  layers: [],
  defaultCutLayer: 'gap',
  inputShape: { height: 2, width: 2, channels: 1 },
  preprocessing: { range: [0, 1], resize: 'stretch' },
  provenance: null,
  sourceHash: 'ab',
  cutCandidates: ['gap'],
  layerCount: 1,
};

const image = (id: number, className: string, value: number): DatasetImage => ({ id, path: `${className}/${id}.png`, className, pixels: new Uint8Array(4).fill(value) });

/** A client whose predict answers each image with [v/255, 1 − v/255] from its first pixel; `calls` records the sets it got. */
function fakeClient(onPredict?: () => void) {
  const calls: WireImageSet[] = [];
  const client = {
    async predict(images: WireImageSet) {
      calls.push(images);
      onPredict?.();
      const count = images.labels.length;
      const probabilities = new Float32Array(count * 2);
      for (let i = 0; i < count; i++) {
        const p = images.pixels[i * 4] / 255;
        probabilities.set([p, 1 - p], i * 2);
      }
      return { probabilities, numClasses: 2 };
    },
  } as unknown as StudioClient;
  return { client, calls };
}

function storeWithRun() {
  const store = createStudioStore();
  const s = store.getState();
  s.modelLoaded(model, {}, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
  s.runRequested(1, 1);
  const validation = { images: [image(1, 'a', 255), image(2, 'b', 0), image(3, 'b', 200)], labels: Int32Array.from([0, 1, 1]) };
  const test = { images: [image(4, 'a', 100)], labels: Int32Array.from([0]) };
  store.getState().evaluationPrepared(1, ['a', 'b'], validation, test);
  return store;
}

describe('evaluateLastRun', () => {
  it('waits for the run to end, then predicts the validation and test images and stores their probabilities', async () => {
    const store = storeWithRun();
    const { client, calls } = fakeClient();
    expect(canEvaluate(store.getState())).toBe(false);
    await evaluateLastRun(client, store);
    expect(calls).toHaveLength(0);

    store.getState().runEnded({ stopped: false, epochsCompleted: 1, batches: 1, validationLoss: 0.1, validationAccuracy: 1 });
    expect(canEvaluate(store.getState())).toBe(true);
    await evaluateLastRun(client, store);
    expect(calls.map((c) => c.labels.length)).toEqual([3, 1]);
    expect(calls[0].shape).toEqual({ height: 2, width: 2, channels: 1 });
    expect(Array.from(calls[0].pixels)).toEqual([255, 255, 255, 255, 0, 0, 0, 0, 200, 200, 200, 200]);
    const evaluation = store.getState().evaluation!;
    expect(evaluation.status).toBe('done');
    expect(Array.from(evaluation.validation!.probabilities!)).toEqual([1, 0, 0, 1, expect.closeTo(200 / 255, 6), expect.closeTo(55 / 255, 6)]);
    expect(evaluation.test!.probabilities![0]).toBeCloseTo(100 / 255, 6);
    // Done: a second call does nothing.
    await evaluateLastRun(client, store);
    expect(calls).toHaveLength(2);
  });

  it('drops the results of a run that a new run replaced meanwhile', async () => {
    const store = storeWithRun();
    store.getState().runEnded({ stopped: true, epochsCompleted: 0, batches: 1, validationLoss: null, validationAccuracy: null });
    const { client } = fakeClient(() => {
      if (store.getState().runId === 1) {
        store.getState().runRequested(2, 1);
        store.getState().evaluationPrepared(2, ['a', 'b'], null, null);
      }
    });
    await evaluateLastRun(client, store);
    expect(store.getState().evaluation).toMatchObject({ runId: 2, status: 'pending', validation: null });
  });

  it('stores why the worker refused, and can be tried again', async () => {
    const store = storeWithRun();
    store.getState().runEnded({ stopped: false, epochsCompleted: 1, batches: 1, validationLoss: 0.1, validationAccuracy: 1 });
    const refusing = { predict: async () => Promise.reject(new Error('No model has been trained since this model was loaded.')) } as unknown as StudioClient;
    await evaluateLastRun(refusing, store);
    expect(store.getState().evaluation).toMatchObject({ status: 'failed', error: 'Evaluation failed: No model has been trained since this model was loaded.' });
    expect(canEvaluate(store.getState())).toBe(true);
    await evaluateLastRun(fakeClient().client, store);
    expect(store.getState().evaluation).toMatchObject({ status: 'done', error: null });
  });

  it('is cleared by a new run and by a model load', () => {
    const store = storeWithRun();
    store.getState().runRequested(2, 1);
    expect(store.getState().evaluation).toBeNull();
    store.getState().evaluationPrepared(2, ['a', 'b'], null, null);
    store.getState().modelLoaded(model, {}, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
    expect(store.getState().evaluation).toBeNull();
  });
});

describe('splitDataset', () => {
  it('is the stratified split of the images by class index, as training uses it', () => {
    const images = Array.from({ length: 20 }, (_, i) => ({ className: i % 3 === 0 ? 'b' : 'a' }));
    const options = { images, classNames: ['a', 'b'], validationFraction: 0.2, testFraction: 0.1, splitSeed: 5 };
    const { labels, split } = splitDataset(options);
    expect(Array.from(labels)).toEqual(images.map((im) => (im.className === 'a' ? 0 : 1)));
    expect(split).toEqual(stratifiedSplit(labels, { validationFraction: 0.2, testFraction: 0.1, seed: 5 }));
    expect(split.test.length).toBeGreaterThan(0);
  });

  it('names an image class missing from the class list', () => {
    expect(() => splitDataset({ images: [{ className: 'zebra' }], classNames: ['a'], validationFraction: 0.2, testFraction: 0, splitSeed: 1 })).toThrow(/'zebra' is not among the classes \(a\)/);
  });
});
