import * as tf from '@tensorflow/tfjs';
import { countCorrect, crossEntropy } from './batches';
import { frozenPrefixOf } from './frozenPrefix';
import type { TrainableSet } from './trainableSet';

/**
 * One gradient step: the forward pass with `training: true` (frozen layers
 * are forced to inference mode by guardFrozenLayers) — its frozen prefix
 * first, outside the tape (engine/frozenPrefix.ts), then the rest under it —,
 * gradients of the loss
 * over `set.variables` only (an explicit list: nothing outside the set
 * moves, TFJS-FACTS #4), then each optimizer of the set applies its share.
 * Disposes `xs` and `ys` and every tensor it makes, also when it throws
 * (TFJS-FACTS #13). Returns the batch's mean loss and its correct count,
 * read with `await data()`.
 */
export async function trainStep(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor2D, set: TrainableSet): Promise<{ loss: number; correct: number }> {
  let correct: tf.Scalar | undefined;
  let loss: tf.Scalar | null = null;
  let frontier: tf.Tensor[] = [];
  try {
    const prefix = frozenPrefixOf(model);
    if (prefix) frontier = prefix.run(xs);
    const { value, grads } = tf.variableGrads(() => {
      const probs = prefix ? prefix.rest(frontier, { training: true }) : (model.apply(xs, { training: true }) as tf.Tensor);
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
    tf.dispose([xs, ys, ...frontier]);
    if (loss) loss.dispose();
    if (correct) correct.dispose();
  }
}
