/** app/checkpoints: a run's latest checkpoint kept per project in IndexedDB (fake-indexeddb here), offered after a reload, resumed or kept. */
import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResumeRun, RunCheckpointMessage } from '../client/studioClient';
import { useStudio } from '../store/store';
import { describedModel, layerRow } from '../store/testing/modelDescription';
import {
  discardInterruptedRun,
  keepInterruptedRun,
  lookForInterruptedRun,
  readCheckpoint,
  resumeInterruptedRun,
  startCheckpoints,
  useCheckpointDatabase,
} from './checkpoints';

const setWeights = vi.fn(async () => {});
const train = vi.fn((_resume?: ResumeRun) => 3 as number | null);
vi.mock('./studio', () => ({
  importModelFiles: vi.fn(),
  loadBuiltInModel: vi.fn(),
  loadModelFromUrl: vi.fn(),
  reloadSample: vi.fn(),
  studioClient: () => ({ setWeights, train }),
}));

const model = describedModel('tiny', [layerRow('conv1', 'Conv2D', [4, 4, 8], 80), layerRow('conv2', 'Conv2D', [4, 4, 8], 584)], { defaultCutLayer: 'conv2' });
const s = () => useStudio.getState();
let listeners: ((checkpoint: RunCheckpointMessage) => void)[] = [];
let stop: () => void = () => {};
let dbCount = 0;

/** The studio in run 3 of project p1 (3 epochs planned), with one epoch streamed. */
function runningStudio() {
  s().modelLoaded(model, { conv1: true, conv2: false }, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
  s().projectOpened({ id: 'p1', name: 'pets' });
  s().projectAccessChanged('writer');
  s().runsRestored([]);
  s().runRequested(3, 2, { config: { ...s().config, epochs: 3 } });
  s().runStarted({ backend: 'cpu', optimizerVariables: [], trainableParams: 584, config: { ...s().config, epochs: 3, rateMultipliers: { conv2: 0.5 } } });
  s().batchesArrived([
    { step: 0, epoch: 0, batch: 0, loss: 0.9 },
    { step: 1, epoch: 0, batch: 1, loss: 0.8 },
    { step: 2, epoch: 1, batch: 0, loss: 0.7 },
  ]);
  s().epochArrived({ epoch: 0, trainLoss: 0.85, trainAccuracy: 0.5, validationLoss: 0.8, validationAccuracy: 0.5, millis: 4 });
}

function checkpoint(epoch: number): RunCheckpointMessage {
  const weightData = new Float32Array([epoch, 2, 3]).buffer;
  return {
    type: 'checkpoint',
    runId: 3,
    epoch,
    learningRateFactor: 0.1,
    plan: { conv1: true, conv2: false },
    weights: { weightSpecs: [{ name: 'conv2/bias', shape: [3], dtype: 'float32' }], weightData },
  };
}

/** Resolves once pending IndexedDB work has had its turn. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

beforeEach(() => {
  useCheckpointDatabase(`checkpoints-test-${++dbCount}`);
  setWeights.mockClear();
  train.mockClear();
  listeners = [];
  stop = startCheckpoints({ onCheckpoint: (listener) => (listeners.push(listener), () => {}) });
});
afterEach(() => stop());

describe('checkpoints', () => {
  it('keeps the latest checkpoint of the run for the open project with its history so far, and drops it when the run ends', async () => {
    runningStudio();
    listeners.forEach((l) => l(checkpoint(1)));
    await settle();
    const record = await readCheckpoint('p1');
    expect(record).toMatchObject({
      runId: 3,
      epoch: 1,
      learningRateFactor: 0.1,
      cutLayer: 'conv2',
      workerConfig: { epochs: 3, rateMultipliers: { conv2: 0.5 } },
    });
    // Only what the checkpoint's epoch holds: the batch of epoch 2 (index 1) is not in it.
    expect(record!.history.batchPoints.map((p) => p.step)).toEqual([0, 1]);
    expect(record!.history.epochs).toHaveLength(1);
    expect(Array.from(new Float32Array(record!.weights.weightData))).toEqual([1, 2, 3]);
    s().runEnded({ stopped: false, epochsCompleted: 3, batches: 6, validationLoss: 0.5, validationAccuracy: 1 });
    await settle();
    expect(await readCheckpoint('p1')).toBeUndefined();
  });

  it('writes nothing from a read-only tab, and says so when the storage is full', async () => {
    runningStudio();
    s().projectAccessChanged('read-only');
    listeners.forEach((l) => l(checkpoint(1)));
    await settle();
    expect(await readCheckpoint('p1')).toBeUndefined();
    s().projectAccessChanged('writer');
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    listeners.forEach((l) => l(checkpoint(1)));
    await settle();
    put.mockRestore();
    expect(s().checkpointProblem).toMatch(/storage is full \(needed ~1 MB\)/);
  });

  it('after a reload offers the run; Keep makes it the last run, stopped after its epoch, and deletes the checkpoint', async () => {
    runningStudio();
    listeners.forEach((l) => l(checkpoint(1)));
    await settle();
    // "Reload": the project reopened, nothing running.
    s().modelLoaded(model, { conv1: true, conv2: false }, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
    await lookForInterruptedRun();
    expect(s().interruptedRun).toMatchObject({ runId: 3, epoch: 1, epochsPlanned: 3, resumeBlocker: null });
    expect(await keepInterruptedRun()).toBeNull();
    expect(setWeights).toHaveBeenCalledTimes(1);
    expect(setWeights.mock.calls[0]).toMatchObject([
      { cutLayer: 'conv2', plan: { conv1: true, conv2: false } },
      { weightSpecs: [{ name: 'conv2/bias' }] },
      false,
    ]);
    expect(s()).toMatchObject({ runStatus: 'done', runId: 3, runOutcome: { stopped: true, epochsCompleted: 1, restoredEpoch: 1 }, interruptedRun: null });
    expect(s().runs.map((r) => [r.runId, r.stopped, r.epochs.length])).toEqual([[3, true, 1]]);
    expect(await readCheckpoint('p1')).toBeUndefined();
  });

  it('Resume puts the checkpoint back and trains on from its epoch with its history; Discard only drops it', async () => {
    runningStudio();
    listeners.forEach((l) => l(checkpoint(2)));
    await settle();
    s().modelLoaded(model, { conv1: true, conv2: false }, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
    await lookForInterruptedRun();
    expect(await resumeInterruptedRun()).toBeNull();
    expect(setWeights).toHaveBeenCalledTimes(1);
    const resume = train.mock.calls[0][0]!;
    expect(resume).toMatchObject({ runId: 3, epoch: 2, learningRateFactor: 0.1, plan: { conv1: true, conv2: false }, workerConfig: { epochs: 3 } });
    expect(resume.resumed.epochs).toHaveLength(1);
    expect(s().interruptedRun).toBeNull();

    await lookForInterruptedRun();
    expect(s().interruptedRun?.runId).toBe(3);
    await discardInterruptedRun();
    expect(s().interruptedRun).toBeNull();
    expect(await readCheckpoint('p1')).toBeUndefined();
  });
});
