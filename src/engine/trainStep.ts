import * as tf from '@tensorflow/tfjs';
import { countCorrect, crossEntropy } from './batches';
import type { TrainableSet } from './trainableSet';

/**
 * One gradient step: the forward pass with `training: true` (frozen layers
 * are forced to inference mode by guardFrozenLayers), gradients of the loss
 * over `set.variables` only (an explicit list: nothing outside the set
 * moves, TFJS-FACTS #4), then each optimizer of the set applies its share.
 * Disposes `xs` and `ys` and every tensor it makes, also when it throws
 * (TFJS-FACTS #13). Returns the batch's mean loss and its correct count,
 * read with `await data()`.
 */
export async function trainStep(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor2D, set: TrainableSet): Promise<{ loss: number; correct: number }> {
  let correct: tf.Scalar | undefined;
  let loss: tf.Scalar | null = null;
  try {
    const { value, grads } = tf.variableGrads(() => {
      const probs = model.apply(xs, { training: true }) as tf.Tensor;
      correct = tf.keep(countCorrect(ys, probs));
      return crossEntropy(ys, probs);
    }, set.variables);
    loss = value;
    try {
      set.applyGradients(grads);
    } finally {
      tf.dispose(grads);
    }
    const [lossData, correctData] = await Promise.all([loss.data(), correct!.data()]);
    return { loss: lossData[0], correct: correctData[0] };
  } finally {
    tf.dispose([xs, ys]);
    if (loss) loss.dispose();
    if (correct) correct.dispose();
  }
}
