import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WorkerReply } from './protocol';
import { auditOf, setup, setupWithTransfers, trainRequest, wire } from './testing/workerHarness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('worker message handler', () => {
  it('answers init and loadModel with the backend and a layer summary', async () => {
    const { replies, handle } = setup();
    await handle({ type: 'init', requestId: 1, backend: 'auto', allowSoftwareWebgl: false });
    await handle({ type: 'loadModel', requestId: 2, source: { kind: 'url', url: 'x' } });
    expect(replies[0]).toEqual({ type: 'ready', requestId: 1, backend: 'cpu', notes: [] });
    const loaded = replies[1];
    if (loaded.type !== 'modelLoaded') throw new Error(`got ${loaded.type}`);
    expect(loaded.model.defaultCutLayer).toBe('flatten');
    expect(loaded.model.layers.map((l) => l.name)).toEqual(['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'relu2', 'flatten', 'classifier']);
    const bn1 = loaded.model.layers[1];
    expect([bn1.trainableParams, bn1.nonTrainableParams]).toEqual([6, 6]);
  });

  it('streams a run: setup, coalesced batches, epochs, end — all tagged with the run id', async () => {
    const { replies, handle } = setup({ batchFlushMs: 60_000 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle(trainRequest(7));
    const run = replies.slice(1);
    expect(run.every((r) => 'runId' in r && r.runId === 7)).toBe(true);
    // The freeze audit's messages (layerUpdates after each epoch, audit before runEnded) are tested below.
    // The evaluation's predictions come right before the end.
    expect(run.map((r) => r.type).filter((t) => t !== 'layerUpdates' && t !== 'audit')).toEqual([
      'runStarted',
      'batches',
      'epoch',
      'batches',
      'epoch',
      'heldOutPredictions',
      'runEnded',
    ]);
    const points = run.flatMap((r) => (r.type === 'batches' ? r.points : []));
    expect(points.map((p) => p.step)).toEqual([...Array(16).keys()]);
    const started = run[0];
    if (started.type !== 'runStarted') throw new Error();
    // conv1 and bn1 frozen: the optimizer holds conv2 kernel+bias, bn2 gamma+beta, and the new head.
    expect(started.setup.optimizerVariables.map((v) => v.name.split('/')[0])).toEqual(['conv2', 'conv2', 'bn2', 'bn2', 'head_dense', 'head_dense']);
    const ended = run[run.length - 1];
    if (ended.type !== 'runEnded') throw new Error();
    expect(ended.outcome).toMatchObject({ stopped: false, epochsCompleted: 2, batches: 16 });
    // A run that went to the end reports its last epoch's validation, measured on the 8 validation images.
    const lastEpoch = run.filter((r) => r.type === 'epoch').at(-1);
    if (lastEpoch?.type !== 'epoch') throw new Error('no epoch');
    expect(ended.outcome.validationAccuracy).toBe(lastEpoch.metrics.validationAccuracy);
    expect(ended.outcome.validationLoss).toBe(lastEpoch.metrics.validationLoss);
    expect(Number.isInteger(ended.outcome.validationAccuracy! * 8)).toBe(true);
  });

  it('stops the active run at a batch boundary and ignores stops for other runs', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    const running = handle(trainRequest(3, { config: { epochs: 50, batchSize: 4, learningRate: 0.01, seed: 1 } }));
    await handle({ type: 'stop', runId: 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await handle({ type: 'stop', runId: 3 });
    await running;
    const ended = replies.find((r) => r.type === 'runEnded');
    if (ended?.type !== 'runEnded') throw new Error('no runEnded');
    expect(ended.outcome.stopped).toBe(true);
    expect(ended.outcome.epochsCompleted).toBeLessThan(50);
  });

  it('turns failures into readable errors that name the problem', async () => {
    const { replies, handle } = setup({
      loadModel: async () => {
        throw new Error("'model.json' is not valid JSON");
      },
    });
    await handle(trainRequest(1));
    await handle({ type: 'loadModel', requestId: 2, source: { kind: 'url', url: 'x' } });
    expect(replies[0]).toMatchObject({ type: 'runFailed', runId: 1, error: { message: 'No model is loaded yet.' } });
    expect(replies[1]).toMatchObject({ type: 'requestFailed', requestId: 2, error: { name: 'Error', message: "'model.json' is not valid JSON" } });
  });

  it('reports a bad cut layer as a failed run, and the session survives for the next run', async () => {
    const { replies, handle } = setup();
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle(trainRequest(1, { cutLayer: 'no_such_layer' }));
    expect(replies[1]).toMatchObject({ type: 'runFailed', runId: 1 });
    expect((replies[1] as { error: { message: string } }).error.message).toMatch(/no_such_layer/);
    await handle(trainRequest(2, { config: { epochs: 1, batchSize: 8, learningRate: 0.01, seed: 1 } }));
    expect(replies[replies.length - 1]).toMatchObject({ type: 'runEnded', runId: 2 });
  });
});

describe('worker message handler while a run is active', () => {
  it('refuses to replace the model under a running run', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    const running = handle(trainRequest(5, { config: { epochs: 3, batchSize: 4, learningRate: 0.01, seed: 1 } }));
    await handle({ type: 'loadModel', requestId: 2, source: { kind: 'url', url: 'y' } });
    await running;
    expect(replies.find((r) => r.type === 'requestFailed')).toMatchObject({ requestId: 2, error: { name: 'Busy' } });
    expect(replies[replies.length - 1]).toMatchObject({ type: 'runEnded', runId: 5, outcome: { stopped: false, epochsCompleted: 3 } });
  });
});

describe('worker message handler: export', () => {
  it('refuses before a run and during one, then sends the trained model with its weight bytes transferred', async () => {
    const { sent, handle: handleWithTransfer } = setupWithTransfers();
    await handleWithTransfer({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handleWithTransfer({ type: 'exportModel', requestId: 2 });
    expect(sent[1].reply).toMatchObject({ type: 'requestFailed', requestId: 2, error: { name: 'NoTrainedModel' } });

    const running = handleWithTransfer(trainRequest(1, { config: { epochs: 3, batchSize: 4, learningRate: 0.01, seed: 1 } }));
    await handleWithTransfer({ type: 'exportModel', requestId: 3 });
    await running;
    expect(sent.find((s) => s.reply.type === 'requestFailed' && s.reply.requestId === 3)?.reply).toMatchObject({ error: { name: 'Busy' } });

    await handleWithTransfer({ type: 'exportModel', requestId: 4 });
    const last = sent[sent.length - 1];
    if (last.reply.type !== 'modelExported') throw new Error(`got ${last.reply.type}`);
    expect(last.reply.requestId).toBe(4);
    const { artifacts } = last.reply;
    expect(last.transfer).toEqual([artifacts.weightData]);
    expect(artifacts.format).toBe('layers-model');
    expect(artifacts.weightSpecs.map((w) => w.name)).toEqual(
      expect.arrayContaining(['conv1/kernel', 'bn1/moving_mean', 'conv2/kernel', 'head_dense/kernel', 'head_dense/bias']),
    );
    expect(artifacts.weightSpecs.some((w) => w.name.startsWith('classifier/'))).toBe(false);
    const floats = artifacts.weightSpecs.reduce((sum, w) => sum + w.shape.reduce((p, d) => p * d, 1), 0);
    expect(artifacts.weightData.byteLength).toBe(floats * 4);
    // The frozen layers are saved frozen, so importing the file brings the freeze plan back.
    const conv1 = artifacts.modelTopology.config.layers.find((l) => l.name === 'conv1');
    expect(conv1?.config.trainable).toBe(false);
  });
});

describe('worker message handler: feature cache', () => {
  const allFrozen = { conv1: true, bn1: true, conv2: true, bn2: true };
  const quick = { epochs: 2, batchSize: 8, learningRate: 0.01, seed: 1 };
  const cacheOf = (replies: WorkerReply[], runId: number) => {
    const started = replies.find((r) => r.type === 'runStarted' && r.runId === runId);
    if (started?.type !== 'runStarted') throw new Error(`no runStarted for run ${runId}`);
    return started.setup.featureCache;
  };

  it('builds the cache on the first head-only run, reuses it for the same data and a new head, and rebuilds only when it must', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle(trainRequest(1, { plan: allFrozen, config: quick }));
    expect(cacheOf(replies, 1)).toMatchObject({ used: true, built: true, images: 40 });
    expect(cacheOf(replies, 1)!.millis).toBeGreaterThan(0);
    expect(replies[replies.length - 1]).toMatchObject({ type: 'runEnded', runId: 1, outcome: { epochsCompleted: 2, batches: 8 } });

    const tensors = tf.memory().numTensors;
    await handle(trainRequest(2, { plan: allFrozen, config: quick }));
    expect(cacheOf(replies, 2)).toEqual({ used: true, built: false, millis: null, images: 0 });
    expect(tf.memory().numTensors).toBe(tensors);

    // A head change keeps the features.
    await handle(trainRequest(3, { plan: allFrozen, config: quick, head: { pooling: 'avg', hiddenUnits: 4, dropout: 0 } }));
    expect(cacheOf(replies, 3)).toMatchObject({ used: true, built: false });
    // New validation images: only those are built.
    await handle(trainRequest(4, { plan: allFrozen, config: quick, validation: wire(8, 9) }));
    expect(cacheOf(replies, 4)).toMatchObject({ used: true, built: true, images: 8 });
    // Another preprocessing range changes every feature.
    await handle(trainRequest(5, { plan: allFrozen, config: quick, validation: wire(8, 9), preprocessing: { range: [-1, 1], resize: 'stretch' } }));
    expect(cacheOf(replies, 5)).toMatchObject({ used: true, built: true, images: 40 });
  });

  it('is not used while a pretrained layer is trained, says which, and rebuilds after that run changed the backbone', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle(trainRequest(1, { plan: allFrozen, config: quick }));
    await handle(trainRequest(2, { plan: { conv1: true, bn1: true }, config: quick }));
    expect(cacheOf(replies, 2)).toEqual({ used: false, built: false, millis: null, reason: "'conv2' is trained" });
    await handle(trainRequest(3, { plan: allFrozen, config: quick }));
    expect(cacheOf(replies, 3)).toMatchObject({ used: true, built: true, images: 40 });
    // A new model load drops the cache.
    await handle({ type: 'loadModel', requestId: 2, source: { kind: 'url', url: 'x' } });
    await handle(trainRequest(4, { plan: allFrozen, config: quick }));
    expect(cacheOf(replies, 4)).toMatchObject({ used: true, built: true });
  });

  it('a stop while the cache is built ends the run as stopped, and the next run builds the cache', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    const running = handle(trainRequest(1, { plan: allFrozen, config: { ...quick, batchSize: 4 } }));
    await handle({ type: 'stop', runId: 1 });
    await running;
    expect(cacheOf(replies, 1)).toEqual({ used: false, built: false, millis: null, reason: 'the run was stopped while the cache was built' });
    expect(replies[replies.length - 1]).toMatchObject({ type: 'runEnded', runId: 1, outcome: { stopped: true, epochsCompleted: 0, batches: 0 } });
    await handle(trainRequest(2, { plan: allFrozen, config: quick }));
    expect(cacheOf(replies, 2)).toMatchObject({ used: true, built: true, images: 40 });
  });

  it('exports the transfer model with the head trained on cached features', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle(trainRequest(1, { plan: allFrozen, config: quick }));
    await handle({ type: 'exportModel', requestId: 2 });
    const last = replies[replies.length - 1];
    if (last.type !== 'modelExported') throw new Error(`got ${last.type}`);
    const layers = last.artifacts.modelTopology.config.layers;
    expect(layers.map((l) => l.name)).toEqual(['input', 'conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'relu2', 'flatten', 'head_dense']);
    expect(JSON.stringify(layers.find((l) => l.name === 'head_dense'))).toContain('flatten');
    // The file loads back as a plain tfjs model (the head layer's second graph node is not in it).
    const { modelTopology, weightSpecs, weightData } = last.artifacts;
    const reloaded = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelTopology as unknown as tf.io.ModelArtifacts['modelTopology'], weightSpecs, weightData }),
    );
    const probe = tf.ones([1, 8, 8, 1]);
    const out = reloaded.predict(probe) as tf.Tensor;
    expect(out.shape).toEqual([1, 2]);
    const probs = await out.data();
    expect(Math.abs(probs[0] + probs[1] - 1)).toBeLessThan(1e-5);
    tf.dispose([probe, out]);
    reloaded.dispose();
  });
});

describe('worker message handler: predict', () => {
  it('refuses before a run and during one, then predicts with the last run’s preprocessing, leaking no tensor', async () => {
    const { sent, handle } = setupWithTransfers();
    const validation = wire(8, 2);
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle({ type: 'predict', requestId: 2, images: validation });
    expect(sent[sent.length - 1].reply).toMatchObject({ type: 'requestFailed', requestId: 2, error: { name: 'NoTrainedModel' } });

    // A range other than the model's own ([0, 1]): predictions must map pixels the way the run did.
    const preprocessing = { range: [-1, 1] as [number, number], resize: 'stretch' as const };
    const running = handle(trainRequest(1, { preprocessing, validation, config: { epochs: 3, batchSize: 3, learningRate: 0.01, seed: 1 } }));
    await handle({ type: 'predict', requestId: 3, images: validation });
    await running;
    expect(sent.find((s) => s.reply.type === 'requestFailed' && s.reply.requestId === 3)?.reply).toMatchObject({ error: { name: 'Busy' } });
    const ended = sent.map((s) => s.reply).find((r) => r.type === 'runEnded');
    if (ended?.type !== 'runEnded') throw new Error('no runEnded');
    expect(ended.outcome.restoredEpoch).toBe(3);

    const tensors = tf.memory().numTensors;
    await handle({ type: 'predict', requestId: 4, images: validation });
    expect(tf.memory().numTensors).toBe(tensors);
    const last = sent[sent.length - 1];
    if (last.reply.type !== 'predictions') throw new Error(`got ${last.reply.type}`);
    const { probabilities, numClasses } = last.reply;
    expect(last.reply.requestId).toBe(4);
    expect(last.transfer).toEqual([probabilities.buffer]);
    expect(numClasses).toBe(2);
    expect(probabilities.length).toBe(16);
    for (let row = 0; row < 8; row++) expect(probabilities[2 * row] + probabilities[2 * row + 1]).toBeCloseTo(1, 5);
    // The run's last validation loss and accuracy, recomputed from the predictions (8 images, batches of 3).
    let loss = 0;
    let correct = 0;
    for (let row = 0; row < 8; row++) {
      const label = validation.labels[row];
      loss -= Math.log(Math.min(Math.max(probabilities[2 * row + label], 1e-7), 1 - 1e-7));
      if (probabilities[2 * row + label] > probabilities[2 * row + 1 - label]) correct++;
    }
    expect(loss / 8).toBeCloseTo(ended.outcome.validationLoss!, 4);
    expect(correct / 8).toBeCloseTo(ended.outcome.validationAccuracy!, 6);
  });

  it('refuses images of another size, naming both shapes', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle(trainRequest(1, { config: { epochs: 1, batchSize: 8, learningRate: 0.01, seed: 1 } }));
    await handle({
      type: 'predict',
      requestId: 2,
      images: { pixels: new Uint8Array(2 * 4 * 4), labels: new Int32Array(2), shape: { height: 4, width: 4, channels: 1 } },
    });
    const last = replies[replies.length - 1];
    expect(last).toMatchObject({ type: 'requestFailed', requestId: 2 });
    expect((last as { error: { message: string } }).error.message).toMatch(/4×4×1.*8×8×1/);
  });
});

describe('worker message handler: freeze audit', () => {
  it('after a head-only run every frozen layer changed by exactly 0; the head moved; Verify repeats it on request', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle({ type: 'verify', requestId: 2 });
    expect(replies[replies.length - 1]).toMatchObject({ type: 'requestFailed', requestId: 2, error: { name: 'NoRun' } });

    await handle(
      trainRequest(1, { plan: { conv1: true, bn1: true, conv2: true, bn2: true }, config: { epochs: 2, batchSize: 8, learningRate: 0.05, seed: 1 } }),
    );
    const types = replies.map((r) => r.type);
    // The audit comes before the evaluation's predictions and runEnded, and each epoch's relative updates before it.
    expect(types.slice(-3)).toEqual(['audit', 'heldOutPredictions', 'runEnded']);
    expect(replies.filter((r) => r.type === 'layerUpdates').map((r) => (r.type === 'layerUpdates' ? r.epoch : -1))).toEqual([0, 1]);
    const report = auditOf(replies, 1);
    expect(report.failed).toEqual([]);
    expect(report.frozenLayers).toBe(4);
    const byName = new Map(report.layers.map((l) => [l.layer, l]));
    for (const name of ['conv1', 'bn1', 'conv2', 'bn2']) {
      const layer = byName.get(name)!;
      expect(layer).toMatchObject({ frozen: true, ok: true, maxAbsChange: 0, relativeUpdate: 0 });
      expect(layer.weights.every((w) => w.maxAbsChange === 0 && w.before === w.after)).toBe(true);
    }
    expect(byName.get('bn1')!.weights.filter((w) => w.statistic)).toHaveLength(2);
    const head = byName.get('head_dense')!;
    expect(head).toMatchObject({ frozen: false, ok: true });
    expect(head.maxAbsChange).toBeGreaterThan(0);
    expect(head.relativeUpdate).toBeGreaterThan(0);
    const lastUpdates = replies.filter((r) => r.type === 'layerUpdates').at(-1);
    if (lastUpdates?.type !== 'layerUpdates') throw new Error('no layerUpdates');
    expect(lastUpdates.updates.conv1).toBe(0);
    expect(lastUpdates.updates.head_dense).toBeCloseTo(head.relativeUpdate, 6);

    await handle({ type: 'verify', requestId: 3 });
    const verified = replies[replies.length - 1];
    if (verified.type !== 'audit') throw new Error(`got ${verified.type}`);
    expect(verified).toMatchObject({ runId: 1, requestId: 3, report: { when: 'verify', failed: [], frozenLayers: 4 } });
    expect(verified.report.layers.map((l) => l.maxAbsChange)).toEqual(report.layers.map((l) => l.maxAbsChange));
    // Snapshots, per-epoch reads and Verify hold no tensor: a second run leaves the count where it was.
    const tensors = tf.memory().numTensors;
    await handle(
      trainRequest(2, { plan: { conv1: true, bn1: true, conv2: true, bn2: true }, config: { epochs: 2, batchSize: 8, learningRate: 0.05, seed: 1 } }),
    );
    await handle({ type: 'verify', requestId: 4 });
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('a frozen BatchNorm layer between trained layers keeps its moving statistics (change 0); a trained one moves them', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    // bn1 frozen while conv1 before it and conv2 after it train: no feature cache, batches flow through bn1.
    await handle(trainRequest(1, { plan: { bn1: true }, config: { epochs: 2, batchSize: 4, learningRate: 0.01, seed: 1 } }));
    const report = auditOf(replies, 1);
    expect(report.failed).toEqual([]);
    const bn1 = report.layers.find((l) => l.layer === 'bn1')!;
    expect(bn1).toMatchObject({ frozen: true, ok: true, maxAbsChange: 0 });
    expect(bn1.weights.map((w) => [w.name.replace(/_\d+$/, ''), w.maxAbsChange])).toEqual([
      ['bn1/gamma', 0],
      ['bn1/beta', 0],
      ['bn1/moving_mean', 0],
      ['bn1/moving_variance', 0],
    ]);
    const bn2 = report.layers.find((l) => l.layer === 'bn2')!;
    expect(bn2.frozen).toBe(false);
    expect(bn2.weights.filter((w) => w.statistic).every((w) => w.maxAbsChange > 0)).toBe(true);
    expect(report.layers.find((l) => l.layer === 'conv1')!.maxAbsChange).toBeGreaterThan(0);
  });

  it('a live plan that trains a frozen layer mid-run takes it off the frozen list; a new model load forgets the run', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    const running = handle(trainRequest(1, { plan: { conv1: true, bn1: true }, config: { epochs: 3, batchSize: 4, learningRate: 0.01, seed: 1 } }));
    await handle({ type: 'setPlan', runId: 1, plan: { conv1: false, bn1: true } });
    await running;
    const report = auditOf(replies, 1);
    expect(report.layers.filter((l) => l.frozen).map((l) => l.layer)).toEqual(['bn1']);
    expect(report.failed).toEqual([]);
    await handle({ type: 'loadModel', requestId: 2, source: { kind: 'url', url: 'x' } });
    await handle({ type: 'verify', requestId: 3 });
    expect(replies[replies.length - 1]).toMatchObject({ type: 'requestFailed', requestId: 3, error: { name: 'NoRun' } });
  });
});

describe('live control of a run (schedule, live plan, pause, cache progress)', () => {
  it('moves from the cached head to the full model at a schedule step, posts the change, and drops the stale cache', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    const headOnly = { conv1: true, bn1: true, relu1: true, conv2: true, bn2: true, relu2: true, flatten: true };
    await handle(
      trainRequest(4, {
        plan: headOnly,
        config: {
          epochs: 2,
          batchSize: 4,
          learningRate: 0.01,
          seed: 1,
          unfreezeSchedule: [{ epoch: 1, unfreeze: ['conv2', 'bn2'], label: 'unfreeze conv2 and up' }],
        },
      }),
    );
    const types = replies.map((r) => r.type);
    expect(types).toContain('cacheProgress');
    const progress = replies.filter((r) => r.type === 'cacheProgress');
    const last = progress[progress.length - 1];
    if (last.type !== 'cacheProgress') throw new Error();
    expect([last.done, last.total]).toEqual([40, 40]);
    const started = replies.find((r) => r.type === 'runStarted');
    if (started?.type !== 'runStarted') throw new Error();
    expect(started.setup.featureCache?.used).toBe(true);
    const changed = replies.find((r) => r.type === 'trainableChanged');
    if (changed?.type !== 'trainableChanged') throw new Error('no trainableChanged');
    expect(changed.change).toMatchObject({ step: 8, epoch: 1, batch: 0, cause: 'schedule', label: 'unfreeze conv2 and up' });
    // The change comes after epoch 1's metrics and before epoch 2's.
    const epochs = types.flatMap((t, i) => (t === 'epoch' ? [i] : []));
    const at = types.indexOf('trainableChanged');
    expect(epochs[0]).toBeLessThan(at);
    expect(at).toBeLessThan(epochs[1]);
    // conv2 trained: the next head-only run must build its features again.
    replies.length = 0;
    await handle(trainRequest(5, { plan: headOnly }));
    const again = replies.find((r) => r.type === 'runStarted');
    if (again?.type !== 'runStarted') throw new Error();
    expect(again.setup.featureCache).toMatchObject({ used: true, built: true });
  });

  it('applies a live plan at the next boundary and holds a paused run until resume', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    const running = handle(trainRequest(6, { config: { epochs: 3, batchSize: 4, learningRate: 0.01, seed: 1 } }));
    const batchesSoFar = () => replies.filter((r) => r.type === 'batches').length;
    while (batchesSoFar() < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    await handle({ type: 'pause', runId: 6 });
    while (!replies.some((r) => r.type === 'paused')) await new Promise((resolve) => setTimeout(resolve, 5));
    const held = batchesSoFar();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(batchesSoFar()).toBe(held); // nothing trains while paused
    await handle({ type: 'setPlan', runId: 6, plan: { conv1: false, bn1: false } });
    await handle({ type: 'resume', runId: 6 });
    await running;
    const pauses = replies.flatMap((r) => (r.type === 'paused' ? [r.paused] : []));
    expect(pauses).toEqual([true, false]);
    const changed = replies.find((r) => r.type === 'trainableChanged');
    if (changed?.type !== 'trainableChanged') throw new Error('no trainableChanged');
    expect(changed.change.cause).toBe('live');
    expect(changed.change.label).toBe('unfreeze conv1 and bn1');
    expect(changed.change.optimizerVariables.map((v) => v.name.split('/')[0])).toContain('conv1');
    const ended = replies.find((r) => r.type === 'runEnded');
    if (ended?.type !== 'runEnded') throw new Error();
    expect(ended.outcome.epochsCompleted).toBe(3);
  });
});

describe('worker message handler: start from the pretrained weights', () => {
  const lossesOf = (replies: WorkerReply[], runId: number) =>
    replies.flatMap((r) => (r.type === 'batches' && r.runId === runId ? r.points.map((p) => p.loss) : []));
  /** Fingerprints of every weight before (or after) the run, by weight name without tfjs' uniquifying suffix. */
  const fingerprints = (replies: WorkerReply[], runId: number, when: 'before' | 'after') =>
    Object.fromEntries(auditOf(replies, runId).layers.flatMap((l) => l.weights.map((w) => [`${l.layer}/${w.name.replace(/_\d+$/, '')}`, w[when]])));
  // conv2, bn2 and the head train: the backbone changes during a run.
  const request = (runId: number, fromPretrained?: boolean) =>
    trainRequest(runId, { config: { epochs: 2, batchSize: 4, learningRate: 0.01, seed: 1, ...(fromPretrained === undefined ? {} : { fromPretrained }) } });

  it('two runs in a row from the pretrained weights give identical losses and start from the same weights', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle(request(1, true));
    const tensors = tf.memory().numTensors;
    await handle(request(2)); // absent = from the pretrained weights
    expect(tf.memory().numTensors).toBe(tensors);
    const first = lossesOf(replies, 1);
    expect(first).toHaveLength(16);
    expect(lossesOf(replies, 2)).toEqual(first);
    expect(fingerprints(replies, 2, 'before')).toEqual(fingerprints(replies, 1, 'before'));
    // The first run did change the backbone, so the restore had something to undo.
    expect(fingerprints(replies, 1, 'after')['conv2/conv2/kernel']).not.toBe(fingerprints(replies, 1, 'before')['conv2/conv2/kernel']);
  });

  it('without it, the second run starts from the weights the first one left', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle(request(1));
    await handle(request(2, false));
    expect(fingerprints(replies, 2, 'before')).toEqual(fingerprints(replies, 1, 'after'));
    expect(fingerprints(replies, 2, 'before')).not.toEqual(fingerprints(replies, 1, 'before'));
    expect(lossesOf(replies, 2)[0]).not.toBe(lossesOf(replies, 1)[0]);
    // A third run from the pretrained weights is back where the first began.
    await handle(request(3, true));
    expect(lossesOf(replies, 3)).toEqual(lossesOf(replies, 1));
  });

  it('after a run that trained the backbone, a head-only run from the pretrained weights rebuilds the features (they were of trained weights)', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    const allFrozen = { conv1: true, bn1: true, conv2: true, bn2: true };
    const quick = { epochs: 1, batchSize: 8, learningRate: 0.01, seed: 1 };
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    await handle(trainRequest(1, { plan: allFrozen, config: quick }));
    await handle(trainRequest(2, { plan: { conv1: true, bn1: true }, config: { ...quick, fromPretrained: false } }));
    await handle(trainRequest(3, { plan: allFrozen, config: { ...quick, fromPretrained: false } })); // features of the trained backbone
    await handle(trainRequest(4, { plan: allFrozen, config: quick })); // restored: those features are stale
    const cacheOf = (runId: number) => {
      const started = replies.find((r) => r.type === 'runStarted' && r.runId === runId);
      if (started?.type !== 'runStarted') throw new Error(`no runStarted for run ${runId}`);
      return started.setup.featureCache;
    };
    expect(cacheOf(3)).toMatchObject({ used: true, built: true });
    expect(cacheOf(4)).toMatchObject({ used: true, built: true, images: 40 });
    expect(lossesOf(replies, 4)).toEqual(lossesOf(replies, 1));
    // With the backbone untouched since, the next head-only run reuses them.
    await handle(trainRequest(5, { plan: allFrozen, config: quick }));
    expect(cacheOf(5)).toMatchObject({ used: true, built: false });
  });
});

describe('live edits during a scheduled run', () => {
  it('apply only what the user changed: a toggle does not re-freeze the layers a schedule step unfroze', async () => {
    const { replies, handle } = setup({ batchFlushMs: 0 });
    await handle({ type: 'loadModel', requestId: 1, source: { kind: 'url', url: 'x' } });
    const headOnly = { conv1: true, bn1: true, relu1: true, conv2: true, bn2: true, relu2: true, flatten: true };
    const running = handle(
      trainRequest(9, {
        plan: headOnly,
        config: {
          epochs: 3,
          batchSize: 4,
          learningRate: 0.01,
          seed: 1,
          unfreezeSchedule: [{ epoch: 1, unfreeze: ['conv2', 'bn2'], label: 'unfreeze conv2 and up' }],
        },
      }),
    );
    // Wait for the schedule step, then unfreeze conv1 from the UI, whose plan still shows conv2 frozen.
    while (!replies.some((r) => r.type === 'trainableChanged')) await new Promise((resolve) => setTimeout(resolve, 5));
    await handle({ type: 'setPlan', runId: 9, plan: { ...headOnly, conv1: false } });
    await running;
    const changes = replies.flatMap((r) => (r.type === 'trainableChanged' ? [r.change] : []));
    expect(changes.map((c) => [c.cause, c.label])).toEqual([
      ['schedule', 'unfreeze conv2 and up'],
      ['live', 'unfreeze conv1'],
    ]);
    const held = changes[1].optimizerVariables.map((v) => v.name.split('/')[0]);
    expect(held).toContain('conv2');
    expect(held).toContain('conv1');
  });
});
