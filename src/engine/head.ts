import * as tf from '@tensorflow/tfjs';
import { DEFAULT_HEAD, HEAD_DENSE_NAME, HEAD_LAYER_NAMES, headLayerSpecs, type HeadLayerSpec } from '../core/headSpec';
import { seededDropout } from './seededDropout';
import type { HeadConfig } from '../core/types';

/** Layer classes that make up a model's original classifier when they trail its graph. */
const CLASSIFIER_CLASSES = new Set(['Dense', 'Dropout', 'Activation', 'Softmax']);

/**
 * The layer the studio cuts at by default: the last layer before the model's
 * original classifier, i.e. walking back from the output over the trailing
 * chain of Dense/Dropout/Activation layers (MobileNetV2 from NSFWJS:
 * `flatten_1`, after three Dense and two Dropout; the digits CNN: `flatten`).
 */
export function defaultCutLayer(model: tf.LayersModel): string {
  let layer = model.outputLayers[0];
  for (;;) {
    const inbound = layer.inboundNodes[0]?.inboundLayers;
    if (!inbound || inbound.length !== 1 || inbound[0].getClassName() === 'InputLayer') return layer.name;
    if (!CLASSIFIER_CLASSES.has(layer.getClassName())) return layer.name;
    layer = inbound[0];
  }
}

/**
 * The tensor(s) `layer` produces in this model's graph. A nested model has a
 * node of its own construction besides the one that applies it here; the
 * latter is the last one.
 */
function outputsInGraph(layer: tf.layers.Layer): tf.SymbolicTensor[] {
  return layer.inboundNodes[layer.inboundNodes.length - 1]?.outputTensors ?? [];
}

/** Layers that can carry a head: top-level, not an input, with exactly one output tensor. */
export function cutCandidates(model: tf.LayersModel): string[] {
  return model.layers.filter((layer) => layer.getClassName() !== 'InputLayer' && outputsInGraph(layer).length === 1).map((layer) => layer.name);
}

/** The pretrained model with its classifier replaced by the studio's head. */
export interface TransferModel {
  model: tf.LayersModel;
  /** Names of the layers the studio added; they are always trained. */
  headLayers: ReadonlySet<string>;
}

function buildHeadLayer(spec: HeadLayerSpec, seed: number): tf.layers.Layer {
  switch (spec.className) {
    case 'GlobalAveragePooling2D':
      return tf.layers.globalAveragePooling2d({ name: spec.name });
    case 'GlobalMaxPooling2D':
      return tf.layers.globalMaxPooling2d({ name: spec.name });
    case 'Flatten':
      return tf.layers.flatten({ name: spec.name });
    case 'Dropout':
      // Not tf.layers.dropout({seed}): that draws the same mask on every call.
      return seededDropout({ name: spec.name, rate: spec.rate! }, seed);
    case 'Dense':
      return tf.layers.dense({
        name: spec.name,
        units: spec.units!,
        activation: spec.activation,
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      });
  }
}

/**
 * Builds `base` up to `cutLayer`, then the head `headLayerSpecs` describes:
 * global pooling when the cut output is spatial ([H, W, C]), an optional
 * hidden ReLU Dense and dropout, and a softmax Dense over `numClasses`.
 * The pretrained layers are shared with `base`, not copied: freezing them
 * freezes the very variables that were loaded. `seed` (the run's) seeds the
 * head's initialisers and its dropout masks, one per training step
 * (seededDropout), so a model built afresh with the same seed trains the same.
 */
export function buildTransferModel(base: tf.LayersModel, cutLayer: string, numClasses: number, seed: number, head: HeadConfig = DEFAULT_HEAD): TransferModel {
  for (const name of HEAD_LAYER_NAMES) {
    if (base.layers.some((l) => l.name === name)) {
      throw new Error(`The model already has a layer named '${name}', a name the studio's head uses. Rename that layer and import the model again.`);
    }
  }
  const outputs = outputsInGraph(base.getLayer(cutLayer));
  if (outputs.length !== 1) throw new Error(`Layer '${cutLayer}' has ${outputs.length} outputs; pick a layer with a single output as the cut.`);
  const [cut] = outputs;
  let features: tf.SymbolicTensor = cut;
  const headLayers = new Set<string>();
  headLayerSpecs(cut.shape.slice(1), numClasses, head).forEach((spec, i) => {
    // The softmax keeps `seed` itself, so a plain head starts where it always did.
    const layerSeed = spec.name === HEAD_DENSE_NAME ? seed : seed + 1 + i;
    features = buildHeadLayer(spec, layerSeed).apply(features) as tf.SymbolicTensor;
    headLayers.add(spec.name);
  });
  const model = tf.model({ inputs: base.inputs, outputs: features, name: `${base.name}_transfer` });
  return { model, headLayers };
}
