import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { imageSource } from './batchSource';
import { trainRun, type TrainableRun } from './trainer';
import { applyFreezePlan } from './freeze';
import { guardFrozenLayers, setBatchNormOverrides } from './frozenLayers';
import { featureCacheBlocker } from './featureCache';
import { buildTransferModel, defaultCutLayer } from './head';
import { bitIdentical, createTinyImages, createTinyModel, snapshotWeights } from './testing/tinyModel';
import type { FreezePlan, Preprocessing, TrainConfig, TrainableChange } from '../core/types';

const preprocessing: Preprocessing = { range: [0, 1], resize: 'stretch' };
const train = createTinyImages(32, 2, 1);
const validation = createTinyImages(8, 2, 2);
const base: TrainConfig = { epochs: 3, batchSize: 8, learningRate: 0.01, seed: 5 };
const HEAD_ONLY: FreezePlan = { conv1: true, bn1: true, relu1: true, conv2: true, bn2: true, relu2: true, flatten: true };
/** Batches per epoch of `train` at batch size 8. */
const PER_EPOCH = 4;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function prepare(plan: FreezePlan): TrainableRun {
  const tiny = createTinyModel();
  const transfer = buildTransferModel(tiny, defaultCutLayer(tiny), 2, 11);
  guardFrozenLayers(transfer.model);
  applyFreezePlan(transfer.model, plan, transfer.headLayers);
  const model = transfer.model;
  current = model;
  const target = { model, train: imageSource(train, 2, preprocessing), validation: imageSource(validation, 2, preprocessing) };
  return { model, headLayers: transfer.headLayers, currentTarget: () => target };
}

let current: tf.LayersModel;

/** Names of the weights of `layer` (of the model prepared last) that differ between two snapshots, without tfjs' numeric suffixes. */
function moved(before: Map<string, Float32Array>, after: Map<string, Float32Array>, layer: string): string[] {
  return weightsOf(current, layer)
    .filter((name) => !bitIdentical(before.get(name)!, after.get(name)!))
    .map(plain);
}

/** 'bn2/moving_mean_7' → 'bn2/moving_mean' (tfjs numbers repeated weight names). */
function plain(name: string): string {
  return name.replace(/_\d+$/, '');
}

function weightsOf(model: tf.LayersModel, layer: string): string[] {
  return model.getLayer(layer).weights.map((w) => w.name);
}

describe('unfreezing schedule', () => {
  it('changes the trainable set exactly at the first batch of the chosen epoch, and not before', async () => {
    const run = prepare(HEAD_ONLY);
    const start = await snapshotWeights(run.model);
    const changes: TrainableChange[] = [];
    const trainedAt: number[] = [];
    let atEpochOne: Map<string, Float32Array> | null = null;
    const result = await trainRun(
      run,
      {
        ...base,
        unfreezeSchedule: [{ epoch: 2, unfreeze: ['conv2', 'bn2'], label: 'unfreeze conv2 and up' }],
      },
      {
        onTrainableChange: (change) => changes.push(change),
        onBatch: (point) => {
          if (run.model.getLayer('conv2').trainable) trainedAt.push(point.step);
        },
        onEpoch: (metrics) => {
          if (metrics.epoch === 1) atEpochOne = new Map([...run.model.weights].map((w) => [w.name, new Float32Array(0)]));
        },
      },
    );
    expect(result.epochsCompleted).toBe(3);
    expect(atEpochOne).not.toBeNull();
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ step: 2 * PER_EPOCH, epoch: 2, batch: 0, cause: 'schedule', label: 'unfreeze conv2 and up', learningRateFactor: 1 });
    // conv2 trains from step 8 on: the batches of epoch 3 exactly.
    expect(trainedAt).toEqual([8, 9, 10, 11]);
    expect(changes[0].optimizerVariables.map((v) => plain(v.name))).toEqual(expect.arrayContaining(['conv2/kernel', 'conv2/bias', 'bn2/gamma', 'bn2/beta']));
    const end = await snapshotWeights(run.model);
    expect(moved(start, end, 'conv2')).toEqual(weightsOf(run.model, 'conv2').map(plain));
    expect(moved(start, end, 'conv1')).toEqual([]);
    expect(moved(start, end, 'bn1')).toEqual([]);
  });

  it('keeps an unfrozen layer still until its epoch: stopped just before the step, conv2 is bit-identical', async () => {
    const run = prepare(HEAD_ONLY);
    const start = await snapshotWeights(run.model);
    let batches = 0;
    const result = await trainRun(
      run,
      {
        ...base,
        unfreezeSchedule: [{ epoch: 2, unfreeze: ['conv2', 'bn2'], label: 'unfreeze conv2' }],
      },
      { onBatch: () => batches++, shouldStop: () => batches >= 2 * PER_EPOCH },
    );
    expect(result.stopped).toBe(true);
    const end = await snapshotWeights(run.model);
    expect(moved(start, end, 'conv2')).toEqual([]);
    expect(moved(start, end, 'bn2')).toEqual([]);
  });

  it('restores newly unfrozen layers with the best weights: a step that ruins the run puts conv2 back to its start', async () => {
    const run = prepare(HEAD_ONLY);
    const start = await snapshotWeights(run.model);
    const result = await trainRun(run, {
      ...base,
      epochs: 4,
      optimizer: 'sgd',
      learningRate: 0.05,
      earlyStopping: { patience: 1 },
      // A factor of 2,000 makes the second phase diverge: its epoch is worse (or NaN) and the run keeps epoch 1's weights.
      unfreezeSchedule: [{ epoch: 1, unfreeze: ['conv1', 'bn1', 'conv2', 'bn2'], learningRateFactor: 2000, label: 'unfreeze all · lr ×2000' }],
    });
    expect(result.restored).toBe(true);
    expect(result.restoredEpoch).toBe(1);
    const end = await snapshotWeights(run.model);
    for (const layer of ['conv1', 'bn1', 'conv2', 'bn2']) expect(moved(start, end, layer)).toEqual([]);
  });

  it('refuses a step outside the run, naming it and the valid epochs', async () => {
    const run = prepare(HEAD_ONLY);
    await expect(trainRun(run, { ...base, unfreezeSchedule: [{ epoch: 3, unfreeze: ['conv2'], label: 'late' }] })).rejects.toThrow(
      'The schedule step "late" is at epoch 4, outside a run of 3 epochs; put it at epoch 2 to 3.',
    );
  });
});

describe('live freezing', () => {
  it('applies a live plan at the next batch boundary with a fresh Adam for the new set, and leaks nothing', async () => {
    const run = prepare(HEAD_ONLY);
    const start = await snapshotWeights(run.model);
    const before = tf.memory().numTensors;
    const changes: TrainableChange[] = [];
    let batches = 0;
    const pending: FreezePlan[] = [];
    const result = await trainRun(
      run,
      { ...base, optimizer: 'adam' },
      {
        onBatch: () => {
          batches++;
          // Grow the set after batch 3, shrink it again after batch 7 (Adam's slots are by position: reuse would break).
          if (batches === 3) pending.push({ conv2: false, bn2: false });
          if (batches === 7) pending.push({ conv2: true, bn2: true });
        },
        takeLivePlan: () => {
          const plan = pending.shift();
          return plan ? { plan } : null;
        },
        onTrainableChange: (change) => changes.push(change),
      },
    );
    expect(result.epochsCompleted).toBe(3);
    expect(changes.map((c) => [c.step, c.cause, c.label])).toEqual([
      [3, 'live', 'unfreeze conv2 and bn2'],
      [7, 'live', 'freeze conv2 and bn2'],
    ]);
    expect(changes[0].trainableParams).toBeGreaterThan(changes[1].trainableParams);
    expect(changes[1].optimizerVariables.map((v) => plain(v.name))).not.toContain('conv2/kernel');
    // Every optimizer (and its slots) was disposed: only the model's own tensors remain.
    expect(tf.memory().numTensors).toBe(before);
    const end = await snapshotWeights(run.model);
    expect(moved(start, end, 'conv2').length).toBeGreaterThan(0);
    expect(moved(start, end, 'conv1')).toEqual([]);
  });
});

describe('per-group learning rates', () => {
  it('a layer with multiplier 0 does not move, and is not in the optimizer', async () => {
    const run = prepare({});
    const start = await snapshotWeights(run.model);
    const result = await trainRun(run, { ...base, rateMultipliers: { conv1: 0 } });
    const end = await snapshotWeights(run.model);
    expect(moved(start, end, 'conv1')).toEqual([]);
    expect(moved(start, end, 'conv2').length).toBeGreaterThan(0);
    expect(result.optimizerVariables.map((v) => plain(v.name))).not.toContain('conv1/kernel');
  });

  it('SGD moves a layer with multiplier 0.25 by a quarter of its step at multiplier 1 (first step)', async () => {
    const firstStep = async (multiplier: number) => {
      const run = prepare({});
      const start = await snapshotWeights(run.model);
      let steps = 0;
      await trainRun(run, { ...base, optimizer: 'sgd', rateMultipliers: { conv2: multiplier } }, { onBatch: () => steps++, shouldStop: () => steps >= 1 });
      const end = await snapshotWeights(run.model);
      const kernel = weightsOf(run.model, 'conv2').find((name) => plain(name) === 'conv2/kernel')!;
      return { conv2: end.get(kernel)!.map((v, i) => v - start.get(kernel)![i]) };
    };
    const full = await firstStep(1);
    const quarter = await firstStep(0.25);
    let compared = 0;
    full.conv2.forEach((delta, i) => {
      if (Math.abs(delta) > 1e-6) {
        expect(quarter.conv2[i]).toBeCloseTo(delta / 4, 6);
        compared++;
      }
    });
    expect(compared).toBeGreaterThan(10);
  });
});

describe('BatchNorm override', () => {
  it("a frozen BN set to 'train-stats' updates its moving statistics only; other frozen BN layers stay bit-identical", async () => {
    const run = prepare(HEAD_ONLY);
    setBatchNormOverrides(run.model, { bn2: 'train-stats' });
    expect(featureCacheBlocker(run.model, run.headLayers)).toBe("'bn2' trains its BatchNorm statistics");
    const start = await snapshotWeights(run.model);
    await trainRun(run, base);
    const end = await snapshotWeights(run.model);
    expect(moved(start, end, 'bn2').sort()).toEqual(['bn2/moving_mean', 'bn2/moving_variance']);
    expect(moved(start, end, 'bn1')).toEqual([]);
    expect(moved(start, end, 'conv2')).toEqual([]);
  });
});

describe('pause', () => {
  it('waits at the boundary, leaves the curve unchanged and keeps the wait out of the epoch time', async () => {
    // A virtual clock instead of the wall clock: each batch takes 10 ms on it and the pause 400 ms, so epoch times are exact.
    let clock = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const losses = async (pauseAt: number | null) => {
      const run = prepare(HEAD_ONLY);
      const out: number[] = [];
      const millis: number[] = [];
      let waited = false;
      await trainRun(
        run,
        { ...base, epochs: 1 },
        {
          onBatch: (p) => {
            out.push(p.loss);
            clock += 10;
          },
          onEpoch: (m) => millis.push(m.millis),
          pauseGate: () => {
            if (pauseAt === null || waited || out.length !== pauseAt) return null;
            waited = true;
            return new Promise((resolve) =>
              setTimeout(() => {
                clock += 400;
                resolve();
              }, 0),
            );
          },
        },
      );
      return { out, millis: millis[0], waited };
    };
    try {
      const plain = await losses(null);
      const paused = await losses(2);
      expect(paused.waited).toBe(true);
      expect(paused.out).toEqual(plain.out);
      expect(plain.millis).toBe(PER_EPOCH * 10);
      expect(paused.millis).toBe(plain.millis);
    } finally {
      vi.restoreAllMocks();
    }
  });
});

describe('seed', () => {
  it('the same seed, data and backend give the same curve; another seed gives another', async () => {
    const curve = async (seed: number) => {
      const losses: number[] = [];
      const tiny = createTinyModel();
      const transfer = buildTransferModel(tiny, defaultCutLayer(tiny), 2, seed);
      guardFrozenLayers(transfer.model);
      const target = { model: transfer.model, train: imageSource(train, 2, preprocessing), validation: null };
      await trainRun(
        { model: transfer.model, headLayers: transfer.headLayers, currentTarget: () => target },
        { ...base, epochs: 2, seed },
        { onBatch: (p) => losses.push(p.loss) },
      );
      return losses;
    };
    const first = await curve(21);
    expect(await curve(21)).toEqual(first);
    expect(await curve(22)).not.toEqual(first);
  });
});

describe('a block at learning-rate multiplier 0 is still, all of it (issue 11)', () => {
  it('runs in inference mode like a frozen block: its BatchNorm statistics stay bit-identical, and it holds no optimizer slot', async () => {
    // conv2 + bn2 at multiplier 0 while conv1/bn1 before them and the head after them train: batches flow through bn2.
    const run = prepare({});
    const start = await snapshotWeights(run.model);
    const result = await trainRun(run, { ...base, rateMultipliers: { conv2: 0, bn2: 0, relu2: 0 } });
    const end = await snapshotWeights(run.model);
    expect(moved(start, end, 'bn2')).toEqual([]);
    expect(moved(start, end, 'conv2')).toEqual([]);
    expect(moved(start, end, 'bn1').length).toBeGreaterThan(0);
    expect(result.optimizerVariables.map((v) => plain(v.name).split('/')[0])).not.toContain('bn2');
  });

  it('stays still after a schedule step that unfreezes it', async () => {
    const run = prepare(HEAD_ONLY);
    const start = await snapshotWeights(run.model);
    await trainRun(run, {
      ...base,
      rateMultipliers: { conv2: 0, bn2: 0 },
      unfreezeSchedule: [{ epoch: 1, unfreeze: ['conv2', 'bn2', 'relu2', 'flatten'], label: 'unfreeze top' }],
    });
    const end = await snapshotWeights(run.model);
    expect(moved(start, end, 'bn2')).toEqual([]);
    expect(moved(start, end, 'conv2')).toEqual([]);
  });
});

describe("BatchNorm mode 'inference' (the Keras fine-tuning rule, issue 11)", () => {
  it('a trained BN layer in inference mode moves gamma and beta but keeps its moving statistics bit-identical', async () => {
    const run = prepare({ conv1: true, bn1: true });
    setBatchNormOverrides(run.model, { bn2: 'inference' });
    const start = await snapshotWeights(run.model);
    await trainRun(run, base);
    const end = await snapshotWeights(run.model);
    expect(moved(start, end, 'bn2').sort()).toEqual(['bn2/beta', 'bn2/gamma']);
  });
});

describe('a live change that leaves nothing to train (issue 11)', () => {
  it('ends the run cleanly at that boundary with the best weights restored, instead of failing', async () => {
    const tiny = createTinyModel();
    guardFrozenLayers(tiny);
    current = tiny;
    const target = { model: tiny, train: imageSource(train, 2, preprocessing), validation: imageSource(validation, 2, preprocessing) };
    const run: TrainableRun = { model: tiny, headLayers: new Set(), currentTarget: () => target };
    const everything: FreezePlan = Object.fromEntries(tiny.layers.map((l) => [l.name, true]));
    let batches = 0;
    const epochLosses: number[] = [];
    const result = await trainRun(
      run,
      { ...base, epochs: 4 },
      {
        onBatch: () => batches++,
        onEpoch: (m) => epochLosses.push(m.validationLoss!),
        // Freeze every layer in the middle of epoch 3.
        takeLivePlan: () => (batches === 2 * PER_EPOCH + 2 ? { plan: everything } : null),
      },
    );
    expect(result.failure).toBeNull();
    expect(result.stopped).toBe(true);
    expect(result.endNote).toMatch(/epoch 3, batch 3 .*left nothing to train/);
    expect(result.epochsCompleted).toBe(2);
    expect(result.restoredEpoch).toBe(epochLosses.indexOf(Math.min(...epochLosses)) + 1);
    expect(result.validationLoss).toBe(Math.min(...epochLosses));
  });
});
