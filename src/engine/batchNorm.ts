import * as tf from '@tensorflow/tfjs';

const GUARDED = Symbol('frozenBatchNormGuard');

type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/**
 * Makes every BatchNormalization layer in `model` run in inference mode while
 * it is frozen (Keras semantics). tfjs itself only reads the `training`
 * argument, so a frozen BN layer would still normalise with batch statistics
 * and overwrite its moving mean and variance (TFJS-FACTS #6). Layers are
 * patched once; the check reads `trainable` at every call, so later freeze
 * plans take effect without patching again. Returns how many layers it guards.
 */
export function guardFrozenBatchNorm(model: tf.LayersModel): number {
  let guarded = 0;
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) {
      guarded += guardFrozenBatchNorm(layer);
      continue;
    }
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const target = layer as unknown as { call: CallFn; [GUARDED]?: true; trainable: boolean };
    if (!target[GUARDED]) {
      const original = target.call.bind(layer) as CallFn;
      target.call = (inputs, kwargs) =>
        original(inputs, target.trainable ? kwargs : { ...kwargs, training: false });
      target[GUARDED] = true;
    }
    guarded++;
  }
  return guarded;
}
