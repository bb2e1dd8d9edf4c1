import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyFreezePlan } from './freeze';
import { guardFrozenLayers } from './frozenLayers';
import { buildTransferModel, defaultCutLayer } from './head';
import { bitIdentical, createTinyImages, createTinyModel, snapshotWeights } from './testing/tinyModel';
import { createOptimizer, disposeOptimizer, setLearningRate } from './optimizers';
import { trainModel } from './trainer';
import type { FreezePlan, OptimizerName, Preprocessing, TrainConfig } from '../core/types';

const base: TrainConfig = { epochs: 2, batchSize: 8, learningRate: 0.01, seed: 3 };
const preprocessing: Preprocessing = { range: [0, 1], resize: 'stretch' };
const train = createTinyImages(40, 2, 1);
const validation = createTinyImages(10, 2, 2);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function prepare(plan: FreezePlan = {}) {
  const transferBase = createTinyModel();
  const transfer = buildTransferModel(transferBase, defaultCutLayer(transferBase), 2, 11);
  guardFrozenLayers(transfer.model);
  applyFreezePlan(transfer.model, plan, transfer.headLayers);
  return transfer.model;
}

/** Synchronous copies of every weight (clones share the data; assign() later gives the variable new data). */
function cloneWeights(model: tf.LayersModel): Map<string, tf.Tensor> {
  return new Map(model.weights.map((w) => [w.name, tf.clone(w.read())]));
}

async function readClones(clones: Map<string, tf.Tensor>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of clones) out.set(name, Float32Array.from((await t.data()) as Float32Array));
  return out;
}

function differing(a: Map<string, Float32Array>, b: Map<string, Float32Array>): string[] {
  return [...a.keys()].filter((name) => !bitIdentical(a.get(name)!, b.get(name)!));
}

/** Runs one step on x (starting at 0) with loss = sum(x) (gradient 1), returns how far x moved. */
async function stepSizes(name: OptimizerName, rates: number[]): Promise<number[]> {
  const optimizer = createOptimizer({ ...base, optimizer: name, learningRate: rates[0] });
  const x = tf.tidy(() => tf.variable(tf.zeros([1]), true, `step-size-${name}-${Math.random()}`));
  const moves: number[] = [];
  try {
    for (const rate of rates) {
      setLearningRate(optimizer, rate);
      const before = (await x.data())[0];
      optimizer.minimize(() => x.sum() as tf.Scalar, false, [x]);
      moves.push(before - (await x.data())[0]);
    }
  } finally {
    disposeOptimizer(optimizer);
    x.dispose();
  }
  return moves;
}

describe('optimizers and per-step learning rates', () => {
  it('SGD steps by exactly the rate set before each step', async () => {
    const moves = await stepSizes('sgd', [0.5, 0.25, 0.125]);
    expect(moves[0]).toBeCloseTo(0.5, 6);
    expect(moves[1]).toBeCloseTo(0.25, 6);
    expect(moves[2]).toBeCloseTo(0.125, 6);
  });

  it('momentum 0.9 uses the new rate on its accumulated gradient (1, then 1.9, then 2.71)', async () => {
    const moves = await stepSizes('momentum', [0.5, 0.25, 0.125]);
    expect(moves[0]).toBeCloseTo(0.5, 6);
    expect(moves[1]).toBeCloseTo(0.25 * 1.9, 6);
    expect(moves[2]).toBeCloseTo(0.125 * 2.71, 5);
  });

  it('Adam (normalised step ≈ 1 under a constant gradient) follows the assigned rate', async () => {
    const moves = await stepSizes('adam', [0.5, 0.25, 0.125]);
    expect(moves[0]).toBeCloseTo(0.5, 4);
    expect(moves[1]).toBeCloseTo(0.25, 4);
    expect(moves[2]).toBeCloseTo(0.125, 4);
  });

  it('leaves no tensor behind for any optimizer (MomentumOptimizer.dispose forgets its rate scalar)', async () => {
    const start = tf.memory().numTensors;
    for (const name of ['adam', 'sgd', 'momentum'] as const) await stepSizes(name, [0.1, 0.2]);
    expect(tf.memory().numTensors).toBe(start);
  });

  it.each([
    ['adam', 0.05],
    ['sgd', 0.5],
    ['momentum', 0.1],
  ] as const)('%s learns the tiny task', async (optimizer, learningRate) => {
    const model = prepare();
    const losses: number[] = [];
    const result = await trainModel(
      model,
      train,
      validation,
      2,
      preprocessing,
      { ...base, epochs: 8, optimizer, learningRate },
      {
        onEpoch: (m) => losses.push(m.trainLoss),
      },
    );
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    expect(result.validationAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(result).toMatchObject({ stoppedEarly: false, failure: null, restoredEpoch: 8, restored: false });
  });

  it.each(['cosine', 'one-cycle'] as const)('trains with the %s schedule and keeps numTensors flat', async (schedule) => {
    const model = prepare({ conv1: true, bn1: true });
    const start = tf.memory().numTensors;
    const counts: number[] = [];
    const result = await trainModel(
      model,
      train,
      validation,
      2,
      preprocessing,
      { ...base, epochs: 6, optimizer: 'adam', schedule, learningRate: 0.05 },
      {
        onEpoch: () => counts.push(tf.memory().numTensors),
      },
    );
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(start);
    expect(result.validationAccuracy).toBeGreaterThanOrEqual(0.9);
  });
});

describe('early stopping and best weights', () => {
  it('stops after `patience` epochs without a better validation loss and restores the best epoch bit for bit', async () => {
    const model = prepare({ conv1: true, bn1: true });
    const before = await snapshotWeights(model);
    const valLosses: number[] = [];
    const clones: Map<string, tf.Tensor>[] = [];
    const result = await trainModel(
      model,
      train,
      validation,
      2,
      preprocessing,
      { ...base, epochs: 30, optimizer: 'momentum', learningRate: 0.3, earlyStopping: { patience: 2 } },
      {
        onEpoch: (m) => {
          valLosses.push(m.validationLoss!);
          clones.push(cloneWeights(model));
        },
      },
    );
    const bestIndex = valLosses.indexOf(Math.min(...valLosses));
    expect(result.stoppedEarly).toBe(true);
    expect(result.stopped).toBe(false);
    expect(result.epochsCompleted).toBeLessThan(30);
    expect(result.epochsCompleted).toBe(bestIndex + 1 + 2);
    // patience 2: the two epochs after the best were no better
    for (const later of valLosses.slice(bestIndex + 1)) expect(later).toBeGreaterThanOrEqual(valLosses[bestIndex]);
    expect(result.restoredEpoch).toBe(bestIndex + 1);
    expect(result.restored).toBe(true);
    expect(result.validationLoss).toBe(valLosses[bestIndex]);
    const after = await snapshotWeights(model);
    expect(differing(await readClones(clones[bestIndex]), after)).toEqual([]);
    // the last epoch's weights differed, so the restore really happened
    expect(differing(await readClones(clones[clones.length - 1]), after).length).toBeGreaterThan(0);
    // frozen weights never moved
    for (const name of [...before.keys()].filter((n) => /^(conv1|bn1)\//.test(n))) expect(bitIdentical(before.get(name)!, after.get(name)!)).toBe(true);
    for (const c of clones) tf.dispose([...c.values()]);
  });

  it('restores the best epoch also when patience runs out on the last epoch (issue 11)', async () => {
    const config: TrainConfig = { ...base, epochs: 30, optimizer: 'momentum', learningRate: 0.3, earlyStopping: { patience: 2 } };
    // A first run finds where the patience runs out; a second one, with exactly that many epochs, ends on it.
    const probe = await trainModel(prepare({ conv1: true, bn1: true }), train, validation, 2, preprocessing, config);
    expect(probe.stoppedEarly).toBe(true);
    const model = prepare({ conv1: true, bn1: true });
    const valLosses: number[] = [];
    const clones: Map<string, tf.Tensor>[] = [];
    const result = await trainModel(
      model,
      train,
      validation,
      2,
      preprocessing,
      { ...config, epochs: probe.epochsCompleted },
      {
        onEpoch: (m) => {
          valLosses.push(m.validationLoss!);
          clones.push(cloneWeights(model));
        },
      },
    );
    const bestIndex = valLosses.indexOf(Math.min(...valLosses));
    expect(bestIndex).toBe(valLosses.length - 3);
    expect(result.epochsCompleted).toBe(probe.epochsCompleted);
    expect(result.restoredEpoch).toBe(bestIndex + 1);
    expect(result.validationLoss).toBe(valLosses[bestIndex]);
    expect(differing(await readClones(clones[bestIndex]), await snapshotWeights(model))).toEqual([]);
    for (const c of clones) tf.dispose([...c.values()]);
  });

  it('a user stop mid-epoch restores the best epoch so far', async () => {
    const model = prepare();
    const valLosses: number[] = [];
    const clones: Map<string, tf.Tensor>[] = [];
    let batches = 0;
    const result = await trainModel(
      model,
      train,
      validation,
      2,
      preprocessing,
      { ...base, epochs: 10, learningRate: 0.05 },
      {
        onBatch: () => batches++,
        onEpoch: (m) => {
          valLosses.push(m.validationLoss!);
          clones.push(cloneWeights(model));
        },
        shouldStop: () => batches >= 17, // 5 batches per epoch: stops in epoch 4
      },
    );
    expect(result.stopped).toBe(true);
    expect(result.epochsCompleted).toBe(3);
    const bestIndex = valLosses.indexOf(Math.min(...valLosses));
    expect(result.restoredEpoch).toBe(bestIndex + 1);
    expect(result.validationLoss).toBe(valLosses[bestIndex]);
    expect(differing(await readClones(clones[bestIndex]), await snapshotWeights(model))).toEqual([]);
    for (const c of clones) tf.dispose([...c.values()]);
  });

  it('without a validation set keeps the final weights and ignores early stopping', async () => {
    const model = prepare();
    const result = await trainModel(model, train, null, 2, preprocessing, { ...base, epochs: 3, earlyStopping: { patience: 1 } });
    expect(result).toMatchObject({ stoppedEarly: false, epochsCompleted: 3, restoredEpoch: 3, restored: false, validationLoss: null });
  });

  it('refuses a patience below 1, quoting it', async () => {
    await expect(trainModel(prepare(), train, validation, 2, preprocessing, { ...base, earlyStopping: { patience: 0 } })).rejects.toThrow(/not 0/);
  });

  it('keeps numTensors flat across an early-stopped run', async () => {
    const model = prepare({ conv1: true, bn1: true });
    const start = tf.memory().numTensors;
    const result = await trainModel(model, train, validation, 2, preprocessing, {
      ...base,
      epochs: 30,
      optimizer: 'momentum',
      learningRate: 0.3,
      earlyStopping: { patience: 1 },
    });
    expect(result.stoppedEarly).toBe(true);
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('the NaN guard', () => {
  it('a learning rate of 1e30 makes the loss non-finite: stopped, message, start-of-run weights restored bit for bit', async () => {
    const model = prepare({ conv1: true, bn1: true });
    const before = await snapshotWeights(model);
    const start = tf.memory().numTensors;
    const result = await trainModel(model, train, validation, 2, preprocessing, { ...base, epochs: 5, optimizer: 'sgd', learningRate: 1e30 });
    expect(result.failure).toMatch(
      /^The loss became (NaN|infinite) at epoch 1, batch \d+; the run was stopped and the weights from the start of the run were restored\. Lower the learning rate \(e\.g\. to 1e\+29\) and train again\.$/,
    );
    expect(result.restoredEpoch).toBe(0);
    expect(result.epochsCompleted).toBe(0);
    // every weight, frozen or not, BN statistics included, is as before the run
    expect(differing(before, await snapshotWeights(model))).toEqual([]);
    expect(Number.isFinite(result.validationLoss)).toBe(true);
    expect(tf.memory().numTensors).toBe(start);
  });

  it('a poisoned weight after epoch 2 stops the run in epoch 3, batch 1, and restores epoch 2 bit for bit; frozen weights untouched', async () => {
    const model = prepare({ conv1: true, bn1: true });
    const before = await snapshotWeights(model);
    const start = tf.memory().numTensors;
    let epoch2: Map<string, tf.Tensor> | null = null;
    let batchesAfterPoison = 0;
    const result = await trainModel(
      model,
      train,
      validation,
      2,
      preprocessing,
      { ...base, epochs: 6, learningRate: 0.01 },
      {
        onBatch: () => {
          if (epoch2) batchesAfterPoison++;
        },
        onEpoch: (m) => {
          if (m.epoch !== 1) return;
          epoch2 = cloneWeights(model);
          const target = model.trainableWeights[model.trainableWeights.length - 1].read() as tf.Variable;
          tf.tidy(() => target.assign(tf.fill(target.shape as number[], NaN)));
        },
      },
    );
    expect(result.failure).toBe(
      'The loss became NaN at epoch 3, batch 1; the run was stopped and the weights of epoch 2 were restored. Lower the learning rate (e.g. to 0.001) and train again.',
    );
    expect(batchesAfterPoison).toBe(0); // the non-finite batch is not streamed to the charts
    expect(result.restoredEpoch).toBe(2);
    expect(result.epochsCompleted).toBe(2);
    const after = await snapshotWeights(model);
    expect(differing(await readClones(epoch2!), after)).toEqual([]);
    for (const name of [...before.keys()].filter((n) => /^(conv1|bn1)\//.test(n))) expect(bitIdentical(before.get(name)!, after.get(name)!)).toBe(true);
    tf.dispose([...epoch2!.values()]);
    expect(tf.memory().numTensors).toBe(start);
  });
});
