/** app/projectFile: what a project keeps of the store (snapshotOfStudio), and that it writes and reads back as a project file. */
import { describe, expect, it, vi } from 'vitest';
import { fixtureArtifacts } from '../core/projectFixture';
import { readProjectFile, writeProjectFile } from '../data/projectFile';
import { createStudioStore } from '../store/store';
import type { ModelDescription } from '../worker/protocol';
import { snapshotOfStudio } from './projectFile';

// studio.ts starts the worker and reads document.baseURI: not in Node, and not what is tested here.
vi.mock('./studio', () => ({
  importModelFiles: vi.fn(),
  loadBuiltInModel: vi.fn(),
  loadModelFromUrl: vi.fn(),
  reloadSample: vi.fn(),
  studioClient: vi.fn(),
}));

const layer = (name: string, trainableParams: number, className = 'Conv2D') => ({
  name,
  className,
  outputShape: [4, 4, 8],
  trainableParams,
  nonTrainableParams: 0,
  frozenInSource: false,
  origin: 'pretrained' as const,
  parent: null,
});

const model: ModelDescription = {
  name: 'tiny',
  layers: [layer('conv1', 80), layer('bn1', 16, 'BatchNormalization'), layer('conv2', 584), { ...layer('gap', 0, 'GlobalAveragePooling2D'), outputShape: [8] }],
  defaultCutLayer: 'gap',
  inputShape: { height: 8, width: 8, channels: 3 },
  preprocessing: { range: [-1, 1], resize: 'center-crop' },
  provenance: null,
  sourceHash: 'ab',
  cutCandidates: ['gap'],
  layerCount: 4,
};

const png = (n: number) => new Blob([Uint8Array.from({ length: 20 + n }, (_, i) => (i * 7 + n) & 255)], { type: 'image/png' });
const pixels = () => new Uint8Array(8 * 8 * 3);

/** A store with an imported model, edited settings, a user dataset of two classes (with clashing file names), and one finished run. */
function filledStore() {
  const store = createStudioStore();
  const s = () => store.getState();
  const modelFiles = [new File(['{"format":"layers-model"}'], 'model.json'), new File([new Uint8Array(96)], 'group1-shard1of1.bin')];
  s().modelLoaded(model, { conv1: true, bn1: true, conv2: false, gap: false }, { kind: 'files', fileName: 'model.json', files: modelFiles });
  s().setLayerFrozen('conv2', true);
  s().setHead({ hiddenUnits: 16, dropout: 0.25 });
  s().setPreprocessing({ resize: 'stretch' });
  s().setBatchNormOverride('bn1', 'train-stats');
  s().setConfig({ epochs: 3, learningRate: 0.01 });
  s().setAutoEpochs(false);
  s().setScheduleSteps([{ epoch: 2, fromBlock: 'conv2', learningRateFactor: 0.1 }]);
  s().setBlockMultipliers({ conv2: 0.5 });
  s().addUserImages(
    'pets',
    [
      { path: 'pets/dog/1.png', className: 'dog', pixels: pixels(), source: png(1), hash: 'a'.repeat(64) },
      { path: 'pets/cat/1.png', className: 'cat', pixels: pixels(), source: png(2), hash: 'b'.repeat(64) },
      { path: 'more/cat/1.png', className: 'cat', pixels: pixels(), source: png(3), hash: 'c'.repeat(64) },
    ],
    [{ path: 'pets/cat/notes.txt', reason: "'pets/cat/notes.txt' is not an image. It was skipped." }],
    [],
  );
  s().setValidationFraction(0.3);
  s().setTestFraction(0.1);
  s().runRequested(1, 2);
  s().runStarted({ backend: 'cpu', optimizerVariables: [], trainableParams: 18 });
  s().epochArrived({ epoch: 0, trainLoss: 1, trainAccuracy: 0.5, validationLoss: 0.8, validationAccuracy: 0.6, millis: 10 });
  s().runEnded({ stopped: false, epochsCompleted: 1, batches: 2, validationLoss: 0.8, validationAccuracy: 0.6 });
  return store;
}

describe('snapshotOfStudio', () => {
  it('takes the model, its settings, the dataset with each original file, the split and the runs from the store', async () => {
    const state = filledStore().getState();
    const { snapshot, parts } = await snapshotOfStudio(state, { savedAt: new Date('2025-02-03T04:05:06.000Z') });
    expect(snapshot).toMatchObject({ format: 'transfer-studio-project', schemaVersion: 2, name: 'pets', savedAt: '2025-02-03T04:05:06.000Z' });
    expect(snapshot.model).toEqual({
      name: 'tiny',
      source: {
        kind: 'files',
        fileName: 'model.json',
        files: [
          { name: 'model.json', file: { part: 'model/model.json', bytes: 25 } },
          { name: 'group1-shard1of1.bin', file: { part: 'model/group1-shard1of1.bin', bytes: 96 } },
        ],
      },
      sourceHash: 'ab',
      cutLayer: 'gap',
      head: state.head,
      preprocessing: { range: [-1, 1], resize: 'stretch' },
      freezePlan: { conv1: true, bn1: true, conv2: true, gap: false },
      batchNormModes: { bn1: 'train-stats' },
    });
    expect(snapshot.model!.head).toMatchObject({ hiddenUnits: 16, dropout: 0.25 });
    expect(snapshot.training).toEqual({
      config: state.config,
      autoEpochs: false,
      scheduleSteps: [{ epoch: 2, fromBlock: 'conv2', learningRateFactor: 0.1 }],
      blockMultipliers: { conv2: 0.5 },
    });
    expect(snapshot.training.config).toMatchObject({ epochs: 3, learningRate: 0.01 });
    const { dataset } = snapshot;
    expect(dataset).toMatchObject({ name: 'pets', source: 'user', fromSample: false, classNames: ['cat', 'dog'], validationFraction: 0.3, testFraction: 0.1 });
    expect(dataset.splitSeed).toBe(state.splitSeed);
    expect(dataset.rejected).toEqual(state.rejected);
    // Same file name in one class: the second gets ' (2)'; each part holds the original file's bytes.
    expect(dataset.images.map((image) => [image.className, image.path, image.file?.part, image.hash?.[0]])).toEqual([
      ['dog', 'pets/dog/1.png', 'dataset/dog/1.png', 'a'],
      ['cat', 'pets/cat/1.png', 'dataset/cat/1.png', 'b'],
      ['cat', 'more/cat/1.png', 'dataset/cat/1 (2).png', 'c'],
    ]);
    expect(dataset.images.map((image) => image.id)).toEqual(state.images.map((image) => image.id));
    expect([...parts.get('dataset/cat/1 (2).png')!]).toEqual([...new Uint8Array(await png(3).arrayBuffer())]);
    expect(parts.get('model/group1-shard1of1.bin')!.length).toBe(96);
    expect(snapshot.runs).toEqual(state.runs);
    expect(snapshot.runs).toHaveLength(1);
    expect(snapshot.weights).toBeNull();
    expect(snapshot.evaluation).toBeNull();
    expect([...parts.keys()].sort()).toEqual(
      ['dataset/cat/1 (2).png', 'dataset/cat/1.png', 'dataset/dog/1.png', 'model/group1-shard1of1.bin', 'model/model.json'].sort(),
    );
  });

  it('adds the last run’s trained weights when it is done, and writes a file that reads back the same', async () => {
    const state = filledStore().getState();
    const { snapshot, parts } = await snapshotOfStudio(state, { weights: fixtureArtifacts() });
    expect(snapshot.weights).toMatchObject({
      runId: 1,
      classNames: ['cat', 'dog'],
      modelJson: { part: 'weights/model.json' },
      weightsBin: { part: 'weights/weights.bin' },
    });
    expect(snapshot.weights!.trainedOnIds).toEqual([...state.trainedOnIds]);
    const written = writeProjectFile(snapshot, parts);
    if (!written.ok) throw new Error(written.reason);
    const read = await readProjectFile(written.bytes, 'pets.transfer-project.zip');
    if (!read.ok) throw new Error(read.reason);
    expect(read.snapshot).toEqual(JSON.parse(JSON.stringify(snapshot)));
    expect([...read.parts.keys()].sort()).toEqual([...parts.keys()].sort());
  });

  it('names a built-in model by id, keeps the sample’s images without files, and has no model before one loads', async () => {
    const store = createStudioStore();
    expect((await snapshotOfStudio(store.getState())).snapshot.model).toBeNull();
    store.getState().modelLoaded(model, {}, { kind: 'builtin', id: 'digits', label: 'Digits CNN' });
    store.getState().loadSample('digits', [{ path: 'sample/5/0001', className: '5', pixels: pixels() }]);
    const { snapshot, parts } = await snapshotOfStudio(store.getState());
    expect(snapshot.model!.source).toEqual({ kind: 'builtin', id: 'digits', label: 'Digits CNN' });
    expect(snapshot.dataset).toMatchObject({ source: 'sample', classNames: ['5'], images: [{ path: 'sample/5/0001', hash: null, file: null }] });
    expect(parts.size).toBe(0);
    expect(writeProjectFile(snapshot, parts).ok).toBe(true);
  });

  it('opening puts the classes back in the file’s order before the images are added, and the next run’s id after the restored runs', () => {
    const runs = filledStore().getState().runs;
    const store = createStudioStore();
    const s = () => store.getState();
    s().datasetRestored({ name: 'pets', classNames: ['dog', 'cat'], fromSample: false, validationFraction: 0.3, testFraction: 0.1, splitSeed: 7 });
    s().addUserImages('pets', [{ path: 'pets/cat/1.png', className: 'cat', pixels: pixels() }], [], []);
    expect(s()).toMatchObject({
      datasetSource: 'user',
      datasetName: 'pets',
      classNames: ['dog', 'cat'],
      validationFraction: 0.3,
      testFraction: 0.1,
      splitSeed: 7,
    });
    s().runsRestored(runs);
    expect(s().runs).toEqual(runs);
    expect(s().runId).toBe(1);
  });
});
