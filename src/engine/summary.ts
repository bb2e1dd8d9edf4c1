import * as tf from '@tensorflow/tfjs';
import { countWeightParams } from './freeze';
import type { LayerInfo } from '../core/types';

function outputShapeOf(layer: tf.layers.Layer): (number | null)[] {
  const shape = layer.outputShape;
  // A layer with several outputs reports a list of shapes; the tree shows the first.
  const first = Array.isArray(shape[0]) ? (shape[0] as (number | null)[]) : (shape as (number | null)[]);
  return first.slice(1);
}

/**
 * One row per layer of `model` (input layers left out), in the model's order,
 * up to and including `upTo` when given. A nested model (a Keras application
 * used as one layer) is replaced by the rows of its own layers, each with
 * `parent` naming it. Parameter counts split the way Keras does: weights a
 * gradient may update vs. weights that are never trained (BatchNorm moving
 * statistics).
 */
export function summarizeLayers(model: tf.LayersModel, upTo?: string): LayerInfo[] {
  const rows: LayerInfo[] = [];
  const visit = (container: tf.LayersModel, parent: string | null): boolean => {
    for (const layer of container.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      if (layer instanceof tf.LayersModel) {
        if (visit(layer, layer.name)) return true;
        if (layer.name === upTo) return true;
        continue;
      }
      rows.push(describeLayer(layer, parent));
      if (layer.name === upTo) return true;
    }
    return false;
  };
  visit(model, null);
  return rows;
}

/** The layer's first input shape without the batch dimension, from its first inbound node; undefined when it has none. */
function inputShapeOf(layer: tf.layers.Layer): (number | null)[] | undefined {
  const shapes = layer.inboundNodes[0]?.inputShapes as (number | null)[] | (number | null)[][] | undefined;
  if (!shapes || shapes.length === 0) return undefined;
  const first = Array.isArray(shapes[0]) ? (shapes[0] as (number | null)[]) : (shapes as (number | null)[]);
  return first.slice(1);
}

function describeLayer(layer: tf.layers.Layer, parent: string | null): LayerInfo {
  const frozenInSource = !layer.trainable;
  // `trainableWeights` is empty while a layer is frozen, so read the split with it unfrozen.
  layer.trainable = true;
  const trainableParams = countWeightParams(layer.trainableWeights);
  const nonTrainableParams = countWeightParams(layer.nonTrainableWeights);
  layer.trainable = !frozenInSource;
  return {
    name: layer.name,
    className: layer.getClassName(),
    outputShape: outputShapeOf(layer),
    trainableParams,
    nonTrainableParams,
    frozenInSource,
    origin: 'pretrained',
    parent,
    inputShape: inputShapeOf(layer),
    kernelShape: layer.weights.find((w) => /(^|\/)(depthwise_)?kernel(_\d+)?$/.test(w.originalName))?.shape as number[] | undefined,
  };
}
