/**
 * Issue 11: what the audit and the handler say must be what the run did.
 * Each test here failed on the code before the fix it names.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTinyImages, createTinyModel } from '../engine/testing/tinyModel';
import type { WorkerReply, WorkerRequest } from './protocol';
import { createStudioWorker } from './studioWorker';
import { auditOf, setup, setupWithTransfers, tinyDeps, trainRequest } from './testing/workerHarness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const load: WorkerRequest = { type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } };
const everyLayerFrozen = { conv1: true, bn1: true, relu1: true, conv2: true, bn2: true, relu2: true, flatten: true };

describe('the freeze audit holds what the run applied', () => {
  it('does not count layers without weights as frozen and unchanged', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle(load);
    await handle(trainRequest(1, { plan: everyLayerFrozen }));
    const report = auditOf(replies, 1);
    // conv1, bn1, conv2, bn2 have weights; relu1, relu2 and flatten have none (before: 7 "frozen and unchanged").
    expect(report.frozenLayers).toBe(4);
    expect(report.layers.filter((l) => l.frozen).map((l) => l.layer)).toEqual(['conv1', 'bn1', 'conv2', 'bn2']);
    expect(report.layers.find((l) => l.layer === 'relu1')).toMatchObject({ frozen: false, weights: [] });
  });

  it('holds the layers of a schedule step that was never reached to bit-identity', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle(load);
    const config = {
      epochs: 4,
      batchSize: 4,
      learningRate: 0.01,
      seed: 1,
      unfreezeSchedule: [{ epoch: 3, unfreeze: ['conv2', 'bn2'], label: 'unfreeze conv2' }],
    };
    const running = handle(trainRequest(1, { plan: everyLayerFrozen, config }));
    // Stop in epoch 1 (8 batches per epoch): the step at epoch 4 never comes.
    while (!replies.some((r) => r.type === 'batches' && r.points.length > 0)) await new Promise((r) => setTimeout(r, 1));
    await handle({ type: 'stop', runId: 1 });
    await running;
    expect(replies.some((r) => r.type === 'trainableChanged')).toBe(false);
    const report = auditOf(replies, 1);
    expect(report.layers.filter((l) => l.frozen).map((l) => l.layer)).toEqual(['conv1', 'bn1', 'conv2', 'bn2']);
    expect(report.failed).toEqual([]);
  });

  it('ignores a live edit that arrived after the last batch: the trainer never applied it', async () => {
    const replies: WorkerReply[] = [];
    let lastEpochSeen = false;
    // The edit is sent when the last epoch is reported, i.e. after the last batch.
    const handle = createStudioWorker(
      (reply) => {
        replies.push(reply);
        if (reply.type === 'epoch' && reply.metrics.epoch === 1 && !lastEpochSeen) {
          lastEpochSeen = true;
          void handle({ type: 'setPlan', runId: 1, plan: { ...everyLayerFrozen, conv1: false } });
        }
      },
      tinyDeps({ batchFlushMs: 0 }),
    );
    await handle(load);
    await handle(trainRequest(1, { plan: everyLayerFrozen }));
    expect(lastEpochSeen).toBe(true);
    expect(replies.some((r) => r.type === 'trainableChanged')).toBe(false);
    const report = auditOf(replies, 1);
    expect(report.layers.find((l) => l.layer === 'conv1')).toMatchObject({ frozen: true, ok: true, maxAbsChange: 0 });
  });

  it('holds a block at learning-rate multiplier 0 to bit-identity, BatchNorm statistics included', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle(load);
    await handle(trainRequest(1, { plan: {}, config: { epochs: 2, batchSize: 4, learningRate: 0.01, seed: 1, rateMultipliers: { conv2: 0, bn2: 0 } } }));
    const report = auditOf(replies, 1);
    expect(report.failed).toEqual([]);
    const bn2 = report.layers.find((l) => l.layer === 'bn2')!;
    expect(bn2).toMatchObject({ frozen: true, ok: true, maxAbsChange: 0 });
    expect(bn2.weights.filter((w) => w.statistic)).toHaveLength(2);
    const started = replies.find((r) => r.type === 'runStarted');
    if (started?.type !== 'runStarted') throw new Error('no runStarted');
    expect(started.setup.appliedPlan).toMatchObject({ conv1: false, bn1: false, conv2: true, bn2: true });
    expect(started.setup.optimizerVariables.map((v) => v.name.split('/')[0])).not.toContain('bn2');
  });

  it("holds a trained BatchNorm layer in 'inference' mode to unchanged moving statistics", async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle(load);
    await handle(trainRequest(1, { plan: { conv1: true, bn1: true }, batchNormOverrides: { bn2: 'inference' } }));
    const bn2 = auditOf(replies, 1).layers.find((l) => l.layer === 'bn2')!;
    expect(bn2).toMatchObject({ frozen: false, statisticsFixed: true, ok: true });
    expect(bn2.weights.filter((w) => w.statistic).map((w) => w.maxAbsChange)).toEqual([0, 0]);
    expect(bn2.weights.filter((w) => !w.statistic).every((w) => w.maxAbsChange > 0)).toBe(true);
  });
});

describe('a bad request leaves the session as it was', () => {
  it('a train request with a bad cut keeps the weights of the last trained model', async () => {
    const { sent, handle } = setupWithTransfers();
    await handle(load);
    await handle(trainRequest(1, { plan: {} }));
    await handle({ type: 'exportModel', requestId: 2 });
    const before = sent.at(-1)!.reply;
    if (before.type !== 'modelExported') throw new Error(`got ${before.type}`);
    const bytesBefore = new Uint8Array(before.artifacts.weightData.slice(0));
    await handle(trainRequest(2, { cutLayer: 'no_such_layer' }));
    expect(sent.at(-1)!.reply).toMatchObject({ type: 'runFailed', runId: 2, error: { message: expect.stringContaining("'no_such_layer'") } });
    await handle({ type: 'exportModel', requestId: 3 });
    const after = sent.at(-1)!.reply;
    if (after.type !== 'modelExported') throw new Error(`got ${after.type}: the trained model was lost`);
    expect(new Uint8Array(after.artifacts.weightData)).toEqual(bytesBefore);
  });

  it.each([
    ['an epoch count of 0', { epochs: 0 }, /Epochs is 0/],
    ['a NaN learning rate', { learningRate: Number.NaN }, /learning rate is NaN/],
    ['a negative multiplier', { rateMultipliers: { conv2: -1 } }, /multiplier of 'conv2' is -1/],
  ])('refuses %s before touching the weights', async (_label, patch, message) => {
    const { sent, handle } = setupWithTransfers();
    await handle(load);
    await handle(trainRequest(1, { plan: {} }));
    await handle({ type: 'exportModel', requestId: 2 });
    const before = sent.at(-1)!.reply;
    if (before.type !== 'modelExported') throw new Error(`got ${before.type}`);
    const bytesBefore = new Uint8Array(before.artifacts.weightData.slice(0));
    await handle(trainRequest(2, { config: { epochs: 2, batchSize: 4, learningRate: 0.01, seed: 1, ...patch } }));
    expect(sent.at(-1)!.reply).toMatchObject({ type: 'runFailed', runId: 2, error: { name: 'BadRequest', message: expect.stringMatching(message) } });
    await handle({ type: 'exportModel', requestId: 3 });
    const after = sent.at(-1)!.reply;
    if (after.type !== 'modelExported') throw new Error(`got ${after.type}`);
    expect(new Uint8Array(after.artifacts.weightData)).toEqual(bytesBefore);
  });

  it('a failure while capturing the pretrained weights disposes the new model and keeps the current one', async () => {
    let loads = 0;
    const { replies, handle } = setup({
      loadModel: async () => {
        loads++;
        const model = createTinyModel();
        // The second model cannot be read back (as a lost GPU device would do).
        if (loads === 2) model.getLayer('conv2').weights[0].read().data = () => Promise.reject(new Error('the device was lost'));
        return {
          ok: true,
          loaded: {
            model,
            inputShape: { height: 8, width: 8, channels: 1 },
            preprocessing: { range: [0, 1], resize: 'stretch' },
            provenance: null,
            sourceHash: 'abc',
          },
        };
      },
    });
    await handle(load);
    const tensors = tf.memory().numTensors;
    await handle({ type: 'loadModel', requestId: 2, source: { kind: 'url', url: 'y' } });
    expect(replies.at(-1)).toMatchObject({ type: 'requestFailed', requestId: 2, error: { message: 'the device was lost' } });
    // Nothing of the failed model is left: its variables were released.
    expect(tf.memory().numTensors).toBe(tensors);
    await handle(trainRequest(3, { config: { epochs: 1, batchSize: 8, learningRate: 0.01, seed: 1 } }));
    expect(replies.at(-1)).toMatchObject({ type: 'runEnded', runId: 3 });
  });
});

describe('provenance the export can tell', () => {
  it('measures which layers are bit for bit the source at export, and reports each change with the layers it (un)froze', async () => {
    const { sent, handle } = setupWithTransfers();
    await handle(load);
    const config = {
      epochs: 2,
      batchSize: 8,
      learningRate: 0.01,
      seed: 1,
      unfreezeSchedule: [{ epoch: 1, unfreeze: ['conv2', 'bn2'], label: 'unfreeze conv2' }],
    };
    await handle(trainRequest(1, { plan: everyLayerFrozen, config, batchNormOverrides: { bn1: 'train-stats' } }));
    const change = sent.map((s) => s.reply).find((r) => r.type === 'trainableChanged');
    if (change?.type !== 'trainableChanged') throw new Error('no trainableChanged');
    expect(change.change).toMatchObject({ epoch: 1, batch: 0, unfrozen: ['conv2', 'bn2'], frozen: [] });
    const started = sent.map((s) => s.reply).find((r) => r.type === 'runStarted');
    if (started?.type !== 'runStarted') throw new Error('no runStarted');
    expect(started.setup.config).toEqual(config);
    expect(started.setup.batchNormOverrides).toEqual({ bn1: 'train-stats' });
    await handle({ type: 'exportModel', requestId: 2 });
    const exported = sent.at(-1)!.reply;
    if (exported.type !== 'modelExported') throw new Error(`got ${exported.type}`);
    // conv1 stayed frozen; bn1 stayed frozen but trained its statistics; conv2 and bn2 trained from epoch 2.
    expect(exported.artifacts.identicalToSource).toEqual({ conv1: true, bn1: false, conv2: false, bn2: false });
  });
});

describe('auto epochs planned for the cache', () => {
  it('a run that cannot use the cache runs the Epochs field’s number, not the hundred cheap epochs', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle(load);
    // conv1 trains: no cache. Auto planned 6 epochs on the cache; the field said 2.
    await handle(trainRequest(1, { plan: {}, config: { epochs: 6, batchSize: 8, learningRate: 0.01, seed: 1, epochsWithoutCache: 2 } }));
    expect(replies.at(-1)).toMatchObject({ type: 'runEnded', outcome: { epochsCompleted: 2 } });
    const started = replies.find((r) => r.type === 'runStarted');
    if (started?.type !== 'runStarted') throw new Error('no runStarted');
    expect(started.setup.config?.epochs).toBe(2);
    // With the cache, the planned epochs hold.
    await handle(trainRequest(2, { plan: everyLayerFrozen, config: { epochs: 3, batchSize: 8, learningRate: 0.01, seed: 1, epochsWithoutCache: 1 } }));
    expect(replies.at(-1)).toMatchObject({ type: 'runEnded', outcome: { epochsCompleted: 3 } });
  });
});

describe('the evaluation is one pass in the worker', () => {
  it('predicts the validation and test images it already holds right before runEnded, and the validation probabilities reproduce the run’s accuracy', async () => {
    const { sent, handle } = setupWithTransfers();
    await handle(load);
    const test = createTinyImages(6, 2, 9);
    await handle(trainRequest(1, { plan: everyLayerFrozen, test }));
    const types = sent.map((s) => s.reply.type);
    expect(types.slice(-3)).toEqual(['audit', 'heldOutPredictions', 'runEnded']);
    const evaluated = sent.at(-2)!;
    const ended = sent.at(-1)!.reply;
    if (evaluated.reply.type !== 'heldOutPredictions' || ended.type !== 'runEnded') throw new Error('wrong order');
    const { validation, test: testProbabilities, numClasses } = evaluated.reply;
    expect(numClasses).toBe(2);
    expect(testProbabilities).toHaveLength(6 * 2);
    expect(evaluated.transfer).toEqual([validation!.buffer, testProbabilities!.buffer]);
    // Accuracy of the argmax over the 8 validation images equals what the run reported.
    const labels = trainRequest(1).type === 'train' ? (trainRequest(1) as Extract<WorkerRequest, { type: 'train' }>).validation!.labels : new Int32Array();
    let correct = 0;
    for (let i = 0; i < labels.length; i++) if ((validation![i * 2 + 1] > validation![i * 2] ? 1 : 0) === labels[i]) correct++;
    expect(correct / labels.length).toBeCloseTo(ended.outcome.validationAccuracy!, 6);
  });
});
