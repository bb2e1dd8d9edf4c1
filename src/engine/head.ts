import * as tf from '@tensorflow/tfjs';
import { HEAD_DENSE_NAME, HEAD_POOL_NAME } from './headSpec';

/**
 * The layer the studio cuts at by default: the one feeding the model's
 * original classifier (the input of its single output layer).
 */
export function defaultCutLayer(model: tf.LayersModel): string {
  const outputLayer = model.outputLayers[0];
  const inbound = outputLayer.inboundNodes[0]?.inboundLayers[0];
  if (!inbound || inbound.getClassName() === 'InputLayer') return outputLayer.name;
  return inbound.name;
}

/** Layers that can carry a head: top-level, not an input, with exactly one output tensor. */
export function cutCandidates(model: tf.LayersModel): string[] {
  return model.layers
    .filter((layer) => layer.getClassName() !== 'InputLayer' && layer.inboundNodes.length === 1 && !Array.isArray(layer.output))
    .map((layer) => layer.name);
}

/** The pretrained model with its classifier replaced by the studio's head. */
export interface TransferModel {
  model: tf.LayersModel;
  /** Names of the layers the studio added; they are always trained. */
  headLayers: ReadonlySet<string>;
}

/**
 * Builds `base` up to `cutLayer`, then global average pooling when the cut
 * output is spatial ([H, W, C]), then a softmax Dense over `numClasses`.
 * The pretrained layers are shared with `base`, not copied: freezing them
 * freezes the very variables that were loaded.
 */
export function buildTransferModel(
  base: tf.LayersModel,
  cutLayer: string,
  numClasses: number,
  seed: number,
): TransferModel {
  for (const name of [HEAD_POOL_NAME, HEAD_DENSE_NAME]) {
    if (base.layers.some((l) => l.name === name)) {
      throw new Error(`The model already has a layer named '${name}', the name of the studio's head. Rename that layer and import the model again.`);
    }
  }
  const cut = base.getLayer(cutLayer).output;
  if (Array.isArray(cut)) throw new Error(`Layer '${cutLayer}' has several outputs; pick a layer with a single output as the cut.`);
  let features: tf.SymbolicTensor = cut;
  const headLayers = new Set<string>();
  if (features.shape.length === 4) {
    features = tf.layers.globalAveragePooling2d({ name: HEAD_POOL_NAME }).apply(features) as tf.SymbolicTensor;
    headLayers.add(HEAD_POOL_NAME);
  } else if (features.shape.length !== 2) {
    features = tf.layers.flatten({ name: `${HEAD_POOL_NAME}_flatten` }).apply(features) as tf.SymbolicTensor;
    headLayers.add(`${HEAD_POOL_NAME}_flatten`);
  }
  const output = tf.layers
    .dense({
      units: numClasses,
      activation: 'softmax',
      name: HEAD_DENSE_NAME,
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    })
    .apply(features) as tf.SymbolicTensor;
  headLayers.add(HEAD_DENSE_NAME);
  const model = tf.model({ inputs: base.inputs, outputs: output, name: `${base.name}_transfer` });
  return { model, headLayers };
}
