import * as tf from '@tensorflow/tfjs';
import type { FreezePlan } from '../core/types';

/**
 * Applies `plan` layer by layer (never through `model.trainable`, which leaves
 * layer flags and variables out of step). Layers named in `alwaysTrained`
 * (the studio's head) are trainable whatever the plan says. A nested model is
 * opened: it is set trainable first (which writes every inner flag), then
 * each of its layers follows the plan by its own name.
 */
export function applyFreezePlan(model: tf.LayersModel, plan: FreezePlan, alwaysTrained: ReadonlySet<string>): void {
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer instanceof tf.LayersModel) {
      layer.trainable = true;
      applyFreezePlan(layer, plan, alwaysTrained);
      continue;
    }
    layer.trainable = alwaysTrained.has(layer.name) || plan[layer.name] !== true;
  }
}

/** The variables a gradient step may update under the current flags, in model order. */
export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((weight) => weight.read() as tf.Variable);
}

/** Name and shape of each variable, for showing what the optimizer holds. */
export function describeVariables(variables: readonly tf.Variable[]): { name: string; shape: number[] }[] {
  return variables.map((v) => ({ name: v.name, shape: [...v.shape] }));
}

/** Number of scalar parameters in `weights` (unknown dimensions count as 1). */
export function countWeightParams(weights: readonly { shape: readonly (number | null)[] }[]): number {
  return weights.reduce((sum, w) => sum + w.shape.reduce<number>((p, d) => p * (d ?? 1), 1), 0);
}

/** Every leaf layer of `model` (nested models opened, input layers left out), in model order. */
export function leafLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) out.push(...leafLayers(layer));
    else if (layer.getClassName() !== 'InputLayer') out.push(layer);
  }
  return out;
}

/**
 * The freeze plan as the layers' flags state it now: every leaf layer
 * (nested models opened, input layers and `headLayers` left out) → frozen.
 * What a run really applied, for its record and the export's provenance.
 */
export function appliedFreezePlan(model: tf.LayersModel, headLayers: ReadonlySet<string> = new Set()): FreezePlan {
  const plan: FreezePlan = {};
  for (const layer of leafLayers(model)) if (!headLayers.has(layer.name)) plan[layer.name] = !layer.trainable;
  return plan;
}
