import * as tf from '@tensorflow/tfjs';
import { crossEntropy, countCorrect, imageCount, makeBatch, type ImageSet } from './batches';
import { inferFolded } from './frozenPrefix';
import type { Preprocessing } from '../core/types';

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
export async function evaluateSource(model: tf.LayersModel, source: BatchSource, batchSize: number): Promise<{ loss: number; accuracy: number }> {
  const count = source.count;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const { xs, ys } = source.batch(indices);
    const [lossTensor, correctTensor] = tf.tidy(() => {
      const probs = inferFolded(model, xs);
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
