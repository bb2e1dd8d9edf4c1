import * as tf from '@tensorflow/tfjs';

import type { BatchNormMode, BatchNormOverrides } from '../core/types';
import { trainingBatchNorm } from './batchNormTraining';

const GUARDED = Symbol('frozenLayerGuard');
const BN_MODE = Symbol('batchNormMode');

type Flagged = { trainable: boolean; [BN_MODE]?: BatchNormMode };

/**
 * Whether `layer` runs in training mode when called with `training: true`:
 * a trainable layer (unless it is a BatchNormalization layer set to
 * 'inference': it trains gamma and beta on its moving statistics), or a
 * frozen BatchNormalization layer set to 'train-stats' (it uses and updates
 * batch statistics; its gamma and beta stay frozen).
 */
export function runsInTrainingMode(layer: tf.layers.Layer): boolean {
  const flagged = layer as unknown as Flagged;
  return flagged.trainable ? flagged[BN_MODE] !== 'inference' : flagged[BN_MODE] === 'train-stats';
}

/**
 * Sets the mode of the BatchNormalization layers `overrides` names (nested
 * models opened) and clears it on every other layer. Unknown names and
 * non-BN layers are ignored. Returns the names that took effect.
 */
export function setBatchNormOverrides(model: tf.LayersModel, overrides: BatchNormOverrides): string[] {
  const applied: string[] = [];
  const walk = (m: tf.LayersModel) => {
    for (const layer of m.layers) {
      if (layer instanceof tf.LayersModel) walk(layer);
      else {
        const mode = layer.getClassName() === 'BatchNormalization' ? overrides[layer.name] : undefined;
        (layer as unknown as Flagged)[BN_MODE] = mode;
        if (mode) applied.push(layer.name);
      }
    }
  };
  walk(model);
  return applied;
}

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
 * Layers are patched once; the check reads `trainable` (and the BN
 * override, see setBatchNormOverrides) at every call, so later freeze plans
 * take effect without patching again. Returns how many
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
    const target = layer as unknown as { call: CallFn; [GUARDED]?: true };
    if (target[GUARDED]) continue;
    const original = target.call.bind(layer) as CallFn;
    target.call = (inputs, kwargs) => {
      if (!runsInTrainingMode(layer)) return original(inputs, { ...kwargs, training: false });
      // A BatchNormalization layer's training call with a closed-form gradient (engine/batchNormTraining.ts), where it applies.
      return trainingBatchNorm(layer, inputs, kwargs) ?? original(inputs, kwargs);
    };
    target[GUARDED] = true;
  }
  return batchNorms;
}
