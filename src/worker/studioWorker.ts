import * as tf from '@tensorflow/tfjs';
import { countWeightParams, appliedFreezePlan } from '../engine/freeze';
import { cutCandidates } from '../engine/head';
import { HEAD_LAYER_NAMES } from '../core/headSpec';
import { isAugmentationOn } from '../core/augment';
import type { LoadedModel } from '../engine/modelFiles';
import type { ModelOpenResult } from '../engine/modelSources';
import { createRunTargets } from '../engine/runTargets';
import { trainConfigProblem } from '../core/trainConfigCheck';
import { optimizedVariables } from '../engine/trainableSet';
import { trainRun, type TrainHooks, type TrainResult } from '../engine/trainer';
import { createTransferSession } from '../engine/transferSession';
import type { BackendName, BackendPreference, ModelSource, RunOutcome, WireImageSet, WorkerReply, WorkerRequest } from './protocol';
import { createAuditSession } from './auditSession';
import { createBatchStream, type BatchStream } from './batchStream';
import { describeModel } from './describeModel';
import { createRunControl, type RunControl } from './runControl';
import { assertNever, toWireError } from './wire';

/** Backends probed for the feature cache's forward pass besides the training one. */
const FORWARD_CANDIDATES = ['webgpu', 'webgl', 'cpu'];
/** Other backends are probed only when the cache build on the training backend would take at least this long. */
const FORWARD_PROBE_MIN_BUILD_MS = 4000;

/** The other backends worth probing here: WebGPU only where the browser offers navigator.gpu. */
function forwardCandidates(): string[] {
  const hasGpu = typeof navigator !== 'undefined' && 'gpu' in navigator;
  return FORWARD_CANDIDATES.filter((b) => b !== tf.getBackend() && (b !== 'webgpu' || hasGpu));
}

/** Sends a reply to the main thread, transferring the listed buffers. */
export type Post = (reply: WorkerReply, transfer?: Transferable[]) => void;

/** What the worker needs from its surroundings; the worker entry passes the real ones, tests pass fakes. */
export interface WorkerDeps {
  selectBackend(preference: BackendPreference, allowSoftwareWebgl: boolean): Promise<{ backend: BackendName; notes: string[] }>;
  /** Opens a model (engine/modelSources.ts openModel): a bad file is a result with a code, not a throw. */
  loadModel(source: ModelSource): Promise<ModelOpenResult>;
  /** Minimum milliseconds between two `batches` messages (coalescing). */
  batchFlushMs?: number;
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

/**
 * Creates the studio's worker side: `onRequest(msg)` adapts each request to
 * engine calls (engine/transferSession.ts holds the models and their policy,
 * trainer.ts trains) and answers through `post`. One run at a time; a stop
 * for a run that is not active is ignored.
 */
export function createStudioWorker(post: Post, deps: WorkerDeps): (msg: WorkerRequest) => Promise<void> {
  const models = createTransferSession({ candidates: forwardCandidates, minProbeBuildMs: FORWARD_PROBE_MIN_BUILD_MS });
  const audit = createAuditSession(post);
  let backend: BackendName | null = null;
  let active: RunControl | null = null;

  /** The trainer's hooks for run `control`: streamed batches, epochs, changes and pauses become messages. */
  function runHooks(control: RunControl, stream: BatchStream): TrainHooks {
    const { runId } = control;
    return {
      onBatch: (point) => stream.push(point),
      onEpoch: (metrics) => {
        stream.flush();
        post({ type: 'epoch', runId, metrics });
        audit.epochEnded(runId, metrics.epoch);
      },
      shouldStop: control.shouldStop,
      takeLivePlan: control.takeLivePlan,
      onTrainableChange: (change) => {
        stream.flush();
        audit.trainableChanged(runId);
        post({ type: 'trainableChanged', runId, change });
      },
      pauseGate: () => control.pauseGate((paused) => post({ type: 'paused', runId, paused })),
    };
  }

  /** Sets up and trains one run: transfer model, feature cache, runStarted, the loop, the audit, runEnded. */
  async function runTraining(msg: TrainRequest, control: RunControl, stream: BatchStream): Promise<void> {
    const { runId } = msg;
    let { config } = msg;
    const { model, headLayers } = models.prepareRun(msg);
    const optimizerVariables = optimizedVariables(model, config);
    const train = toImageSet(msg.train);
    const validation = msg.validation ? toImageSet(msg.validation) : null;
    // Feature cache: with everything below the head frozen, run that part once per image and train the head alone.
    const { features, use } = await models.features.forRun({
      model,
      headLayers,
      modelId: models.modelId(),
      cutLayer: msg.cutLayer,
      preprocessing: msg.preprocessing,
      train,
      validation,
      batchSize: config.batchSize,
      augmented: isAugmentationOn(config.augmentation),
      shouldStop: control.shouldStop,
      onProgress: (done, total) => post({ type: 'cacheProgress', runId, done, total }),
    });
    // Auto epochs planned many cheap epochs on the cache; without it, the Epochs field's number holds.
    if (!features && config.epochsWithoutCache !== undefined && config.epochsWithoutCache < config.epochs)
      config = { ...config, epochs: config.epochsWithoutCache };
    post({
      type: 'runStarted',
      runId,
      setup: {
        backend: backend ?? (tf.getBackend() as BackendName),
        optimizerVariables,
        trainableParams: countWeightParams(optimizerVariables),
        featureCache: use,
        appliedPlan: appliedFreezePlan(model, headLayers),
        config,
        batchNormOverrides: msg.batchNormOverrides ?? {},
      },
    });
    await audit.runStarting({ runId, model, headLayers });
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
      result = await trainRun({ model, headLayers, currentTarget: targets.currentTarget }, config, runHooks(control, stream));
    } finally {
      models.runEnded(targets.trainedPretrained());
    }
    stream.flush();
    await audit.runEnded(runId);
    await postHeldOutPredictions(runId, validation, msg.test ? toImageSet(msg.test) : null);
    post({ type: 'runEnded', runId, outcome: outcomeOf(result) });
  }

  /** The evaluation: one pass of the weights the run ended with over the images it held out (already here: nothing crosses again). */
  async function postHeldOutPredictions(
    runId: number,
    validation: ReturnType<typeof toImageSet> | null,
    test: ReturnType<typeof toImageSet> | null,
  ): Promise<void> {
    const numClasses = models.transfer ? (models.transfer.model.outputs[0].shape.at(-1) ?? 0) : 0;
    try {
      const predict = async (set: ReturnType<typeof toImageSet> | null) =>
        set && set.labels.length > 0 ? (await models.predict(set.pixels, set.shape)).probabilities : null;
      const probabilities = { validation: await predict(validation), test: await predict(test) };
      const transfer = [probabilities.validation, probabilities.test].flatMap((p) => (p ? [p.buffer] : []));
      post({ type: 'heldOutPredictions', runId, numClasses, ...probabilities }, transfer);
    } catch (error) {
      post({ type: 'heldOutPredictions', runId, numClasses, validation: null, test: null, error: toWireError(error).message });
    }
  }

  async function train(msg: TrainRequest): Promise<void> {
    const { runId } = msg;
    const fail = (name: string, message: string) => post({ type: 'runFailed', runId, error: { name, message } });
    if (active) return fail('Busy', `Run ${active.runId} is still in progress; stop it first.`);
    if (!models.loaded) return fail('NoModel', 'No model is loaded yet.');
    const problem = trainRequestProblem(msg, models.loaded);
    if (problem) return fail('BadRequest', problem);
    const control = createRunControl(runId, msg.plan, msg.batchNormOverrides ?? {});
    const stream = createBatchStream((points) => post({ type: 'batches', runId, points }), deps.batchFlushMs ?? 100);
    active = control;
    try {
      await runTraining(msg, control, stream);
    } catch (error) {
      stream.flush();
      post({ type: 'runFailed', runId, error: toWireError(error) });
    } finally {
      active = null;
    }
  }

  /** Why the last run's model cannot be used for `action` now, or null. */
  function modelRefusal(action: string): { name: string; message: string } | null {
    if (active) return { name: 'Busy', message: `Run ${active.runId} is still in progress; wait for it to end (or stop it), then ${action}.` };
    if (!models.transfer)
      return { name: 'NoTrainedModel', message: `No model has been trained since this model was loaded. Press Train, let the run end, then ${action}.` };
    return null;
  }

  async function exportModel(requestId: number): Promise<void> {
    const refusal = modelRefusal('export');
    if (refusal) return post({ type: 'requestFailed', requestId, error: refusal });
    try {
      const artifacts = await models.exportModel();
      post({ type: 'modelExported', requestId, artifacts }, [artifacts.weightData]);
    } catch (error) {
      post({ type: 'requestFailed', requestId, error: toWireError(error) });
    }
  }

  async function predict(requestId: number, images: WireImageSet): Promise<void> {
    const refusal = modelRefusal('predict');
    if (refusal) return post({ type: 'requestFailed', requestId, error: refusal });
    try {
      const { probabilities, numClasses } = await models.predict(images.pixels, images.shape);
      post({ type: 'predictions', requestId, probabilities, numClasses }, [probabilities.buffer]);
    } catch (error) {
      post({ type: 'requestFailed', requestId, error: toWireError(error) });
    }
  }

  async function init(msg: Extract<WorkerRequest, { type: 'init' }>): Promise<void> {
    try {
      const selected = await deps.selectBackend(msg.backend, msg.allowSoftwareWebgl);
      backend = selected.backend;
      post({ type: 'ready', requestId: msg.requestId, backend: selected.backend, notes: selected.notes });
    } catch (error) {
      post({ type: 'requestFailed', requestId: msg.requestId, error: toWireError(error) });
    }
  }

  async function loadModel(msg: Extract<WorkerRequest, { type: 'loadModel' }>): Promise<void> {
    if (active) {
      post({
        type: 'requestFailed',
        requestId: msg.requestId,
        error: { name: 'Busy', message: 'A run is in progress; stop it before loading another model.' },
      });
      return;
    }
    try {
      const opened = await deps.loadModel(msg.source);
      if (!opened.ok) {
        post({ type: 'requestFailed', requestId: msg.requestId, error: { name: 'ModelFileError', code: opened.code, message: opened.reason } });
        return;
      }
      await models.load(opened.loaded);
      audit.reset();
      post({ type: 'modelLoaded', requestId: msg.requestId, model: describeModel(models.loaded!) });
    } catch (error) {
      post({ type: 'requestFailed', requestId: msg.requestId, error: toWireError(error) });
    }
  }

  return async function onRequest(msg: WorkerRequest): Promise<void> {
    const run = active?.runId === (msg as { runId?: number }).runId ? active : null;
    switch (msg.type) {
      case 'init':
        return init(msg);
      case 'loadModel':
        return loadModel(msg);
      case 'train':
        return train(msg);
      case 'stop':
        return run?.stop();
      case 'setPlan':
        return run?.setPlan(msg.plan, msg.batchNormOverrides ?? {});
      case 'pause':
        return run?.pause();
      case 'resume':
        return run?.resume();
      case 'verify':
        return audit.verify(msg.requestId);
      case 'exportModel':
        return exportModel(msg.requestId);
      case 'predict':
        return predict(msg.requestId, msg.images);
      default:
        assertNever(msg);
    }
  };
}
