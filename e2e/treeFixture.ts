import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** A generated model on disk and what the tree must show of it. */
export interface BlockModelFixture {
  /** model.json and weights.bin, to pick together in "Import model". */
  files: string[];
  /** Layers of the file, input left out (the last one, 'predictions', is replaced by the studio's head). */
  layerCount: number;
  blockCount: number;
  /** Trainable parameters of each layer by name (Keras' count: BatchNorm moving statistics left out). */
  trainable: Record<string, number>;
  /** Layer names in model order. */
  names: string[];
}

/**
 * Writes a MobileNetV2-shaped model of 500 layers (99 blocks named
 * block_N_expand, block_N_expand_BN, block_N_relu, block_N_project,
 * block_N_project_BN between a two-layer stem and a three-layer top) to a
 * fresh temporary folder. Layers are 1×1 convolutions on a 4×4×1 input so
 * it builds and loads in a few seconds.
 */
export async function writeBlockModel(blockCount = 99): Promise<BlockModelFixture> {
  await tf.setBackend('cpu');
  const input = tf.input({ shape: [4, 4, 1], name: 'input' });
  const conv = (name: string) => tf.layers.conv2d({ filters: 4, kernelSize: 1, name });
  const bn = (name: string) => tf.layers.batchNormalization({ name });
  const stack: tf.layers.Layer[] = [conv('stem_conv'), bn('stem_bn')];
  for (let n = 1; n <= blockCount; n++) {
    stack.push(conv(`block_${n}_expand`), bn(`block_${n}_expand_BN`), tf.layers.activation({ activation: 'relu', name: `block_${n}_relu` }));
    stack.push(conv(`block_${n}_project`), bn(`block_${n}_project_BN`));
  }
  stack.push(
    conv('top_conv'),
    tf.layers.globalAveragePooling2d({ name: 'top_pool' }),
    tf.layers.dense({ units: 3, activation: 'softmax', name: 'predictions' }),
  );
  let x: tf.SymbolicTensor = input;
  for (const layer of stack) x = layer.apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'blocks500' });

  const trainable: Record<string, number> = {};
  for (const layer of stack) trainable[layer.name] = layer.trainableWeights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 0), 1), 0);

  const files = await saveToTempDir(model);
  model.dispose();
  return {
    files,
    layerCount: stack.length,
    blockCount,
    trainable,
    names: stack.map((layer) => layer.name),
  };
}

/** Saves `model` as model.json + weights.bin in a fresh temporary folder; returns both paths. */
async function saveToTempDir(model: tf.LayersModel): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'studio-tree-'));
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const modelJson = {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return [join(dir, 'model.json'), join(dir, 'weights.bin')];
}

/**
 * A Keras-application-style model: a functional 'backbone' (conv, BN, ReLU,
 * conv on 8×8×3) used as one layer, then pooling and a classifier. Returns
 * the files and the trainable parameters inside the backbone (Keras' count).
 */
export async function writeNestedModel(): Promise<{ files: string[]; backboneTrainable: number; inner: string[] }> {
  await tf.setBackend('cpu');
  const innerInput = tf.input({ shape: [8, 8, 3], name: 'backbone_input' });
  const innerLayers = [
    tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'stem_conv' }),
    tf.layers.batchNormalization({ name: 'stem_bn' }),
    tf.layers.activation({ activation: 'relu', name: 'stem_relu' }),
    tf.layers.conv2d({ filters: 6, kernelSize: 1, name: 'mix_conv' }),
  ];
  let x: tf.SymbolicTensor = innerInput;
  for (const layer of innerLayers) x = layer.apply(x) as tf.SymbolicTensor;
  const backbone = tf.model({ inputs: innerInput, outputs: x, name: 'backbone' });
  const input = tf.input({ shape: [8, 8, 3], name: 'image' });
  let y = backbone.apply(input) as tf.SymbolicTensor;
  y = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(y) as tf.SymbolicTensor;
  y = tf.layers.dense({ units: 2, activation: 'softmax', name: 'predictions' }).apply(y) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: y, name: 'nested_app' });
  const backboneTrainable = backbone.trainableWeights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 0), 1), 0);
  const files = await saveToTempDir(model);
  model.dispose();
  return { files, backboneTrainable, inner: innerLayers.map((l) => l.name) };
}
