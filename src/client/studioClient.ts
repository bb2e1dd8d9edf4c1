import { packImages } from '../data/pixels';
import { splitDataset } from '../data/datasetSplit';
import type { ImageShape } from '../data/types';
import type { ModelArtifactsWire } from '../core/exportModelFiles';
import { sourceFreezePlan } from '../core/params';
import type { BatchNormOverrides, FreezePlan, TrainConfig } from '../core/types';
import type { BackendPreference, ModelDescription, ModelSource, NamedWeightsWire, SetWeightsModel, WireImageSet, WorkerReply } from '../worker/protocol';
import { assertNever } from '../core/assertNever';
import type { ModelOrigin, ResumedHistory, StudioStore } from '../store/store';
import { isRunActive, nextRunTraining, nextRunValidationTrainedOn, runPlanSettings, trainBlocker } from '../store/selectors';
import type { Transport } from './transport';

type Pending = { resolve(reply: WorkerReply): void; reject(error: Error): void };

/** A checkpoint as the worker posts it. */
export type RunCheckpointMessage = Extract<WorkerReply, { type: 'checkpoint' }>;

/** What going on with an interrupted run needs: its id, settings and history, and where its checkpoint left it (the worker holds the checkpoint already). */
export interface ResumeRun {
  runId: number;
  /** Complete epochs (from 1) the checkpoint ends. */
  epoch: number;
  learningRateFactor: number;
  /** The plan in force at the checkpoint. */
  plan: FreezePlan;
  /** The config the worker ran with (RunSetup.config: schedule and multipliers included). */
  workerConfig: TrainConfig;
  batchNormOverrides: BatchNormOverrides;
  resumed: ResumedHistory;
}

/** What a request waiting on a crashed worker rejects with: the crash, and what to do. */
function crashError(message: string): Error {
  return new Error(`The training worker crashed: ${message}. Press “Restart the training worker” to start it again with the current model, then try again.`);
}

/** Main-thread facade over the training worker; results go into the store through its actions. */
export interface StudioClient {
  /** Starts the best backend (or `preference`) and resolves with its name. */
  init(preference: BackendPreference, allowSoftwareWebgl?: boolean): Promise<void>;
  /** Loads a model; on success the tree shows it with the file's own freeze flags. `origin` says where it came from. */
  loadModel(source: ModelSource, origin: ModelOrigin): Promise<ModelDescription | null>;
  /**
   * Splits the dataset, resolves "Auto" epochs (engine/autoEpochs.ts), sends both to the worker and starts a
   * run; returns its id. A refusal (a run in progress, no data, a crashed worker…) returns null with the reason
   * in the store's `trainRefusal`, and leaves the live run alone.
   */
  train(resume?: ResumeRun): number | null;
  /**
   * Puts saved weights into the worker's transfer model for `model` (a reopened project's trained weights, an
   * interrupted run's checkpoint); rejects with the worker's reason, naming the weight that does not fit.
   * The weight buffer is transferred.
   */
  setWeights(model: SetWeightsModel, weights: NamedWeightsWire, complete: boolean): Promise<void>;
  /** Calls `listener` with each checkpoint of the current run (after every complete epoch); returns the unsubscribe. */
  onCheckpoint(listener: (checkpoint: RunCheckpointMessage) => void): () => void;
  /** Asks the active run to stop at the next batch boundary. */
  stop(): void;
  /** Holds the active run at its next batch boundary until resume() (or stop()). */
  pause(): void;
  resume(): void;
  /** The transfer model of the last run, serialised in the worker; rejects with the worker's reason (none trained yet, a run in progress). */
  exportModel(): Promise<ModelArtifactsWire>;
  /**
   * The transfer model for `model` serialised without needing a run (the PyTorch project): the last run's weights when
   * it was built for the same cut, classes and head, else the pretrained ones and a fresh head; rejects with the worker's reason.
   */
  exportTransfer(model: SetWeightsModel): Promise<{ artifacts: ModelArtifactsWire; weightsFrom: 'trained' | 'pretrained' }>;
  /** The loaded model's weights as loaded, by original name, with its sourceHash (a PyTorch run's audit compares against them). */
  readSourceWeights(): Promise<{ sourceHash: string; weights: NamedWeightsWire }>;
  /** Re-reads every weight in the worker and repeats the freeze audit against the last run's start; the report goes into the store, a refusal rejects. */
  verify(): Promise<void>;
  /**
   * Class probabilities of `images` ([count × numClasses] float32, row-major) from the transfer model of the
   * last run, with that run's preprocessing; rejects with the worker's reason (none trained yet, a run in progress).
   * The pixel and label buffers are transferred: `images` is unusable afterwards.
   */
  predict(images: WireImageSet): Promise<{ probabilities: Float32Array; numClasses: number }>;
  /**
   * After a crash: a fresh worker (transport.restart), the backend started again with `preference`, and
   * `source` (the current model, read again by the caller) loaded into it; the store keeps the tree, plan,
   * data and run history (workerRestarted). Resolves false with the reason in the store's `workerCrash`.
   * `source` null: only the backend (no model had loaded yet).
   */
  restart(preference: BackendPreference, allowSoftwareWebgl: boolean, source: ModelSource | null): Promise<boolean>;
}

/** Creates the client over `transport`, writing into `store`. */
export function createStudioClient(transport: Transport, store: StudioStore): StudioClient {
  let nextRequestId = 1;
  const pending = new Map<number, Pending>();
  const actions = () => store.getState();
  const checkpointListeners = new Set<(checkpoint: RunCheckpointMessage) => void>();

  function request<T extends WorkerReply>(build: (requestId: number) => Parameters<Transport['post']>[0], transfer?: Transferable[]): Promise<T> {
    const requestId = nextRequestId++;
    const crash = store.getState().workerCrash;
    // A crashed worker answers nothing: refuse at once instead of waiting forever.
    if (crash && !crash.restarting) return Promise.reject(crashError(crash.message));
    return new Promise<T>((resolve, reject) => {
      pending.set(requestId, { resolve: resolve as Pending['resolve'], reject });
      transport.post(build(requestId), transfer);
    });
  }

  function isCurrentRun(runId: number): boolean {
    // Messages of an earlier run (stopped, then replaced) are dropped.
    return runId === store.getState().runId;
  }

  function onReply(reply: WorkerReply): void {
    switch (reply.type) {
      case 'ready':
      case 'modelLoaded':
      case 'modelExported':
      case 'transferExported':
      case 'sourceWeights':
      case 'predictions':
      case 'weightsSet':
      case 'requestFailed': {
        const waiter = pending.get(reply.requestId);
        pending.delete(reply.requestId);
        waiter?.resolve(reply);
        return;
      }
      case 'audit':
        if (reply.requestId !== null) {
          const waiter = pending.get(reply.requestId);
          pending.delete(reply.requestId);
          waiter?.resolve(reply);
        } else if (isCurrentRun(reply.runId)) actions().auditArrived(reply.report);
        return;
      case 'layerUpdates':
        if (isCurrentRun(reply.runId)) actions().layerUpdatesArrived(reply.updates);
        return;
      case 'runStarted':
        if (isCurrentRun(reply.runId)) actions().runStarted(reply.setup);
        return;
      case 'batches':
        if (isCurrentRun(reply.runId)) actions().batchesArrived(reply.points);
        return;
      case 'epoch':
        if (isCurrentRun(reply.runId)) actions().epochArrived(reply.metrics);
        return;
      case 'trainableChanged':
        if (isCurrentRun(reply.runId)) actions().trainableChanged(reply.change);
        return;
      case 'paused':
        if (isCurrentRun(reply.runId)) actions().runPaused(reply.paused);
        return;
      case 'cacheProgress':
        if (isCurrentRun(reply.runId)) actions().cacheProgressed(reply.done, reply.total);
        return;
      case 'heldOutPredictions':
        if (!isCurrentRun(reply.runId)) return;
        if (reply.error) actions().evaluationFailed(reply.runId, `Evaluation failed: ${reply.error}`);
        else actions().evaluationFinished(reply.runId, { validation: reply.validation, test: reply.test });
        return;
      case 'checkpoint':
        if (isCurrentRun(reply.runId)) for (const listener of checkpointListeners) listener(reply);
        return;
      case 'runEnded':
        if (isCurrentRun(reply.runId)) actions().runEnded(reply.outcome);
        return;
      case 'runFailed':
        if (isCurrentRun(reply.runId)) actions().runFailed(`Training failed: ${reply.error.message}`);
        return;
      default:
        assertNever(reply);
    }
  }

  // Live freezing: a plan or BatchNorm change made during a run goes to the worker, which applies it at the next batch boundary.
  store.subscribe((state, previous) => {
    if (state.freezePlan === previous.freezePlan && state.batchNormOverrides === previous.batchNormOverrides) return;
    if (state.runStatus !== 'running' && state.runStatus !== 'starting') return;
    transport.post({ type: 'setPlan', runId: state.runId, plan: state.freezePlan, batchNormOverrides: state.batchNormOverrides });
  });

  transport.listen(onReply, (message) => {
    actions().workerCrashed(message);
    // Every request waiting on the dead worker settles with the crash, so no button waits forever.
    const waiting = [...pending.values()];
    pending.clear();
    for (const waiter of waiting) waiter.reject(crashError(message));
  });

  /** The reply's error message, or what was unexpected about it. */
  const failureOf = (reply: WorkerReply, what: string) =>
    reply.type === 'requestFailed' ? reply.error.message : `Unexpected reply '${reply.type}' to ${what}.`;

  return {
    async init(preference, allowSoftwareWebgl = false) {
      let reply: WorkerReply;
      try {
        reply = await request((requestId) => ({ type: 'init', requestId, backend: preference, allowSoftwareWebgl }));
      } catch {
        return; // the crash is in the store's workerCrash, with the restart button
      }
      if (reply.type === 'ready') actions().backendReady(reply.backend, reply.notes);
      else if (reply.type === 'requestFailed') actions().runFailed(reply.error.message);
    },

    async loadModel(source, origin) {
      actions().modelLoading();
      const transfer = source.kind === 'files' ? source.files.map((f) => f.buffer) : [];
      let reply: WorkerReply;
      try {
        reply = await request((requestId) => ({ type: 'loadModel', requestId, source }), transfer);
      } catch (error) {
        // The worker crashed while loading (workerCrashed already said so) or before: the current model stays.
        if (store.getState().modelStatus === 'loading') actions().modelFailed((error as Error).message);
        return null;
      }
      if (reply.type === 'modelLoaded') {
        actions().modelLoaded(reply.model, sourceFreezePlan(reply.model.layers), origin);
        return reply.model;
      }
      // The worker keeps the previous model when a load fails, and so does the store.
      if (reply.type === 'requestFailed') actions().modelFailed(reply.error.message);
      return null;
    },

    train(resume) {
      const state = store.getState();
      const settings = runPlanSettings(state);
      const blocker = state.workerCrash
        ? 'The training worker crashed. Press “Restart the training worker” first.'
        : isRunActive(state)
          ? `Run ${state.runId} is still in progress: wait for it to end, or press Stop, then Train again.`
          : (trainBlocker(state) ?? settings.error);
      if (blocker) {
        // A refusal is not a run: the live run (or the last one's result) stays as it is.
        state.trainRefused(blocker);
        return null;
      }
      const model = state.model!;
      const shape: ImageShape = { ...model.inputShape, channels: model.inputShape.channels as 1 | 3 };
      // The held-out test images must never be trained on; the evaluation after the run reads the same split.
      const { labels, split } = splitDataset(state);
      const gather = (indices: Int32Array): WireImageSet => ({
        pixels: packImages(
          Array.from(indices, (i) => state.images[i].pixels),
          shape,
        ),
        labels: Int32Array.from(indices, (i) => labels[i]),
        shape,
      });
      const train = gather(split.train);
      const validation = split.validation.length > 0 ? gather(split.validation) : null;
      // Never trained on: the worker predicts them once, with the validation images, when the run ends (the evaluation).
      const test = split.test.length > 0 ? gather(split.test) : null;
      const runId = resume ? resume.runId : state.runId + 1;
      // The same decision the Train panel's hint shows (one selector for both); a resumed run keeps its own.
      const resolved = nextRunTraining(state);
      const config = resume ? resume.resumed.settings.config : resolved.config;
      const batchSize = Math.max(1, Math.min(config.batchSize, split.train.length));
      const batchesPerEpoch = Math.ceil(split.train.length / batchSize);
      if (resume && batchesPerEpoch !== resume.resumed.settings.batchesPerEpoch) {
        state.trainRefused(
          `Run ${resume.runId} cannot be resumed: it trained on ${resume.resumed.settings.batchesPerEpoch} batches per epoch, and the dataset now gives ${batchesPerEpoch}. Keep it as a stopped run instead.`,
        );
        return null;
      }
      state.runRequested(runId, batchesPerEpoch, {
        config,
        autoEpochs: resume ? resume.resumed.settings.autoEpochs : resolved.mode === 'off' ? null : resolved.explanation,
        trainImageIds: Array.from(split.train, (i) => state.images[i].id),
        // Only a run that goes on from the last run's weights can have seen its validation images.
        validationTrainedOn: resume ? (resume.resumed.settings.validationTrainedOn ?? 0) : nextRunValidationTrainedOn(state),
        resumed: resume?.resumed,
      });
      const held = (indices: Int32Array) =>
        indices.length > 0 ? { images: Array.from(indices, (i) => state.images[i]), labels: Int32Array.from(indices, (i) => labels[i]) } : null;
      state.evaluationPrepared(runId, held(split.validation), held(split.test));
      const transfer: Transferable[] = [train.pixels.buffer, train.labels.buffer];
      for (const set of [validation, test]) if (set) transfer.push(set.pixels.buffer, set.labels.buffer);
      transport.post(
        {
          type: 'train',
          runId,
          plan: resume ? resume.plan : state.freezePlan,
          cutLayer: state.cutLayer!,
          head: state.head,
          preprocessing: state.preprocessing!,
          classNames: state.classNames,
          train,
          validation,
          test,
          config: resume ? resume.workerConfig : { ...config, unfreezeSchedule: settings.unfreezeSchedule, rateMultipliers: settings.rateMultipliers },
          batchNormOverrides: resume ? resume.batchNormOverrides : state.batchNormOverrides,
          checkpoints: true,
          resume: resume && { epoch: resume.epoch, learningRateFactor: resume.learningRateFactor },
        },
        transfer,
      );
      return runId;
    },

    pause() {
      const state = store.getState();
      if (state.runStatus === 'running' || state.runStatus === 'starting') transport.post({ type: 'pause', runId: state.runId });
    },

    resume() {
      const state = store.getState();
      if (isRunActive(state)) transport.post({ type: 'resume', runId: state.runId });
    },

    stop() {
      const state = store.getState();
      if (!isRunActive(state)) return;
      state.stopRequested();
      transport.post({ type: 'stop', runId: state.runId });
    },

    async verify() {
      const reply = await request((requestId) => ({ type: 'verify', requestId }));
      if (reply.type === 'audit') {
        // A run that failed before its first step left the worker's audit on an earlier run: that one is not shown.
        if (!isCurrentRun(reply.runId)) throw new Error(`The worker's last audited run is run ${reply.runId}, not the current one; train again to audit it.`);
        actions().auditArrived(reply.report);
        return;
      }
      throw new Error(failureOf(reply, 'a verify'));
    },

    async exportModel() {
      const reply = await request((requestId) => ({ type: 'exportModel', requestId }));
      if (reply.type === 'modelExported') return reply.artifacts;
      throw new Error(failureOf(reply, 'an export'));
    },

    async exportTransfer(model) {
      const reply = await request((requestId) => ({ type: 'exportTransfer', requestId, model }));
      if (reply.type === 'transferExported') return { artifacts: reply.artifacts, weightsFrom: reply.weightsFrom };
      throw new Error(failureOf(reply, 'an export'));
    },

    async readSourceWeights() {
      const reply = await request((requestId) => ({ type: 'readSourceWeights', requestId }));
      if (reply.type === 'sourceWeights') return { sourceHash: reply.sourceHash, weights: reply.weights };
      throw new Error(failureOf(reply, 'reading the source weights'));
    },

    async setWeights(model, weights, complete) {
      const reply = await request((requestId) => ({ type: 'setWeights', requestId, model, weights, complete }), [weights.weightData]);
      if (reply.type !== 'weightsSet') throw new Error(failureOf(reply, 'reopening the saved weights'));
    },

    onCheckpoint(listener) {
      checkpointListeners.add(listener);
      return () => checkpointListeners.delete(listener);
    },

    async predict(images) {
      const reply = await request((requestId) => ({ type: 'predict', requestId, images }), [images.pixels.buffer, images.labels.buffer]);
      if (reply.type === 'predictions') return { probabilities: reply.probabilities, numClasses: reply.numClasses };
      throw new Error(failureOf(reply, 'a prediction'));
    },

    async restart(preference, allowSoftwareWebgl, source) {
      actions().workerRestarting();
      try {
        transport.restart();
        const ready = await request((requestId) => ({ type: 'init', requestId, backend: preference, allowSoftwareWebgl }));
        if (ready.type !== 'ready') throw new Error(failureOf(ready, 'starting the backend'));
        actions().backendReady(ready.backend, ready.notes);
        if (source) {
          const transfer = source.kind === 'files' ? source.files.map((f) => f.buffer) : [];
          const loaded = await request((requestId) => ({ type: 'loadModel', requestId, source }), transfer);
          if (loaded.type !== 'modelLoaded') throw new Error(failureOf(loaded, 'loading the model'));
          actions().workerRestarted(loaded.model);
        } else actions().workerRestarted(null);
        return true;
      } catch (error) {
        const message = (error instanceof Error ? error.message : String(error)).replace(/([^.])$/, '$1.');
        actions().workerRestartFailed(`Restarting the training worker failed: ${message} Reload the page to start the studio again.`);
        return false;
      }
    },
  };
}
