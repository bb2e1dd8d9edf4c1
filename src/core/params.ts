import type { FreezePlan, LayerInfo } from './types';

/** Parameter totals as Keras' `model.summary()` states them. */
export interface ParamTotals {
  total: number;
  trainable: number;
  nonTrainable: number;
}

/** Whether `layer` is frozen under `plan`; head layers are always trained. */
export function isFrozen(layer: LayerInfo, plan: FreezePlan): boolean {
  return layer.origin === 'pretrained' && plan[layer.name] === true;
}

/** One layer's split under `plan`, as Keras' summary counts it: a frozen layer's weights are all non-trainable. */
export function layerParams(layer: LayerInfo, plan: FreezePlan): { trainable: number; nonTrainable: number } {
  return isFrozen(layer, plan)
    ? { trainable: 0, nonTrainable: layer.trainableParams + layer.nonTrainableParams }
    : { trainable: layer.trainableParams, nonTrainable: layer.nonTrainableParams };
}

/**
 * Counts parameters the way Keras does: a frozen layer's weights are all
 * non-trainable, and BatchNorm moving statistics are non-trainable always.
 */
export function countParams(layers: readonly LayerInfo[], plan: FreezePlan): ParamTotals {
  let trainable = 0;
  let nonTrainable = 0;
  for (const layer of layers) {
    nonTrainable += layer.nonTrainableParams;
    if (isFrozen(layer, plan)) nonTrainable += layer.trainableParams;
    else trainable += layer.trainableParams;
  }
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

/** The plan the file itself records: each layer frozen where its `trainable` flag was false. */
export function sourceFreezePlan(layers: readonly LayerInfo[]): FreezePlan {
  const plan: FreezePlan = {};
  for (const layer of layers) if (layer.origin === 'pretrained') plan[layer.name] = layer.frozenInSource;
  return plan;
}

/** A plan with every pretrained layer set to `frozen` (the head stays trained). */
export function uniformFreezePlan(layers: readonly LayerInfo[], frozen: boolean): FreezePlan {
  const plan: FreezePlan = {};
  for (const layer of layers) if (layer.origin === 'pretrained') plan[layer.name] = frozen;
  return plan;
}
