import * as tf from '@tensorflow/tfjs';

const GUARDED = Symbol('frozenLayerGuard');

type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/**
 * Makes every frozen layer in `model` run in inference mode (Keras
 * semantics for BatchNormalization, extended to every layer): a frozen BN
 * layer normalises with its moving statistics and never updates them, and a
 * frozen Dropout layer passes its input through. tfjs itself only reads the
 * `training` argument, so a frozen BN layer would otherwise still normalise
 * with batch statistics and overwrite its moving mean and variance
 * (TFJS-FACTS #6). It also makes the frozen part a fixed function of its
 * input, which is what a feature cache computes.
 *
 * Layers are patched once; the check reads `trainable` at every call, so
 * later freeze plans take effect without patching again. Returns how many
 * BatchNormalization layers are now guarded.
 */
export function guardFrozenLayers(model: tf.LayersModel): number {
  let batchNorms = 0;
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) {
      batchNorms += guardFrozenLayers(layer);
      continue;
    }
    if (layer.getClassName() === 'BatchNormalization') batchNorms++;
    const target = layer as unknown as { call: CallFn; [GUARDED]?: true; trainable: boolean };
    if (target[GUARDED]) continue;
    const original = target.call.bind(layer) as CallFn;
    target.call = (inputs, kwargs) => original(inputs, target.trainable ? kwargs : { ...kwargs, training: false });
    target[GUARDED] = true;
  }
  return batchNorms;
}
