import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SetWeightsModel, WorkerReply, WorkerRequest } from './protocol';
import { setup, trainRequest } from './testing/workerHarness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type TrainMsg = Extract<WorkerRequest, { type: 'train' }>;
type Checkpoint = Extract<WorkerReply, { type: 'checkpoint' }>;

/** What setWeights needs of a train request: the same transfer model. */
function modelOf(msg: TrainMsg, plan = msg.plan, fromPretrained = true): SetWeightsModel {
  return {
    cutLayer: msg.cutLayer,
    classNames: msg.classNames,
    head: msg.head,
    plan,
    batchNormOverrides: msg.batchNormOverrides ?? {},
    preprocessing: msg.preprocessing,
    config: { ...msg.config, fromPretrained },
  };
}

/** The exported weights by name, as float32 arrays. */
async function exported(handle: ReturnType<typeof setup>['handle'], replies: WorkerReply[], requestId: number): Promise<Map<string, Float32Array>> {
  await handle({ type: 'exportModel', requestId });
  const reply = replies.find((r) => r.type === 'modelExported' && r.requestId === requestId);
  if (reply?.type !== 'modelExported')
    throw new Error(`no export: ${JSON.stringify(replies.find((r) => r.type === 'requestFailed' && r.requestId === requestId))}`);
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const spec of reply.artifacts.weightSpecs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    out.set(spec.name, new Float32Array(reply.artifacts.weightData.slice(offset, offset + count * 4)));
    offset += count * 4;
  }
  return out;
}

describe('checkpoints and resume in the worker', () => {
  it('posts a checkpoint after every epoch, and a fresh worker resumed from one ends where the uninterrupted run ended', async () => {
    const config = { epochs: 3, batchSize: 8, learningRate: 0.05, seed: 3, optimizer: 'sgd' as const };
    const whole = setup();
    await whole.handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'tiny' } });
    const msg = trainRequest(1, { config, checkpoints: true }) as TrainMsg;
    await whole.handle(trainRequest(1, { config, checkpoints: true }));
    const checkpoints = whole.replies.filter((r): r is Checkpoint => r.type === 'checkpoint');
    expect(checkpoints.map((c) => c.epoch)).toEqual([1, 2, 3]);
    // What the run changes (head and the unfrozen conv2/bn2), never the frozen conv1.
    const names = checkpoints[0].weights.weightSpecs.map((s) => s.name);
    expect(names).toContain('conv2/kernel');
    expect(names).not.toContain('conv1/kernel');
    expect(checkpoints[0].plan.conv1).toBe(true);
    const wholeWeights = await exported(whole.handle, whole.replies, 2);

    // "Reload": a new worker, the same model, the epoch-1 checkpoint put back, then the run resumed.
    const fresh = setup();
    await fresh.handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'tiny' } });
    const saved = checkpoints[0];
    await fresh.handle({ type: 'setWeights', requestId: 2, model: modelOf(msg, saved.plan), weights: saved.weights, complete: false });
    expect(fresh.replies.some((r) => r.type === 'weightsSet' && r.requestId === 2)).toBe(true);
    await fresh.handle(trainRequest(1, { config, plan: saved.plan, resume: { epoch: 1, learningRateFactor: saved.learningRateFactor } }));
    const epochs = fresh.replies.flatMap((r) => (r.type === 'epoch' ? [r.metrics.epoch] : []));
    expect(epochs).toEqual([1, 2]);
    const ended = fresh.replies.find((r) => r.type === 'runEnded');
    expect(ended?.type === 'runEnded' && ended.outcome.epochsCompleted).toBe(3);
    const resumedWeights = await exported(fresh.handle, fresh.replies, 3);
    for (const [name, values] of wholeWeights) expect(Array.from(resumedWeights.get(name)!), name).toEqual(Array.from(values));
  });

  it('reopens complete saved weights for export and predict, and refuses weights that do not fit, naming them', async () => {
    const trained = setup();
    await trained.handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'tiny' } });
    const msg = trainRequest(1) as TrainMsg;
    await trained.handle(trainRequest(1));
    await trained.handle({ type: 'exportModel', requestId: 2 });
    const artifacts = trained.replies.find((r) => r.type === 'modelExported');
    if (artifacts?.type !== 'modelExported') throw new Error('no export');
    const expected = await exported(trained.handle, trained.replies, 3);

    const fresh = setup();
    await fresh.handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'tiny' } });
    // Before any run, nothing is exportable.
    await fresh.handle({ type: 'exportModel', requestId: 2 });
    expect(fresh.replies.some((r) => r.type === 'requestFailed' && r.requestId === 2)).toBe(true);
    const { weightSpecs, weightData } = artifacts.artifacts;
    const bad = { weightSpecs: weightSpecs.slice(1), weightData: weightData.slice(weightSpecs[0].shape.reduce((a, b) => a * b, 1) * 4) };
    await fresh.handle({ type: 'setWeights', requestId: 3, model: modelOf(msg), weights: bad, complete: true });
    const refused = fresh.replies.find((r) => r.type === 'requestFailed' && r.requestId === 3);
    expect(refused?.type === 'requestFailed' && refused.error.message).toMatch(new RegExp(`lack '${weightSpecs[0].name}'`));
    await fresh.handle({ type: 'exportModel', requestId: 4 });
    expect(fresh.replies.some((r) => r.type === 'requestFailed' && r.requestId === 4)).toBe(true);

    await fresh.handle({ type: 'setWeights', requestId: 5, model: modelOf(msg), weights: { weightSpecs, weightData: weightData.slice(0) }, complete: true });
    expect(fresh.replies.some((r) => r.type === 'weightsSet' && r.requestId === 5)).toBe(true);
    const reopened = await exported(fresh.handle, fresh.replies, 6);
    for (const [name, values] of expected) expect(Array.from(reopened.get(name)!), name).toEqual(Array.from(values));
    await fresh.handle({ type: 'predict', requestId: 7, images: msg.validation! });
    expect(fresh.replies.some((r) => r.type === 'predictions' && r.requestId === 7)).toBe(true);
  });
});
