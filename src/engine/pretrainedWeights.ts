import * as tf from '@tensorflow/tfjs';

/** CPU-side copies of every weight of a loaded model, keyed by its variable: what "Start from the pretrained weights" restores. */
export type PretrainedWeights = Map<tf.Variable, tf.TypedArray>;

/**
 * Copies every weight of `model` (nested models included, BatchNorm moving
 * statistics included, trainable or not) to the CPU with `await data()`,
 * never dataSync (TFJS-FACTS #8). All reads start before the first await.
 * Creates no tensors.
 */
export async function capturePretrained(model: tf.LayersModel): Promise<PretrainedWeights> {
  const variables = [...new Set(model.weights.map((weight) => weight.read() as tf.Variable))];
  const values = await Promise.all(variables.map((variable) => variable.data()));
  // Copies: the cpu backend hands out its own backing arrays.
  return new Map(variables.map((variable, i) => [variable, values[i].slice() as tf.TypedArray]));
}

/** Assigns the captured values back to their variables (inside one tidy: no tensor is left behind). */
export function restorePretrained(weights: PretrainedWeights): void {
  tf.tidy(() => {
    for (const [variable, values] of weights) {
      if (!variable.isDisposed) variable.assign(tf.tensor(values, variable.shape, variable.dtype));
    }
  });
}
