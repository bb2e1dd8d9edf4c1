import { describe, expect, it } from 'vitest';
import { nextRunTraining, nextRunValidationTrainedOn, runBatchesPerEpoch } from '../store/selectors';
import { createStudioStore } from '../store/store';
import type { ModelDescription, WorkerReply, WorkerRequest } from '../worker/protocol';
import { createStudioClient } from './studioClient';
import type { Transport } from './transport';

const model: ModelDescription = {
  name: 'tiny',
  layers: [
    {
      name: 'conv',
      className: 'Conv2D',
      outputShape: [2, 2, 3],
      trainableParams: 30,
      nonTrainableParams: 0,
      frozenInSource: true,
      origin: 'pretrained',
      parent: null,
    },
    {
      name: 'flat',
      className: 'Flatten',
      outputShape: [12],
      trainableParams: 0,
      nonTrainableParams: 0,
      frozenInSource: false,
      origin: 'pretrained',
      parent: null,
    },
    {
      name: 'out',
      className: 'Dense',
      outputShape: [2],
      trainableParams: 26,
      nonTrainableParams: 0,
      frozenInSource: false,
      origin: 'pretrained',
      parent: null,
    },
  ],
  defaultCutLayer: 'flat',
  inputShape: { height: 2, width: 2, channels: 1 },
  preprocessing: { range: [0, 1], resize: 'stretch' },
  provenance: null,
  sourceHash: '00',
  cutCandidates: ['conv', 'flat', 'out'],
  layerCount: 4,
};

/** A transport that records requests and lets the test play the worker (it answers init and loadModel itself while `answering`). */
function fakeTransport() {
  const sent: { request: WorkerRequest; transfer?: Transferable[] }[] = [];
  let reply: (r: WorkerReply) => void = () => {};
  let crash: (message: string) => void = () => {};
  const control = { answering: true, restarts: 0 };
  const transport: Transport = {
    post: (request, transfer) => {
      sent.push({ request, transfer });
      if (!control.answering) return;
      if (request.type === 'init') queueMicrotask(() => reply({ type: 'ready', requestId: request.requestId, backend: 'cpu', notes: [] }));
      if (request.type === 'loadModel') queueMicrotask(() => reply({ type: 'modelLoaded', requestId: request.requestId, model }));
    },
    listen: (onReply, onCrash) => {
      reply = onReply;
      crash = onCrash;
    },
    restart: () => {
      control.restarts++;
    },
  };
  return { transport, sent, control, reply: (r: WorkerReply) => reply(r), crash: (message: string) => crash(message) };
}

async function readyClient() {
  const store = createStudioStore();
  const fake = fakeTransport();
  const client = createStudioClient(fake.transport, store);
  await client.init('auto');
  await client.loadModel({ kind: 'url', url: 'model.json' }, { kind: 'url', url: 'model.json' });
  const pixels = (v: number) => new Uint8Array(4).fill(v);
  store
    .getState()
    .loadSample('s', [
      ...[1, 2, 3, 4].map((v) => ({ path: `a/${v}`, className: 'a', pixels: pixels(v) })),
      ...[5, 6, 7, 8].map((v) => ({ path: `b/${v}`, className: 'b', pixels: pixels(v) })),
    ]);
  return { store, client, ...fake };
}

describe('studio client', () => {
  it("starts from the file's own freeze flags and sends a run with transferred, split buffers", async () => {
    const { store, client, sent } = await readyClient();
    expect(store.getState().freezePlan).toEqual({ conv: true, flat: false, out: false });
    const runId = client.train();
    expect(runId).toBe(1);
    const { request, transfer } = sent[sent.length - 1];
    if (request.type !== 'train') throw new Error(request.type);
    expect(request.classNames).toEqual(['a', 'b']);
    expect(request.train.labels.length + request.validation!.labels.length).toBe(8);
    expect(request.validation!.labels.length).toBe(2); // one per class (15% of 4, at least 1)
    expect(request.train.pixels.length).toBe(request.train.labels.length * 4);
    expect(transfer).toContain(request.train.pixels.buffer);
    expect(store.getState().runStatus).toBe('starting');
  });

  it('drops messages of a stale run and applies those of the current one', async () => {
    const { store, client, reply } = await readyClient();
    client.train();
    reply({ type: 'runEnded', runId: 1, outcome: { stopped: true, epochsCompleted: 0, batches: 1, validationLoss: 1, validationAccuracy: 0.5 } });
    client.train();
    reply({ type: 'batches', runId: 1, points: [{ step: 9, epoch: 0, batch: 9, loss: 9 }] });
    reply({ type: 'batches', runId: 2, points: [{ step: 0, epoch: 0, batch: 0, loss: 0.7 }] });
    expect(store.getState().batchPoints.map((p) => p.loss)).toEqual([0.7]);
    reply({ type: 'runFailed', runId: 2, error: { name: 'Error', message: 'out of memory' } });
    expect(store.getState().runStatus).toBe('failed');
    expect(store.getState().runError).toBe('Training failed: out of memory');
  });

  it('refuses to start with a reason when the data has a single class', async () => {
    const { store, client, sent } = await readyClient();
    store.getState().addUserImages('one', [{ path: 'x/1', className: 'x', pixels: new Uint8Array(4) }], [], []);
    const before = sent.length;
    expect(client.train()).toBeNull();
    expect(sent.length).toBe(before);
    expect(store.getState().trainRefusal).toBe('Training needs at least two classes with images.');
    expect(store.getState().runStatus).toBe('idle');
  });
});

describe('studio client: export', () => {
  it("resolves with the worker's artifacts, and rejects with the worker's reason", async () => {
    const { client, sent, reply } = await readyClient();
    const exported = client.exportModel();
    const { request } = sent[sent.length - 1];
    if (request.type !== 'exportModel') throw new Error(request.type);
    const artifacts = {
      format: 'layers-model',
      generatedBy: 'test',
      modelTopology: { class_name: 'Model', config: { name: 'm', layers: [] } },
      weightSpecs: [],
      weightData: new ArrayBuffer(0),
    };
    reply({ type: 'modelExported', requestId: request.requestId, artifacts });
    await expect(exported).resolves.toBe(artifacts);
    const refused = client.exportModel();
    const second = sent[sent.length - 1].request as { requestId: number };
    reply({ type: 'requestFailed', requestId: second.requestId, error: { name: 'NoTrainedModel', message: 'No model has been trained yet.' } });
    await expect(refused).rejects.toThrow('No model has been trained yet.');
  });
});

describe('studio client: freeze audit', () => {
  const report = (failed: string[]) => ({
    layers: [
      {
        layer: 'conv',
        frozen: true,
        statisticsMayChange: false,
        weights: [],
        maxAbsChange: failed.length ? 0.5 : 0,
        relativeUpdate: 0.25,
        ok: failed.length === 0,
      },
    ],
    failed,
    frozenLayers: 1,
    when: 'run-end' as const,
  });

  it("stores the current run's relative updates and audit, drops a stale run's, and clears both on a new run", async () => {
    const { store, client, reply } = await readyClient();
    client.train();
    reply({ type: 'layerUpdates', runId: 1, epoch: 0, updates: { conv: 0, out: 0.1 } });
    expect(store.getState().layerUpdates).toEqual({ conv: 0, out: 0.1 });
    reply({ type: 'audit', runId: 1, requestId: null, report: report([]) });
    expect(store.getState().audit?.failed).toEqual([]);
    // The audit's own reading replaces the last epoch's (layers without weights are left out).
    expect(store.getState().layerUpdates).toEqual({});
    reply({ type: 'runEnded', runId: 1, outcome: { stopped: false, epochsCompleted: 1, batches: 1, validationLoss: 1, validationAccuracy: 0.5 } });
    client.train();
    expect(store.getState().audit).toBeNull();
    expect(store.getState().layerUpdates).toBeNull();
    reply({ type: 'audit', runId: 1, requestId: null, report: report(['conv']) });
    reply({ type: 'layerUpdates', runId: 1, epoch: 3, updates: { conv: 9 } });
    expect(store.getState().audit).toBeNull();
    expect(store.getState().layerUpdates).toBeNull();
  });

  it("verify sends a request, stores the answer, and rejects with the worker's reason", async () => {
    const { store, client, sent, reply } = await readyClient();
    client.train();
    const verified = client.verify();
    const request = sent[sent.length - 1].request;
    if (request.type !== 'verify') throw new Error(request.type);
    reply({ type: 'audit', runId: 1, requestId: request.requestId, report: { ...report(['conv']), when: 'verify' } });
    await verified;
    expect(store.getState().audit).toMatchObject({ when: 'verify', failed: ['conv'] });

    const refused = client.verify();
    const second = sent[sent.length - 1].request;
    if (second.type !== 'verify') throw new Error(second.type);
    reply({ type: 'requestFailed', requestId: second.requestId, error: { name: 'NoRun', message: 'No run to verify since this model was loaded.' } });
    await expect(refused).rejects.toThrow('No run to verify');
    // A model load forgets the audit.
    await client.loadModel({ kind: 'url', url: 'model.json' }, { kind: 'url', url: 'model.json' });
    expect(store.getState().audit).toBeNull();
  });
});

describe('studio client: live control of a run', () => {
  it('sends a plan edited during a run as setPlan (BN overrides included), and nothing when idle', async () => {
    const { store, client, sent } = await readyClient();
    store.getState().setLayerFrozen('conv', false);
    expect(sent.some((s) => s.request.type === 'setPlan')).toBe(false);
    const runId = client.train()!;
    store.getState().runStarted({ backend: 'cpu', optimizerVariables: [], trainableParams: 0 });
    store.getState().setLayerFrozen('conv', true);
    store.getState().setBatchNormOverride('conv', 'train-stats');
    const live = sent.filter((s) => s.request.type === 'setPlan').map((s) => s.request);
    expect(live).toEqual([
      { type: 'setPlan', runId, plan: { conv: true, flat: false, out: false }, batchNormOverrides: {} },
      { type: 'setPlan', runId, plan: { conv: true, flat: false, out: false }, batchNormOverrides: { conv: 'train-stats' } },
    ]);
  });

  it('pauses and resumes the active run, and records the worker’s paused state and trainable-set changes', async () => {
    const { store, client, sent, reply } = await readyClient();
    client.pause();
    expect(sent.some((s) => s.request.type === 'pause')).toBe(false);
    const runId = client.train()!;
    reply({ type: 'runStarted', runId, setup: { backend: 'cpu', optimizerVariables: [], trainableParams: 0 } });
    client.pause();
    reply({ type: 'paused', runId, paused: true });
    expect(store.getState().paused).toBe(true);
    client.resume();
    reply({ type: 'paused', runId, paused: false });
    expect(sent.filter((s) => s.request.type === 'pause' || s.request.type === 'resume').map((s) => s.request.type)).toEqual(['pause', 'resume']);
    const change = {
      step: 4,
      epoch: 1,
      batch: 0,
      cause: 'schedule' as const,
      label: 'unfreeze conv',
      trainableParams: 56,
      learningRateFactor: 0.1,
      optimizerVariables: [],
    };
    reply({ type: 'trainableChanged', runId, change });
    reply({ type: 'trainableChanged', runId: runId + 5, change: { ...change, step: 9 } }); // another run's: dropped
    expect(store.getState().trainableChanges).toEqual([change]);
    reply({ type: 'cacheProgress', runId, done: 3, total: 8 });
    expect(store.getState().cacheProgress).toEqual({ done: 3, total: 8 });
  });

  it('sends the resolved schedule and per-layer multipliers, and refuses a schedule step outside the run', async () => {
    const { store, client, sent } = await readyClient();
    // Cut at 'flat': one block, 'conv' (the weightless 'flat' joins it).
    store.getState().setConfig({ epochs: 3 });
    store.getState().setScheduleSteps([{ epoch: 2, fromBlock: 'conv', learningRateFactor: 0.1 }]);
    store.getState().setBlockMultipliers({ conv: 0.5 });
    client.train();
    const request = sent[sent.length - 1].request;
    if (request.type !== 'train') throw new Error(request.type);
    expect(request.config.unfreezeSchedule).toEqual([{ epoch: 1, unfreeze: ['conv', 'flat'], learningRateFactor: 0.1, label: 'unfreeze conv · lr ×0.1' }]);
    expect(request.config.rateMultipliers).toEqual({ conv: 0.5, flat: 0.5 });
    store.getState().runEnded({ stopped: false, epochsCompleted: 3, batches: 3, validationLoss: null, validationAccuracy: null });
    store.getState().setScheduleSteps([{ epoch: 5, fromBlock: 'conv', learningRateFactor: null }]);
    const before = sent.length;
    expect(client.train()).toBeNull();
    expect(sent.length).toBe(before);
    expect(store.getState().trainRefusal).toMatch(/Schedule step 1 starts at epoch 5, but the run has 3 epochs/);
    expect(store.getState().runStatus).toBe('done');
  });
});

describe('studio client: Train while a run is active', () => {
  it('refuses without touching the live run: it keeps running, streams on, and the refusal is said apart', async () => {
    const { store, client, sent, reply } = await readyClient();
    const runId = client.train()!;
    reply({ type: 'runStarted', runId, setup: { backend: 'cpu', optimizerVariables: [], trainableParams: 0 } });
    const trains = () => sent.filter((s) => s.request.type === 'train').length;
    expect(client.train()).toBeNull();
    expect(trains()).toBe(1);
    expect(store.getState()).toMatchObject({ runId, runStatus: 'running', runError: null });
    expect(store.getState().trainRefusal).toBe(`Run ${runId} is still in progress: wait for it to end, or press Stop, then Train again.`);
    reply({ type: 'batches', runId, points: [{ step: 0, epoch: 0, batch: 0, loss: 0.7 }] });
    expect(store.getState().batchPoints).toHaveLength(1);
    // The next run that starts clears the refusal.
    reply({ type: 'runEnded', runId, outcome: { stopped: false, epochsCompleted: 1, batches: 1, validationLoss: 1, validationAccuracy: 0.5 } });
    expect(client.train()).toBe(runId + 1);
    expect(store.getState().trainRefusal).toBeNull();
  });
});

describe('studio client: auto epochs', () => {
  it('sends the config auto resolved for a run on cached features, and runSettings records what the run got', async () => {
    const { store, client, sent } = await readyClient();
    // conv frozen (the file's flag), flat weightless: the worker trains the head on cached features.
    expect(store.getState().autoEpochs).toBe(true);
    const hint = nextRunTraining(store.getState());
    expect(hint.mode).toBe('cached');
    client.train();
    const request = sent[sent.length - 1].request;
    if (request.type !== 'train') throw new Error(request.type);
    // 6 training images: batch 1 for 4+ steps per epoch, up to 100 epochs, patience 10.
    expect(request.config).toMatchObject({ epochs: 100, batchSize: 1, earlyStopping: { patience: 10 }, learningRate: 0.001 });
    expect(store.getState().runSettings?.config).toMatchObject({ epochs: 100, batchSize: 1, earlyStopping: { patience: 10 } });
    expect(store.getState().runSettings?.autoEpochs).toBe(hint.explanation);
    expect(runBatchesPerEpoch(store.getState())).toBe(6);
    // The user's settings themselves are unchanged.
    expect(store.getState().config).toMatchObject({ epochs: 10, batchSize: 32, earlyStopping: null });
  });

  it('keeps the Epochs field when layers below the head train, and when auto is off', async () => {
    const { store, client, sent } = await readyClient();
    const lastConfig = () => {
      const request = sent[sent.length - 1].request;
      if (request.type !== 'train') throw new Error(request.type);
      return request.config;
    };
    store.getState().setLayerFrozen('conv', false);
    expect(nextRunTraining(store.getState()).explanation).toBe("auto: 10 epochs — layers below the head train ('conv' is not frozen).");
    client.train();
    expect(lastConfig()).toMatchObject({ epochs: 10, batchSize: 32, earlyStopping: null });
    store.getState().runEnded({ stopped: false, epochsCompleted: 10, batches: 10, validationLoss: 1, validationAccuracy: 0.5 });

    store.getState().setLayerFrozen('conv', true);
    store.getState().setConfig({ epochs: 3 });
    store.getState().setAutoEpochs(false);
    client.train();
    expect(lastConfig()).toMatchObject({ epochs: 3, batchSize: 32, earlyStopping: null });
    expect(store.getState().runSettings?.autoEpochs).toBeNull();
  });
});

describe('studio client: a crashed worker', () => {
  it('rejects every pending request with the crash, and later ones at once', async () => {
    const { store, client, crash } = await readyClient();
    const exported = client.exportModel();
    const verified = client.verify();
    const predicted = client.predict({ pixels: new Uint8Array(4), labels: new Int32Array(1), shape: { height: 2, width: 2, channels: 1 } });
    crash('out of memory');
    for (const pending of [exported, verified, predicted])
      await expect(pending).rejects.toThrow(/^The training worker crashed: out of memory\. Press “Restart the training worker”/);
    expect(store.getState().workerCrash).toEqual({ message: 'out of memory', restarting: false, restartError: null });
    await expect(client.exportModel()).rejects.toThrow('The training worker crashed: out of memory.');
    expect(client.train()).toBeNull();
    expect(store.getState().trainRefusal).toMatch(/Restart the training worker/);
  });

  it('settles a model load and a backend start that were waiting, with the crash in the store', async () => {
    const { store, client, control, crash } = await readyClient();
    control.answering = false;
    const loading = client.loadModel({ kind: 'url', url: 'other.json' }, { kind: 'url', url: 'other.json' });
    const starting = client.init('auto');
    expect(store.getState().modelStatus).toBe('loading');
    crash('boom');
    await expect(loading).resolves.toBeNull();
    await expect(starting).resolves.toBeUndefined();
    expect(store.getState()).toMatchObject({ modelStatus: 'ready', modelError: 'The training worker crashed: boom' });
    expect(store.getState().model?.name).toBe('tiny'); // the current model stays
  });

  it('fails the active run, and restart starts a fresh worker with init and loadModel, keeping the plan and data', async () => {
    const { store, client, sent, control, crash } = await readyClient();
    store.getState().setLayerFrozen('conv', false);
    client.train();
    crash('the tab ran out of memory');
    expect(store.getState()).toMatchObject({ runStatus: 'failed', runError: 'The training worker crashed: the tab ran out of memory' });
    const before = sent.length;
    await expect(client.restart('webgl', true, { kind: 'url', url: 'model.json' })).resolves.toBe(true);
    expect(control.restarts).toBe(1);
    const again = sent.slice(before).map((s) => s.request);
    expect(again.map((r) => r.type)).toEqual(['init', 'loadModel']);
    expect(again[0]).toMatchObject({ backend: 'webgl', allowSoftwareWebgl: true });
    expect(again[1]).toMatchObject({ source: { kind: 'url', url: 'model.json' } });
    const state = store.getState();
    expect(state.workerCrash).toBeNull();
    expect(state.freezePlan).toEqual({ conv: false, flat: false, out: false });
    expect(state.images).toHaveLength(8);
    expect(state.runStatus).toBe('idle');
    expect(client.train()).toBe(2);
  });

  it('says why a restart failed and offers it again', async () => {
    const { store, client, sent, control, reply, crash } = await readyClient();
    crash('boom');
    control.answering = false;
    const restarting = client.restart('auto', false, { kind: 'url', url: 'model.json' });
    expect(store.getState().workerCrash?.restarting).toBe(true);
    const init = sent[sent.length - 1].request;
    if (init.type !== 'init') throw new Error(init.type);
    reply({ type: 'requestFailed', requestId: init.requestId, error: { name: 'NoBackend', message: 'No backend could start' } });
    await expect(restarting).resolves.toBe(false);
    expect(store.getState().workerCrash).toEqual({
      message: 'boom',
      restarting: false,
      restartError: 'Restarting the training worker failed: No backend could start. Reload the page to start the studio again.',
    });
  });
});

describe('studio client: validation images an earlier run trained on', () => {
  it('counts them when a run goes on from the last weights, records them in the run and its record, and forgets them on a fresh start', async () => {
    const { store, client } = await readyClient();
    const end = () => store.getState().runEnded({ stopped: false, epochsCompleted: 1, batches: 1, validationLoss: 1, validationAccuracy: 1 });
    client.train();
    const firstValidation = store.getState().evaluation!.validation!.images.map((i) => i.id);
    end();
    expect(nextRunValidationTrainedOn(store.getState())).toBe(0); // still from the pretrained weights
    // Another split moves images the weights trained on into validation.
    store.getState().setValidationFraction(0.5);
    store.getState().setConfig({ fromPretrained: false });
    const expected = nextRunValidationTrainedOn(store.getState());
    expect(expected).toBeGreaterThan(0);
    client.train();
    const validation = store.getState().evaluation!.validation!.images.map((i) => i.id);
    expect(expected).toBe(validation.filter((id) => !firstValidation.includes(id)).length);
    expect(store.getState().runSettings?.validationTrainedOn).toBe(expected);
    end();
    expect(store.getState().runs.map((r) => r.validationTrainedOn)).toEqual([0, expected]);
    // Both runs' training images are now in the weights: a run from the pretrained weights starts over.
    store.getState().setConfig({ fromPretrained: true });
    expect(nextRunValidationTrainedOn(store.getState())).toBe(0);
    client.train();
    expect(store.getState().runSettings?.validationTrainedOn).toBe(0);
  });
});

describe('studio client: the evaluation of a run', () => {
  it('sends the held-out test images with the run and stores the worker’s predictions of the current run only', async () => {
    const { store, client, sent, reply } = await readyClient();
    store.getState().setTestFraction(0.25);
    const runId = client.train()!;
    const request = sent.find((s) => s.request.type === 'train')!;
    if (request.request.type !== 'train') throw new Error();
    // Never trained on: the test images travel apart from the training ones, and are transferred.
    const test = request.request.test!;
    expect(test.labels.length).toBeGreaterThan(0);
    expect(request.transfer).toContain(test.pixels.buffer);
    const evaluation = store.getState().evaluation!;
    expect(evaluation).toMatchObject({ runId, status: 'pending' });
    expect(evaluation.test!.images.length).toBe(test.labels.length);
    // A stale run's predictions are dropped; the current run's fill the evaluation.
    reply({ type: 'heldOutPredictions', runId: runId - 1, numClasses: 2, validation: new Float32Array(2), test: null });
    expect(store.getState().evaluation!.status).toBe('pending');
    const validation = new Float32Array(evaluation.validation!.images.length * 2).fill(0.5);
    const testProbabilities = new Float32Array(test.labels.length * 2).fill(0.5);
    reply({ type: 'heldOutPredictions', runId, numClasses: 2, validation, test: testProbabilities });
    expect(store.getState().evaluation).toMatchObject({
      status: 'done',
      validation: { probabilities: validation },
      test: { probabilities: testProbabilities },
    });
  });

  it('stores why the worker could not predict them', async () => {
    const { store, client, reply } = await readyClient();
    const runId = client.train()!;
    reply({ type: 'heldOutPredictions', runId, numClasses: 2, validation: null, test: null, error: 'out of memory' });
    expect(store.getState().evaluation).toMatchObject({ status: 'failed', error: 'Evaluation failed: out of memory' });
  });
});
