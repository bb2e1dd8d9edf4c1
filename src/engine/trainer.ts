import * as tf from '@tensorflow/tfjs';
import { crossEntropy, countCorrect, imageCount, makeBatch, type ImageSet } from './batches';
import { describeVariables, trainableVariables } from './freeze';
import { createRandom, shuffleInPlace } from './random';
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
  stopped: boolean;
  epochsCompleted: number;
  batches: number;
  /** Validation metrics of the weights as they are at the end (null without a validation set). */
  validationLoss: number | null;
  validationAccuracy: number | null;
  /** The variables the optimizer updated, in order. */
  optimizerVariables: { name: string; shape: number[] }[];
}

/** Evaluation of `set` in inference mode: mean loss and accuracy. */
export async function evaluate(
  model: tf.LayersModel,
  set: ImageSet,
  numClasses: number,
  preprocessing: Preprocessing,
  batchSize: number,
): Promise<{ loss: number; accuracy: number }> {
  const count = imageCount(set);
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const { xs, ys } = makeBatch(set, indices, numClasses, preprocessing);
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

/**
 * Trains the trainable variables of `model` (as set by the freeze plan
 * already applied) on `train`, with a fresh Adam optimizer disposed at the
 * end, and an explicit variable list so nothing outside the model moves.
 * Batches keep a fixed size except the epoch's last one. Frozen BatchNorm
 * layers must already be guarded (see guardFrozenLayers).
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
  const variables = trainableVariables(model);
  if (variables.length === 0) throw new Error('Nothing to train: every layer is frozen.');
  const optimizer = tf.train.adam(config.learningRate);
  const random = createRandom(config.seed);
  const yieldNow = createYielder(25);
  const count = imageCount(train);
  const batchSize = Math.max(1, Math.min(config.batchSize, count));
  const order = Int32Array.from({ length: count }, (_, i) => i);
  let step = 0;
  let epochsCompleted = 0;
  let stopped = false;
  let lastValidation: { loss: number; accuracy: number } | null = null;
  const hasValidation = validation !== null && imageCount(validation) > 0;
  try {
    for (let epoch = 0; epoch < config.epochs && !stopped; epoch++) {
      shuffleInPlace(order, random);
      const started = performance.now();
      let lossSum = 0;
      let correctSum = 0;
      let seen = 0;
      for (let start = 0, batch = 0; start < count; start += batchSize, batch++) {
        if (hooks.shouldStop?.()) {
          stopped = true;
          break;
        }
        const indices = order.subarray(start, Math.min(start + batchSize, count));
        const { xs, ys } = makeBatch(train, indices, numClasses, preprocessing);
        let correct: tf.Scalar | undefined;
        let loss: tf.Scalar | null = null;
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
          const [lossValue, correctValue] = await Promise.all([loss!.data(), correct!.data()]);
          lossSum += lossValue[0] * indices.length;
          correctSum += correctValue[0];
          seen += indices.length;
          hooks.onBatch?.({ step, epoch, batch, loss: lossValue[0] });
        } finally {
          // An exception inside a step would otherwise leak its tensors (TFJS-FACTS #13).
          tf.dispose([xs, ys]);
          if (loss) loss.dispose();
          if (correct) correct.dispose();
        }
        step++;
        await yieldNow();
      }
      if (seen < count) break; // stopped mid-epoch: the partial epoch gets no epoch metrics
      const millis = performance.now() - started;
      const val = hasValidation ? await evaluate(model, validation, numClasses, preprocessing, batchSize) : null;
      lastValidation = val;
      epochsCompleted++;
      hooks.onEpoch?.({
        epoch,
        trainLoss: lossSum / seen,
        trainAccuracy: correctSum / seen,
        validationLoss: val?.loss ?? null,
        validationAccuracy: val?.accuracy ?? null,
        millis,
      });
      await yieldNow();
    }
    // After a Stop the weights moved since the last epoch's evaluation: measure them again.
    const final = hasValidation && (stopped || lastValidation === null)
      ? await evaluate(model, validation, numClasses, preprocessing, batchSize)
      : lastValidation;
    return {
      stopped,
      epochsCompleted,
      batches: step,
      validationLoss: final?.loss ?? null,
      validationAccuracy: final?.accuracy ?? null,
      optimizerVariables: describeVariables(variables),
    };
  } finally {
    optimizer.dispose();
  }
}
