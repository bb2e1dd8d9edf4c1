import * as tf from '@tensorflow/tfjs';
import { countWeightParams, appliedFreezePlan } from '../engine/freeze';
import { cutCandidates } from '../engine/head';
import { HEAD_LAYER_NAMES } from '../core/headSpec';
import { isAugmentationOn } from '../core/augment';
import type { LoadedModel } from '../engine/modelFiles';
import { originalNames, packWeights } from '../engine/namedWeights';
import { createTrainingBackendPicker } from '../engine/forwardBackend';
import { outOfMemoryAdvice } from '../core/backendChoice';
import { wasmFitMessage } from '../core/memoryFit';
import { wasmStepFit } from '../engine/wasmMemory';
import { createRunTargets } from '../engine/runTargets';
import { trainConfigProblem } from '../core/trainConfigCheck';
import { optimizedVariables } from '../engine/trainableSet';
import { trainRun, type TrainHooks, type TrainResult } from '../engine/trainer';
import { createTransferSession } from '../engine/transferSession';
import type { BackendName, RunOutcome, WireImageSet, WorkerRequest } from './protocol';
import { createAuditSession } from './auditSession';
import { createBatchStream, type BatchStream } from './batchStream';
import { describeModel } from './describeModel';
import { createRunControl, type RunControl } from './runControl';
import { assertNever, toWireError } from './wire';
import { exportModel, exportTransfer, predict, readSourceWeights, setWeights } from './modelRequests';
import type { Post, WorkerContext, WorkerDeps } from './workerContext';

/** Backends probed for the feature cache's forward pass besides the training one (wasm: XNNPACK, issue 15). */
const FORWARD_CANDIDATES = ['webgpu', 'webgl', 'wasm', 'cpu'];
/** Other backends are probed only when the cache build on the training backend would take at least this long. */
const FORWARD_PROBE_MIN_BUILD_MS = 4000;

/** The other backends worth probing here: WebGPU only where the browser offers navigator.gpu; not cpu where wasm can run (always faster at a CNN, and a cpu probe of MobileNetV2 costs seconds). */
function forwardCandidates(): string[] {
  const hasGpu = typeof navigator !== 'undefined' && 'gpu' in navigator;
  const hasWasm = tf.findBackendFactory('wasm') !== null;
  return FORWARD_CANDIDATES.filter((b) => b !== tf.getBackend() && (b !== 'webgpu' || hasGpu) && (b !== 'cpu' || !hasWasm));
}

/** Backends a run that trains through the model is timed on at its start (auto only; cpu never beats wasm at training a CNN). */
const TRAIN_CANDIDATES = ['webgpu', 'webgl', 'wasm'];

/** The training candidates that could start here: WebGPU with navigator.gpu, WebGL with a canvas, wasm once registered. */
function trainingCandidates(): string[] {
  const hasGpu = typeof navigator !== 'undefined' && 'gpu' in navigator;
  const hasCanvas = typeof OffscreenCanvas !== 'undefined' || typeof document !== 'undefined';
  const usable: Record<string, boolean> = { webgpu: hasGpu, webgl: hasCanvas, wasm: true };
  return TRAIN_CANDIDATES.filter((b) => usable[b] && tf.findBackendFactory(b) !== null);
}

type TrainRequest = Extract<WorkerRequest, { type: 'train' }>;

function toImageSet(wire: WireImageSet) {
  return { pixels: wire.pixels, labels: wire.labels, shape: wire.shape };
}

/**
 * Why `msg` cannot start a run on `loaded`, or null. Checked before anything
 * is changed, so a bad request leaves the last trained model as it was.
 */
function trainRequestProblem(msg: TrainRequest, loaded: LoadedModel): string | null {
  if (msg.classNames.length < 2) return `Training needs at least two classes; the request has ${msg.classNames.length}.`;
  if (!loaded.model.layers.some((l) => l.name === msg.cutLayer))
    return `The cut layer '${msg.cutLayer}' is not a layer of model '${loaded.model.name}'. Pick a cut layer from the list.`;
  if (!cutCandidates(loaded.model).includes(msg.cutLayer))
    return `Layer '${msg.cutLayer}' does not have a single output; pick a layer with a single output as the cut.`;
  const clash = HEAD_LAYER_NAMES.find((name) => loaded.model.layers.some((l) => l.name === name));
  if (clash) return `The model already has a layer named '${clash}', a name the studio's head uses. Rename that layer and import the model again.`;
  const { height, width, channels } = loaded.inputShape;
  for (const [label, set] of [
    ['training', msg.train],
    ['validation', msg.validation],
  ] as const) {
    if (!set) continue;
    const { shape } = set;
    if (shape.height !== height || shape.width !== width || shape.channels !== channels) {
      return `The ${label} images are ${shape.height}×${shape.width}×${shape.channels}, but the model is fed ${height}×${width}×${channels}. Decode them at the model's input size.`;
    }
    if (set.pixels.length !== set.labels.length * height * width * channels)
      return `The ${label} set's pixel buffer does not hold ${set.labels.length} images of ${height}×${width}×${channels}.`;
  }
  return trainConfigProblem(msg.config);
}

/** How a run ended, as the main thread is told. */
function outcomeOf(result: TrainResult): RunOutcome {
  const { stopped, epochsCompleted, batches, validationLoss, validationAccuracy, stoppedEarly, restoredEpoch, failure, endNote } = result;
  return { stopped, epochsCompleted, batches, validationLoss, validationAccuracy, stoppedEarly, restoredEpoch, failure, endNote };
}

/** The trainer's hooks for run `control`: streamed batches, epochs, changes and pauses become messages. */
function runHooks(ctx: WorkerContext, control: RunControl, stream: BatchStream): TrainHooks {
  const { runId } = control;
  return {
    onBatch: (point) => stream.push(point),
    onEpoch: (metrics) => {
      stream.flush();
      ctx.post({ type: 'epoch', runId, metrics });
      ctx.audit.epochEnded(runId, metrics.epoch);
    },
    shouldStop: control.shouldStop,
    takeLivePlan: control.takeLivePlan,
    onTrainableChange: (change) => {
      stream.flush();
      ctx.audit.trainableChanged(runId);
      ctx.post({ type: 'trainableChanged', runId, change });
    },
    pauseGate: () => control.pauseGate((paused) => ctx.post({ type: 'paused', runId, paused })),
  };
}

/** The checkpoint hook of a run that asked for them: the weights the run changes, by original name, and the plan in force (buffer transferred). */
function checkpointHook(ctx: WorkerContext, runId: number, model: tf.LayersModel, headLayers: ReadonlySet<string>): TrainHooks['onCheckpoint'] {
  const names = originalNames(model);
  return ({ epoch, values, learningRateFactor }) => {
    const weights = packWeights(values, names);
    const plan = appliedFreezePlan(model, headLayers);
    ctx.post({ type: 'checkpoint', runId, epoch, learningRateFactor, plan, weights }, [weights.weightData]);
  };
}

/** Times the run's plan on the training candidates (once per model, cut, plan, batch and BN modes) and moves the weights to the fastest. */
async function pickTrainingBackend(ctx: WorkerContext, msg: TrainRequest, model: tf.LayersModel, train: ReturnType<typeof toImageSet>, unfit: string[]) {
  if (!ctx.models.loaded) return undefined;
  const batchNormOverrides = msg.batchNormOverrides ?? {};
  const plan = JSON.stringify(model.layers.map((l) => [l.name, l.trainable]));
  const key = [ctx.models.modelId(), msg.cutLayer, plan, msg.config.batchSize, JSON.stringify(batchNormOverrides)].join('|');
  const input = {
    model,
    set: train,
    numClasses: msg.classNames.length,
    preprocessing: msg.preprocessing,
    batchSize: msg.config.batchSize,
    batchNormOverrides,
    unfit,
  };
  const choice = await ctx.pickTrainingBackend(key, input, [ctx.models.loaded.model, model]);
  ctx.backend = tf.getBackend() as BackendName;
  return choice?.probes;
}

/** Sets up and trains one run: transfer model, feature cache, runStarted, the loop, the audit, runEnded. */
async function runTraining(ctx: WorkerContext, msg: TrainRequest, control: RunControl, stream: BatchStream): Promise<void> {
  const { runId } = msg;
  let { config } = msg;
  // A resumed run goes on from the checkpoint the worker holds (setWeights), not from the pretrained weights.
  const { model, headLayers } = ctx.models.prepareRun(msg.resume ? { ...msg, config: { ...config, fromPretrained: false } } : msg);
  const optimizerVariables = optimizedVariables(model, config);
  const train = toImageSet(msg.train);
  const validation = msg.validation ? toImageSet(msg.validation) : null;
  // Feature cache: with everything below the head frozen, run that part once per image and train the head alone.
  const { features, use } = await ctx.models.features.forRun({
    model,
    headLayers,
    modelId: ctx.models.modelId(),
    cutLayer: msg.cutLayer,
    preprocessing: msg.preprocessing,
    train,
    validation,
    batchSize: config.batchSize,
    augmented: isAugmentationOn(config.augmentation),
    shouldStop: control.shouldStop,
    onProgress: (done, total) => ctx.post({ type: 'cacheProgress', runId, done, total }),
  });
  // Auto epochs planned many cheap epochs on the cache; without it, the Epochs field's number holds.
  if (!features && config.epochsWithoutCache !== undefined && config.epochsWithoutCache < config.epochs)
    config = { ...config, epochs: config.epochsWithoutCache };
  // Auto, through the model: a step of this plan timed on each backend, the run moved to the fastest (issue 15).
  // wasm's heap cannot pass 4 GiB, and threaded wasm was seen to hang there: a step that cannot fit is never run on wasm,
  // not even by the backend measurement, and a run left on wasm is refused before it starts.
  const wasmFit = features ? { fits: true as const } : wasmStepFit(model, headLayers, config, msg.batchNormOverrides ?? {});
  const backendProbes = !features && ctx.preference === 'auto' ? await pickTrainingBackend(ctx, msg, model, train, wasmFit.fits ? [] : ['wasm']) : undefined;
  if (!wasmFit.fits && (ctx.backend ?? tf.getBackend()) === 'wasm') throw Object.assign(new Error(wasmFitMessage(wasmFit)), { name: 'OutOfMemory' });
  ctx.post({
    type: 'runStarted',
    runId,
    setup: {
      backend: ctx.backend ?? (tf.getBackend() as BackendName),
      optimizerVariables,
      trainableParams: countWeightParams(optimizerVariables),
      featureCache: use,
      appliedPlan: appliedFreezePlan(model, headLayers),
      config,
      batchNormOverrides: msg.batchNormOverrides ?? {},
      ...(backendProbes ? { backendProbes } : {}),
    },
  });
  await ctx.audit.runStarting({ runId, model, headLayers });
  // Schedule steps and live plans can move the run between the cached head and the full model, at batch boundaries.
  const targets = createRunTargets({
    model,
    headLayers,
    train,
    validation,
    numClasses: msg.classNames.length,
    preprocessing: msg.preprocessing,
    config,
    features,
  });
  let result: TrainResult;
  try {
    const hooks = runHooks(ctx, control, stream);
    if (msg.checkpoints) hooks.onCheckpoint = checkpointHook(ctx, runId, model, headLayers);
    result = await trainRun({ model, headLayers, currentTarget: targets.currentTarget }, config, hooks, { resume: msg.resume });
  } finally {
    ctx.models.runEnded(targets.trainedPretrained());
  }
  stream.flush();
  await ctx.audit.runEnded(runId);
  await postHeldOutPredictions(ctx, runId, validation, msg.test ? toImageSet(msg.test) : null);
  ctx.post({ type: 'runEnded', runId, outcome: outcomeOf(result) });
}

/** The evaluation: one pass of the weights the run ended with over the images it held out (already here: nothing crosses again). */
async function postHeldOutPredictions(
  ctx: WorkerContext,
  runId: number,
  validation: ReturnType<typeof toImageSet> | null,
  test: ReturnType<typeof toImageSet> | null,
): Promise<void> {
  const numClasses = ctx.models.transfer ? (ctx.models.transfer.model.outputs[0].shape.at(-1) ?? 0) : 0;
  try {
    const predictSet = async (set: ReturnType<typeof toImageSet> | null) =>
      set && set.labels.length > 0 ? (await ctx.models.predict(set.pixels, set.shape)).probabilities : null;
    const probabilities = { validation: await predictSet(validation), test: await predictSet(test) };
    const transfer = [probabilities.validation, probabilities.test].flatMap((p) => (p ? [p.buffer] : []));
    ctx.post({ type: 'heldOutPredictions', runId, numClasses, ...probabilities }, transfer);
  } catch (error) {
    ctx.post({ type: 'heldOutPredictions', runId, numClasses, validation: null, test: null, error: toWireError(error).message });
  }
}

/** A failure that was memory, told as such with a smaller batch to try (issue 15); any other error as it was. */
function withMemoryAdvice(error: ReturnType<typeof toWireError>, batchSize: number, backend: string | null): ReturnType<typeof toWireError> {
  if (error.name === 'OutOfMemory') return error; // already said in words (the wasm heap check before the run)
  const advice = outOfMemoryAdvice(error.message, batchSize, backend);
  return advice ? { ...error, name: 'OutOfMemory', message: `${advice} (${error.message})` } : error;
}

async function train(ctx: WorkerContext, msg: TrainRequest): Promise<void> {
  const { runId } = msg;
  const fail = (name: string, message: string) => ctx.post({ type: 'runFailed', runId, error: { name, message } });
  if (ctx.active) return fail('Busy', `Run ${ctx.active.runId} is still in progress; stop it first.`);
  if (!ctx.models.loaded) return fail('NoModel', 'No model is loaded yet.');
  const problem = trainRequestProblem(msg, ctx.models.loaded);
  if (problem) return fail('BadRequest', problem);
  const control = createRunControl(runId, msg.plan, msg.batchNormOverrides ?? {});
  const stream = createBatchStream((points) => ctx.post({ type: 'batches', runId, points }), ctx.deps.batchFlushMs ?? 100);
  ctx.active = control;
  try {
    await runTraining(ctx, msg, control, stream);
  } catch (error) {
    stream.flush();
    ctx.post({ type: 'runFailed', runId, error: withMemoryAdvice(toWireError(error), msg.config.batchSize, ctx.backend) });
  } finally {
    ctx.active = null;
  }
}

async function init(ctx: WorkerContext, msg: Extract<WorkerRequest, { type: 'init' }>): Promise<void> {
  try {
    const selected = await ctx.deps.selectBackend(msg.backend, msg.allowSoftwareWebgl);
    ctx.backend = selected.backend;
    ctx.preference = msg.backend;
    ctx.post({ type: 'ready', requestId: msg.requestId, backend: selected.backend, notes: selected.notes });
  } catch (error) {
    ctx.post({ type: 'requestFailed', requestId: msg.requestId, error: toWireError(error) });
  }
}

async function loadModel(ctx: WorkerContext, msg: Extract<WorkerRequest, { type: 'loadModel' }>): Promise<void> {
  if (ctx.active) {
    ctx.post({
      type: 'requestFailed',
      requestId: msg.requestId,
      error: { name: 'Busy', message: 'A run is in progress; stop it before loading another model.' },
    });
    return;
  }
  try {
    const opened = await ctx.deps.loadModel(msg.source);
    if (!opened.ok) {
      ctx.post({ type: 'requestFailed', requestId: msg.requestId, error: { name: 'ModelFileError', code: opened.code, message: opened.reason } });
      return;
    }
    await ctx.models.load(opened.loaded);
    ctx.audit.reset();
    ctx.post({ type: 'modelLoaded', requestId: msg.requestId, model: describeModel(ctx.models.loaded!) });
  } catch (error) {
    ctx.post({ type: 'requestFailed', requestId: msg.requestId, error: toWireError(error) });
  }
}

/**
 * Creates the studio's worker side: `onRequest(msg)` adapts each request to
 * engine calls (engine/transferSession.ts holds the models and their policy,
 * trainer.ts trains) and answers through `post`. One run at a time; a stop
 * for a run that is not active is ignored.
 */
export function createStudioWorker(post: Post, deps: WorkerDeps): (msg: WorkerRequest) => Promise<void> {
  const ctx: WorkerContext = {
    post,
    deps,
    models: createTransferSession({ candidates: forwardCandidates, minProbeBuildMs: FORWARD_PROBE_MIN_BUILD_MS }),
    audit: createAuditSession(post),
    backend: null,
    preference: 'auto',
    pickTrainingBackend: createTrainingBackendPicker(deps.trainingCandidates ?? trainingCandidates),
    active: null,
  };
  return async function onRequest(msg: WorkerRequest): Promise<void> {
    const run = ctx.active?.runId === (msg as { runId?: number }).runId ? ctx.active : null;
    switch (msg.type) {
      case 'init':
        return init(ctx, msg);
      case 'loadModel':
        return loadModel(ctx, msg);
      case 'train':
        return train(ctx, msg);
      case 'stop':
        return run?.stop();
      case 'setPlan':
        return run?.setPlan(msg.plan, msg.batchNormOverrides ?? {});
      case 'pause':
        return run?.pause();
      case 'resume':
        return run?.resume();
      case 'verify':
        return ctx.audit.verify(msg.requestId);
      case 'exportModel':
        return exportModel(ctx, msg.requestId);
      case 'predict':
        return predict(ctx, msg.requestId, msg.images);
      case 'setWeights':
        return setWeights(ctx, msg);
      case 'exportTransfer':
        return exportTransfer(ctx, msg);
      case 'readSourceWeights':
        return readSourceWeights(ctx, msg.requestId);
      default:
        assertNever(msg);
    }
  };
}
