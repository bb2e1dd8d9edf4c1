import * as tf from '@tensorflow/tfjs';
import { crossEntropy, countCorrect, imageCount, makeBatch, type ImageSet } from './batches';
import { describeVariables, trainableVariables } from './freeze';
import { createRandom, shuffleInPlace } from './random';
import { learningRateAt } from './schedules';
import type { BatchPoint, EpochMetrics, Preprocessing, TrainConfig } from './types';

/** Callbacks a training run reports through; all optional. */
export interface TrainHooks {
  /** After every batch, with its loss. */
  onBatch?(point: BatchPoint): void;
  /** After every epoch, with train and validation metrics. */
  onEpoch?(metrics: EpochMetrics): void;
  /** Polled at every batch boundary; true ends the run there. */
  shouldStop?(): boolean;
}

/** How a run ended. */
export interface TrainResult {
  /** The user stopped the run (shouldStop returned true). */
  stopped: boolean;
  /** Early stopping ended the run: no better validation loss for `patience` epochs. */
  stoppedEarly: boolean;
  epochsCompleted: number;
  batches: number;
  /**
   * Which epoch's end-of-epoch weights the model holds now, counted from 1
   * (0: the weights of the start of the run); null when it holds weights from
   * the middle of an epoch (a run stopped mid-epoch with nothing to restore).
   */
  restoredEpoch: number | null;
  /** Whether weights were written back at the end (best epoch, or last good weights after a non-finite loss). */
  restored: boolean;
  /** Why the run failed (a non-finite loss), saying what to try; null when it did not. */
  failure: string | null;
  /** Validation metrics of the weights as they are at the end (null without a validation set). */
  validationLoss: number | null;
  validationAccuracy: number | null;
  /** The variables the optimizer updated, in order. */
  optimizerVariables: { name: string; shape: number[] }[];
}

/**
 * Where a run's batches come from: images mapped through makeBatch, or
 * feature vectors cached from a frozen prefix (see featureCache.ts).
 */
export interface BatchSource {
  /** Number of rows (images). */
  count: number;
  /** The model inputs and [b, numClasses] one-hot labels of the rows at `indices`; the caller disposes both. */
  batch(indices: ArrayLike<number>): { xs: tf.Tensor; ys: tf.Tensor2D };
}

/** A BatchSource over uint8 images, mapped to `preprocessing.range` (makeBatch). */
export function imageSource(set: ImageSet, numClasses: number, preprocessing: Preprocessing): BatchSource {
  return { count: imageCount(set), batch: (indices) => makeBatch(set, indices, numClasses, preprocessing) };
}

/** Evaluation of `source` in inference mode: mean loss and accuracy. */
export async function evaluateSource(
  model: tf.LayersModel,
  source: BatchSource,
  batchSize: number,
): Promise<{ loss: number; accuracy: number }> {
  const count = source.count;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const { xs, ys } = source.batch(indices);
    const [lossTensor, correctTensor] = tf.tidy(() => {
      const probs = model.apply(xs, { training: false }) as tf.Tensor;
      return [crossEntropy(ys, probs).mul(indices.length), countCorrect(ys, probs)];
    });
    const [lossValue, correctValue] = await Promise.all([lossTensor.data(), correctTensor.data()]);
    tf.dispose([xs, ys, lossTensor, correctTensor]);
    lossSum += lossValue[0];
    correct += correctValue[0];
  }
  return { loss: lossSum / Math.max(count, 1), accuracy: correct / Math.max(count, 1) };
}

/** Evaluation of `set` in inference mode: mean loss and accuracy. */
export async function evaluate(
  model: tf.LayersModel,
  set: ImageSet,
  numClasses: number,
  preprocessing: Preprocessing,
  batchSize: number,
): Promise<{ loss: number; accuracy: number }> {
  return evaluateSource(model, imageSource(set, numClasses, preprocessing), batchSize);
}

/**
 * Lets queued messages (a Stop) run: `await tensor.data()` on the cpu backend
 * resolves as a microtask, so without a macrotask turn now and then the
 * worker would never see them. Yields at most every `intervalMs`.
 */
function createYielder(intervalMs: number): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < intervalMs) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    last = performance.now();
  };
}

/** Momentum of the 'momentum' optimizer. */
export const MOMENTUM = 0.9;

/** A fresh optimizer for one run (TFJS-FACTS #2: never reused across variable sets). */
export function createOptimizer(config: TrainConfig): tf.Optimizer {
  switch (config.optimizer ?? 'adam') {
    case 'sgd':
      return tf.train.sgd(config.learningRate);
    case 'momentum':
      return tf.train.momentum(config.learningRate, MOMENTUM);
    case 'adam':
      return tf.train.adam(config.learningRate);
    default:
      throw new Error(`Unknown optimizer "${String(config.optimizer)}": use 'adam', 'sgd' or 'momentum'.`);
  }
}

/**
 * Sets the learning rate of the next step. SGD and Momentum multiply by a
 * scalar tensor cached by `setLearningRate` (assigning the field alone does
 * nothing there); Adam reads its `learningRate` number at every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  // Not `instanceof`: tfjs's Optimizer[Symbol.hasInstance] is duck-typed, so every optimizer is "an SGDOptimizer".
  const sgd = optimizer as unknown as { setLearningRate?: (rate: number) => void; learningRate: number };
  if (typeof sgd.setLearningRate === 'function') sgd.setLearningRate(rate);
  else sgd.learningRate = rate;
}

/** Disposes `optimizer` entirely: MomentumOptimizer.dispose forgets the learning-rate scalar it inherits from SGD. */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  if (optimizer.getClassName() === 'Momentum') {
    const c = (optimizer as unknown as { c?: tf.Scalar }).c;
    if (c && !c.isDisposed) c.dispose();
  }
}

/**
 * The variables a run changes: the trainable ones, plus the non-trainable
 * weights (BatchNorm moving statistics) of layers that are not frozen. The
 * weights of frozen layers are never included, so a restore never assigns them.
 */
function runStateVariables(model: tf.LayersModel, trainable: readonly tf.Variable[]): tf.Variable[] {
  const out = new Set<tf.Variable>(trainable);
  const walk = (m: tf.LayersModel) => {
    for (const layer of m.layers) {
      if (!layer.trainable) continue;
      if (layer instanceof tf.LayersModel) walk(layer);
      else for (const weight of layer.nonTrainableWeights) out.add(weight.read() as tf.Variable);
    }
  };
  walk(model);
  return [...out];
}

/** CPU-side copies of variables' values at the end of an epoch (`epoch` counted from 1; 0 = start of the run). */
interface Snapshot {
  epoch: number;
  values: tf.TypedArray[];
  validation: { loss: number; accuracy: number } | null;
}

async function takeSnapshot(
  variables: readonly tf.Variable[],
  epoch: number,
  validation: { loss: number; accuracy: number } | null,
): Promise<Snapshot> {
  const values: tf.TypedArray[] = [];
  for (const variable of variables) values.push((await variable.data()).slice() as tf.TypedArray);
  return { epoch, values, validation };
}

function allFinite(snapshot: Snapshot): boolean {
  return snapshot.values.every((values) => values.every((v) => Number.isFinite(v)));
}

function restoreSnapshot(variables: readonly tf.Variable[], snapshot: Snapshot): void {
  tf.tidy(() => {
    variables.forEach((variable, i) => variable.assign(tf.tensor(snapshot.values[i], variable.shape, variable.dtype)));
  });
}

/** A learning rate ten times lower, written plainly (0.001 → 0.0001). */
function lowerRate(rate: number): string {
  return String(Number((rate / 10).toPrecision(2)));
}

function weightsPhrase(snapshot: Snapshot): string {
  return snapshot.epoch === 0 ? 'the weights from the start of the run were restored' : `the weights of epoch ${snapshot.epoch} were restored`;
}

/**
 * Trains the trainable variables of `model` (as set by the freeze plan
 * already applied) on `train`, with a fresh optimizer (Adam, SGD or SGD with
 * momentum) disposed at the end, and an explicit variable list so nothing
 * outside the model moves. The learning rate follows `config.schedule`
 * (learningRateAt), set before every batch. Batches keep a fixed size except
 * the epoch's last one. Frozen BatchNorm layers must already be guarded (see
 * guardFrozenLayers).
 *
 * With a validation set, a CPU copy of the run's variables is kept at the
 * best validation loss so far; early stopping (`config.earlyStopping`) ends
 * the run after `patience` epochs without improvement, and an early-stopped
 * or user-stopped run ends holding those best weights. A run that finishes
 * all its epochs keeps its final weights. A non-finite loss (or non-finite
 * weights after an epoch) stops the run at once, restores the last good
 * weights (end of the last completed epoch, or the start of the run) and
 * reports `failure`. Frozen weights are never copied nor assigned.
 */
export async function trainModel(
  model: tf.LayersModel,
  train: ImageSet,
  validation: ImageSet | null,
  numClasses: number,
  preprocessing: Preprocessing,
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  return trainOnSource(
    model,
    imageSource(train, numClasses, preprocessing),
    validation ? imageSource(validation, numClasses, preprocessing) : null,
    config,
    hooks,
  );
}

/**
 * trainModel's loop over any BatchSource: the same optimizer, schedule,
 * batch order (for the same seed and count), early stopping, best-weights
 * and NaN guard. `model` maps the source's inputs to class probabilities;
 * with cached features it is a head-only model sharing the transfer
 * model's head layers (featureCache.ts).
 */
export async function trainOnSource(
  model: tf.LayersModel,
  train: BatchSource,
  validation: BatchSource | null,
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const variables = trainableVariables(model);
  if (variables.length === 0) throw new Error('Nothing to train: every layer is frozen.');
  const patience = config.earlyStopping?.patience ?? null;
  if (patience !== null && !(Number.isInteger(patience) && patience >= 1)) {
    throw new Error(`Early-stopping patience must be a whole number of epochs ≥ 1, not ${patience}; set it to 1 or more, or turn early stopping off.`);
  }
  const stateVariables = runStateVariables(model, variables);
  const optimizer = createOptimizer(config);
  const scheduled = (config.schedule ?? 'constant') !== 'constant';
  const random = createRandom(config.seed);
  const yieldNow = createYielder(25);
  const count = train.count;
  const batchSize = Math.max(1, Math.min(config.batchSize, count));
  const totalSteps = config.epochs * Math.ceil(count / batchSize);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  let step = 0;
  let epochsCompleted = 0;
  let stopped = false;
  let stoppedEarly = false;
  let stoppedAtEpochStart = false;
  let failure: string | null = null;
  let lastValidation: { loss: number; accuracy: number } | null = null;
  const hasValidation = validation !== null && validation.count > 0;
  // The last good weights (for the NaN guard) and the best by validation loss.
  let lastGood = await takeSnapshot(stateVariables, 0, null);
  let best: Snapshot | null = null;
  let epochsSinceBest = 0;
  try {
    for (let epoch = 0; epoch < config.epochs && !stopped && failure === null; epoch++) {
      shuffleInPlace(order, random);
      const started = performance.now();
      let lossSum = 0;
      let correctSum = 0;
      let seen = 0;
      for (let start = 0, batch = 0; start < count; start += batchSize, batch++) {
        if (hooks.shouldStop?.()) {
          stopped = true;
          stoppedAtEpochStart = batch === 0;
          break;
        }
        if (scheduled) setLearningRate(optimizer, learningRateAt(config, step, totalSteps));
        const indices = order.subarray(start, Math.min(start + batchSize, count));
        const { xs, ys } = train.batch(indices);
        let correct: tf.Scalar | undefined;
        let loss: tf.Scalar | null = null;
        let lossValue = 0;
        try {
          loss = optimizer.minimize(
            () => {
              const probs = model.apply(xs, { training: true }) as tf.Tensor;
              correct = tf.keep(countCorrect(ys, probs));
              return crossEntropy(ys, probs);
            },
            true,
            variables,
          );
          const [lossData, correctData] = await Promise.all([loss!.data(), correct!.data()]);
          lossValue = lossData[0];
          if (Number.isFinite(lossValue)) {
            lossSum += lossValue * indices.length;
            correctSum += correctData[0];
            seen += indices.length;
            hooks.onBatch?.({ step, epoch, batch, loss: lossValue });
          }
        } finally {
          // An exception inside a step would otherwise leak its tensors (TFJS-FACTS #13).
          tf.dispose([xs, ys]);
          if (loss) loss.dispose();
          if (correct) correct.dispose();
        }
        step++;
        if (!Number.isFinite(lossValue)) {
          failure =
            `The loss became ${Number.isNaN(lossValue) ? 'NaN' : 'infinite'} at epoch ${epoch + 1}, batch ${batch + 1}; ` +
            `the run was stopped and ${weightsPhrase(lastGood)}. ` +
            `Lower the learning rate (e.g. to ${lowerRate(config.learningRate)}) and train again.`;
          break;
        }
        await yieldNow();
      }
      if (failure !== null || seen < count) break; // stopped mid-epoch: the partial epoch gets no epoch metrics
      const millis = performance.now() - started;
      const snapshot = await takeSnapshot(stateVariables, epoch + 1, null);
      if (!allFinite(snapshot)) {
        failure =
          `The weights became NaN or infinite during epoch ${epoch + 1}; the run was stopped and ${weightsPhrase(lastGood)}. ` +
          `Lower the learning rate (e.g. to ${lowerRate(config.learningRate)}) and train again.`;
        break;
      }
      const val = hasValidation ? await evaluateSource(model, validation!, batchSize) : null;
      snapshot.validation = val;
      lastGood = snapshot;
      lastValidation = val;
      epochsCompleted++;
      if (val !== null) {
        if (best === null || !(best.validation!.loss <= val.loss)) { // a NaN best is always replaced
          best = snapshot;
          epochsSinceBest = 0;
        } else {
          epochsSinceBest++;
        }
      }
      hooks.onEpoch?.({
        epoch,
        trainLoss: lossSum / seen,
        trainAccuracy: correctSum / seen,
        validationLoss: val?.loss ?? null,
        validationAccuracy: val?.accuracy ?? null,
        millis,
      });
      if (patience !== null && val !== null && epochsSinceBest >= patience && epoch + 1 < config.epochs) {
        stoppedEarly = true;
        break;
      }
      await yieldNow();
    }
    // Which weights the model ends with.
    let holds: Snapshot | null = null;
    let restored = false;
    if (failure !== null) {
      restoreSnapshot(stateVariables, lastGood);
      holds = lastGood;
      restored = true;
    } else if ((stopped || stoppedEarly) && best !== null) {
      if (best !== lastGood || stopped) {
        // A user stop mid-epoch moved the weights past lastGood; restore the best in both cases.
        restoreSnapshot(stateVariables, best);
        restored = true;
      }
      holds = best;
    } else if (!stopped || stoppedAtEpochStart) {
      holds = lastGood;
    }
    const measured = holds?.validation ?? null;
    const final = measured ?? (hasValidation && (stopped || failure !== null || lastValidation === null)
      ? await evaluateSource(model, validation!, batchSize)
      : lastValidation);
    return {
      stopped,
      stoppedEarly,
      epochsCompleted,
      batches: step,
      restoredEpoch: holds?.epoch ?? null,
      restored,
      failure,
      validationLoss: final?.loss ?? null,
      validationAccuracy: final?.accuracy ?? null,
      optimizerVariables: describeVariables(variables),
    };
  } finally {
    disposeOptimizer(optimizer);
  }
}
