import * as tf from '@tensorflow/tfjs';
import { serializeModel } from '../engine/exportModel';
import { predictProbabilities } from '../engine/predict';
import { guardFrozenLayers, setBatchNormOverrides } from '../engine/frozenLayers';
import { applyFreezePlan, countWeightParams } from '../engine/freeze';
import { buildTransferModel, cutCandidates, type TransferModel } from '../engine/head';
import { HEAD_LAYER_NAMES } from '../engine/headSpec';
import { withStillLayers } from '../engine/rateMultipliers';
import { trainConfigProblem } from '../engine/trainConfigCheck';
import { appliedFreezePlan } from '../engine/freeze';
import type { LoadedModel } from '../engine/modelFiles';
import { imageSource } from '../engine/batchSource';
import { optimizedVariables } from '../engine/trainableSet';
import { trainRun, type RunTarget, type TrainHooks, type TrainResult } from '../engine/trainer';
import { isAugmentationOn } from '../engine/augment';
import { augmentedImageSource } from '../engine/augmentedSource';
import { buildFeaturesOn, chooseForwardBackend, type ForwardBackendChoice } from '../engine/forwardBackend';
import { featureCacheBlocker, featureCacheKey, featureSource, hashImageSet, headOnlyModel, type FeatureSet } from '../engine/featureCache';
import type { ImageSet } from '../engine/batches';
import type { BatchNormOverrides, BatchPoint, FreezePlan, Preprocessing } from '../engine/types';
import type { BackendName, BackendPreference, FeatureCacheUse, ModelSource, WireImageSet, WorkerReply, WorkerRequest } from './protocol';
import { describeModel } from './describeModel';
import { createAuditSession } from './auditSession';
import { assertNever, toWireError } from './wire';
import { capturePretrained, layersMatchingPretrained, restorePretrained, type PretrainedWeights } from '../engine/pretrainedWeights';

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

/** What the handler needs from its surroundings; the worker passes the real ones, tests pass fakes. */
export interface HandlerDeps {
  selectBackend(preference: BackendPreference, allowSoftwareWebgl: boolean): Promise<{ backend: BackendName; notes: string[] }>;
  loadModel(source: ModelSource): Promise<LoadedModel>;
  /** Minimum milliseconds between two `batches` messages (coalescing). */
  batchFlushMs?: number;
}

/** The run in progress and what the main thread asked of it since the last batch boundary. */
interface ActiveRun {
  runId: number;
  stopRequested: boolean;
  /** The layers a live edit changed since the last batch boundary, waiting for the next one. */
  pendingPlan: { plan: FreezePlan; batchNormOverrides: BatchNormOverrides } | null;
  /** The freeze plan as the UI last sent it (the run's plan at the start): live edits are diffed against it. */
  uiPlan: FreezePlan;
  /** The BatchNorm overrides as the UI last sent them. */
  uiOverrides: BatchNormOverrides;
  paused: boolean;
  /** Resolves the wait of a paused run (set while it waits). */
  wake: (() => void) | null;
}

interface Session {
  backend: BackendName | null;
  loaded: LoadedModel | null;
  /** The transfer model of the last run, reused while cut and classes stay the same. */
  transfer: (TransferModel & { key: string }) | null;
  activeRun: ActiveRun | null;
  /** Cached frozen-prefix features by featureCacheKey: the sets of the last run only, Float32Arrays on the CPU side. */
  features: Map<string, FeatureSet>;
  /** Counts model loads, so features of an earlier model are never reused. */
  modelLoads: number;
  /** What the last run fed the transfer model: prediction maps pixels the same way, in batches of the same size. */
  lastRun?: { preprocessing: Preprocessing; batchSize: number };
  /** CPU copies of the loaded model's weights as loaded: a run "from the pretrained weights" starts from these. */
  pretrained: PretrainedWeights | null;
  /** A run trained pretrained layers since the load or the last restore: cached features no longer match the pretrained weights. */
  backboneTrained: boolean;
}

function toImageSet(wire: WireImageSet) {
  return { pixels: wire.pixels, labels: wire.labels, shape: wire.shape };
}

/**
 * Why `msg` cannot start a run on `loaded`, or null. Checked before anything
 * is changed, so a bad request leaves the last trained model as it was.
 */
function trainRequestProblem(msg: Extract<WorkerRequest, { type: 'train' }>, loaded: LoadedModel): string | null {
  if (msg.classNames.length < 2) return `Training needs at least two classes; the request has ${msg.classNames.length}.`;
  if (!loaded.model.layers.some((l) => l.name === msg.cutLayer)) return `The cut layer '${msg.cutLayer}' is not a layer of model '${loaded.model.name}'. Pick a cut layer from the list.`;
  if (!cutCandidates(loaded.model).includes(msg.cutLayer)) return `Layer '${msg.cutLayer}' does not have a single output; pick a layer with a single output as the cut.`;
  const clash = HEAD_LAYER_NAMES.find((name) => loaded.model.layers.some((l) => l.name === name));
  if (clash) return `The model already has a layer named '${clash}', a name the studio's head uses. Rename that layer and import the model again.`;
  const { height, width, channels } = loaded.inputShape;
  for (const [label, set] of [['training', msg.train], ['validation', msg.validation]] as const) {
    if (!set) continue;
    const { shape } = set;
    if (shape.height !== height || shape.width !== width || shape.channels !== channels) {
      return `The ${label} images are ${shape.height}×${shape.width}×${shape.channels}, but the model is fed ${height}×${width}×${channels}. Decode them at the model's input size.`;
    }
    if (set.pixels.length !== set.labels.length * height * width * channels) return `The ${label} set's pixel buffer does not hold ${set.labels.length} images of ${height}×${width}×${channels}.`;
  }
  return trainConfigProblem(msg.config);
}

/**
 * Creates the worker's message handler: `handle(msg)` adapts each request to
 * engine calls and answers through `post`. One run at a time; a stop for a
 * run that is not active is ignored.
 */
export function createHandler(post: Post, deps: HandlerDeps): (msg: WorkerRequest) => Promise<void> {
  const session: Session = { backend: null, loaded: null, transfer: null, activeRun: null, features: new Map(), modelLoads: 0, pretrained: null, backboneTrained: false };
  const flushMs = deps.batchFlushMs ?? 100;
  const audit = createAuditSession(post);

  function disposeTransferHead(): void {
    if (!session.transfer) return;
    // A head layer is counted once per model it was applied in (the transfer model, the cached head-only model): dispose until its weights go.
    for (const name of session.transfer.headLayers) {
      const layer = session.transfer.model.getLayer(name);
      while (layer.dispose().refCountAfterDispose > 0);
    }
    session.transfer = null;
  }

  async function train(msg: Extract<WorkerRequest, { type: 'train' }>): Promise<void> {
    const { runId } = msg;
    if (session.activeRun) {
      post({ type: 'runFailed', runId, error: { name: 'Busy', message: `Run ${session.activeRun.runId} is still in progress; stop it first.` } });
      return;
    }
    const loaded = session.loaded;
    if (!loaded) {
      post({ type: 'runFailed', runId, error: { name: 'NoModel', message: 'No model is loaded yet.' } });
      return;
    }
    const problem = trainRequestProblem(msg, loaded);
    if (problem) {
      post({ type: 'runFailed', runId, error: { name: 'BadRequest', message: problem } });
      return;
    }
    const run: ActiveRun = { runId, stopRequested: false, pendingPlan: null, uiPlan: msg.plan, uiOverrides: msg.batchNormOverrides ?? {}, paused: false, wake: null };
    session.activeRun = run;
    let pending: BatchPoint[] = [];
    let lastFlush = 0;
    const flush = () => {
      if (pending.length === 0) return;
      post({ type: 'batches', runId, points: pending });
      pending = [];
      lastFlush = performance.now();
    };
    try {
      if (msg.config.fromPretrained !== false && session.pretrained) {
        // Comparable runs: the loaded model's own weights and a head initialised afresh from the run's seed.
        restorePretrained(session.pretrained);
        disposeTransferHead();
        if (session.backboneTrained) session.features = new Map(); // built from trained weights, not the pretrained ones
        session.backboneTrained = false;
      }
      const key = JSON.stringify([msg.cutLayer, msg.classNames, msg.head]);
      if (session.transfer?.key !== key) {
        disposeTransferHead();
        const built = buildTransferModel(loaded.model, msg.cutLayer, msg.classNames.length, msg.config.seed, msg.head);
        guardFrozenLayers(built.model);
        session.transfer = { ...built, key };
      }
      const { model, headLayers } = session.transfer!;
      // From here the transfer model's weights belong to this run: prediction maps pixels as it does.
      session.lastRun = { preprocessing: msg.preprocessing, batchSize: msg.config.batchSize };
      // Layers at multiplier 0 are frozen for the run: inference mode, no gradient, no optimizer slot, audited as frozen.
      applyFreezePlan(model, withStillLayers(msg.plan, msg.config.rateMultipliers), headLayers);
      setBatchNormOverrides(model, msg.batchNormOverrides ?? {});
      const optimizerVariables = optimizedVariables(model, msg.config);
      const trainableParams = countWeightParams(optimizerVariables);
      const augmented = isAugmentationOn(msg.config.augmentation);
      const trainSet = toImageSet(msg.train);
      const validationSet = msg.validation ? toImageSet(msg.validation) : null;
      const hooks: TrainHooks = {
        onBatch: (point) => {
          pending.push(point);
          if (performance.now() - lastFlush >= flushMs) flush();
        },
        onEpoch: (metrics) => {
          flush();
          post({ type: 'epoch', runId, metrics });
          audit.epochEnded(runId, metrics.epoch);
        },
        shouldStop: () => run.stopRequested,
        takeLivePlan: () => {
          const live = run.pendingPlan;
          run.pendingPlan = null;
          return live;
        },
        onTrainableChange: (change) => {
          flush();
          audit.trainableChanged(runId);
          post({ type: 'trainableChanged', runId, change });
        },
        pauseGate: () => {
          if (!run.paused || run.stopRequested) return null;
          post({ type: 'paused', runId, paused: true });
          return new Promise<void>((resolve) => {
            run.wake = () => {
              run.wake = null;
              post({ type: 'paused', runId, paused: false });
              resolve();
            };
          });
        },
      };
      // Feature cache: with everything below the head frozen, run that part once per image and train the head alone.
      const blocker = augmented ? 'augmentation is on (every epoch sees new pixels)' : featureCacheBlocker(model, headLayers);
      let featureCache: FeatureCacheUse = { used: false, built: false, millis: null, reason: blocker ?? undefined };
      let cached: { train: FeatureSet; validation: FeatureSet | null } | null = null;
      // A run that trains pretrained layers changes what the frozen part computes: drop every cached feature.
      if (blocker !== null && !augmented) session.features = new Map();
      else {
        const parts = { modelId: `${session.modelLoads}:${loaded.sourceHash}`, cutLayer: msg.cutLayer, preprocessing: msg.preprocessing };
        const kept = new Map<string, FeatureSet>();
        let millis = 0;
        let images = 0;
        const total = trainSet.labels.length + (validationSet?.labels.length ?? 0);
        let forward = null as ForwardBackendChoice | null;
        const featuresOf = async (set: ImageSet): Promise<FeatureSet | null> => {
          const key = featureCacheKey(parts, hashImageSet(set));
          let features = kept.get(key) ?? session.features.get(key);
          if (!features) {
            const offset = images;
            // The forward-only pass runs on the fastest backend here (probed once per run, only for a build worth it).
            forward ??= await chooseForwardBackend(model, headLayers, set, msg.preprocessing, forwardCandidates(), {
              imagesToBuild: total,
              minBuildMs: FORWARD_PROBE_MIN_BUILD_MS,
            });
            features = await buildFeaturesOn(forward.backend, model, headLayers, set, msg.preprocessing, msg.config.batchSize, {
              shouldStop: () => run.stopRequested,
              onProgress: (done) => post({ type: 'cacheProgress', runId, done: offset + done, total }),
            });
            millis += features.millis;
            images += set.labels.length;
          }
          kept.set(key, features);
          return features;
        };
        try {
          cached = { train: (await featuresOf(trainSet))!, validation: validationSet ? await featuresOf(validationSet) : null };
          session.features = kept; // only the sets of this run stay cached
          featureCache = { used: true, built: images > 0, millis: images > 0 ? millis : null, images };
          if (forward) featureCache = { ...featureCache, backend: forward.backend, probes: forward.probes.map(({ backend, msPerImage }) => ({ backend, msPerImage })) };
        } catch (error) {
          if (!run.stopRequested) throw error;
          featureCache = { used: false, built: false, millis: null, reason: 'the run was stopped while the cache was built' };
        }
      }
      post({
        type: 'runStarted',
        runId,
        setup: {
          backend: session.backend ?? (tf.getBackend() as BackendName),
          optimizerVariables,
          trainableParams,
          featureCache,
          appliedPlan: appliedFreezePlan(model, headLayers),
          config: msg.config,
          batchNormOverrides: msg.batchNormOverrides ?? {},
        },
      });
      await audit.runStarting({ runId, model, headLayers });
      const numClasses = msg.classNames.length;
      const full: RunTarget = {
        model,
        train: augmented
          ? augmentedImageSource(trainSet, numClasses, msg.preprocessing, msg.config.augmentation!, msg.config.seed)
          : imageSource(trainSet, numClasses, msg.preprocessing),
        validation: validationSet ? imageSource(validationSet, numClasses, msg.preprocessing) : null,
      };
      const headOnly: RunTarget | null = cached
        ? { model: headOnlyModel(model, headLayers), train: featureSource(cached.train, numClasses), validation: cached.validation ? featureSource(cached.validation, numClasses) : null }
        : null;
      // Schedule steps and live plans can move the run between the cached head and the full model, at batch boundaries.
      let trainedPretrained = false;
      const target = (): RunTarget => {
        // Once pretrained layers trained in this run, the cached features describe weights that are gone.
        if (featureCacheBlocker(model, headLayers) !== null) trainedPretrained = true;
        return headOnly && !trainedPretrained ? headOnly : full;
      };
      let result: TrainResult;
      try {
        result = await trainRun({ model, headLayers, target }, msg.config, hooks);
      } finally {
        // Pretrained layers trained (or BN statistics updated) during the run: what the frozen part computes changed.
        if (trainedPretrained) {
          session.features = new Map();
          session.backboneTrained = true;
        }
      }
      flush();
      await audit.runEnded(runId);
      post({
        type: 'runEnded',
        runId,
        outcome: {
          stopped: result.stopped,
          epochsCompleted: result.epochsCompleted,
          batches: result.batches,
          validationLoss: result.validationLoss,
          validationAccuracy: result.validationAccuracy,
          stoppedEarly: result.stoppedEarly,
          restoredEpoch: result.restoredEpoch,
          failure: result.failure,
          endNote: result.endNote,
        },
      });
    } catch (error) {
      flush();
      post({ type: 'runFailed', runId, error: toWireError(error) });
    } finally {
      session.activeRun = null;
    }
  }

  async function exportModel(requestId: number): Promise<void> {
    const fail = (name: string, message: string) => post({ type: 'requestFailed', requestId, error: { name, message } });
    if (session.activeRun) return fail('Busy', `Run ${session.activeRun.runId} is still in progress; wait for it to end (or stop it), then export.`);
    if (!session.transfer) return fail('NoTrainedModel', 'No model has been trained since this model was loaded. Press Train, let the run end, then export.');
    try {
      const { model, headLayers } = session.transfer;
      const artifacts = await serializeModel(model);
      // Measured, not inferred from the plan: a layer whose weights or statistics moved (in this run or an earlier one) is not claimed as the source's.
      const identicalToSource = session.pretrained ? await layersMatchingPretrained(model, session.pretrained, headLayers) : {};
      post({ type: 'modelExported', requestId, artifacts: { ...artifacts, identicalToSource } }, [artifacts.weightData]);
    } catch (error) {
      post({ type: 'requestFailed', requestId, error: toWireError(error) });
    }
  }

  async function predict(requestId: number, images: WireImageSet): Promise<void> {
    const fail = (name: string, message: string) => post({ type: 'requestFailed', requestId, error: { name, message } });
    if (session.activeRun) return fail('Busy', `Run ${session.activeRun.runId} is still in progress; wait for it to end (or stop it), then predict.`);
    if (!session.transfer || !session.lastRun) return fail('NoTrainedModel', 'No model has been trained since this model was loaded. Press Train, let the run end, then predict.');
    try {
      const { preprocessing, batchSize } = session.lastRun;
      const { probabilities, numClasses } = await predictProbabilities(session.transfer.model, images.pixels, images.shape, preprocessing, batchSize);
      post({ type: 'predictions', requestId, probabilities, numClasses }, [probabilities.buffer]);
    } catch (error) {
      post({ type: 'requestFailed', requestId, error: toWireError(error) });
    }
  }

  return async function handle(msg: WorkerRequest): Promise<void> {
    switch (msg.type) {
      case 'init': {
        try {
          const { backend, notes } = await deps.selectBackend(msg.backend, msg.allowSoftwareWebgl);
          session.backend = backend;
          post({ type: 'ready', requestId: msg.requestId, backend, notes });
        } catch (error) {
          post({ type: 'requestFailed', requestId: msg.requestId, error: toWireError(error) });
        }
        return;
      }
      case 'loadModel': {
        if (session.activeRun) {
          post({ type: 'requestFailed', requestId: msg.requestId, error: { name: 'Busy', message: 'A run is in progress; stop it before loading another model.' } });
          return;
        }
        try {
          const loaded = await deps.loadModel(msg.source);
          let pretrained: PretrainedWeights;
          try {
            guardFrozenLayers(loaded.model);
            pretrained = await capturePretrained(loaded.model);
          } catch (error) {
            loaded.model.dispose(); // the new model never replaces the current one: nothing of it may stay behind
            throw error;
          }
          disposeTransferHead();
          session.features = new Map();
          session.modelLoads++;
          audit.reset();
          session.loaded?.model.dispose();
          session.loaded = loaded;
          session.pretrained = pretrained;
          session.backboneTrained = false;
          post({
            type: 'modelLoaded',
            requestId: msg.requestId,
            model: describeModel(loaded),
          });
        } catch (error) {
          post({ type: 'requestFailed', requestId: msg.requestId, error: toWireError(error) });
        }
        return;
      }
      case 'train':
        return train(msg);
      case 'stop':
        if (session.activeRun?.runId === msg.runId) {
          session.activeRun.stopRequested = true;
          session.activeRun.wake?.();
        }
        return;
      case 'setPlan':
        if (session.activeRun?.runId === msg.runId) {
          // Only what the user changed: the UI's plan does not know what schedule steps unfroze since, and must not undo it.
          const run = session.activeRun;
          const changed: FreezePlan = {};
          for (const [name, frozen] of Object.entries(msg.plan)) if ((run.uiPlan[name] === true) !== frozen) changed[name] = frozen;
          const overrides = msg.batchNormOverrides ?? {};
          const sameOverrides = JSON.stringify(Object.entries(overrides).sort()) === JSON.stringify(Object.entries(run.uiOverrides).sort());
          run.uiPlan = msg.plan;
          run.uiOverrides = overrides;
          if (Object.keys(changed).length > 0 || !sameOverrides) {
            run.pendingPlan = { plan: { ...run.pendingPlan?.plan, ...changed }, batchNormOverrides: overrides };
          }
        }
        return;
      case 'pause':
      case 'resume':
        if (session.activeRun?.runId === msg.runId) {
          session.activeRun.paused = msg.type === 'pause';
          if (!session.activeRun.paused) session.activeRun.wake?.();
        }
        return;
      case 'verify':
        return audit.verify(msg.requestId);
      case 'exportModel':
        return exportModel(msg.requestId);
      case 'predict':
        return predict(msg.requestId, msg.images);
      default:
        assertNever(msg);
    }
  }
}
