import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { applyFreezePlan, countWeightParams } from './freeze';
import { guardFrozenLayers } from './frozenLayers';
import { buildTransferModel, cutCandidates } from './head';
import { loadLayersModelFromFileSet } from './modelFiles';
import { summarizeLayers } from './summary';
import { trainModel } from './trainer';
import { bitIdentical, createTinyImages, createTinyModel, snapshotWeights } from './testing/tinyModel';

/** A Keras-application-style model: the tiny backbone (minus its classifier) nested as one layer, then a classifier. */
function nestedModel(): tf.LayersModel {
  const tiny = createTinyModel();
  const backbone = tf.model({ inputs: tiny.inputs, outputs: tiny.getLayer('relu2').output, name: 'backbone' });
  const input = tf.input({ shape: [8, 8, 1], name: 'outer_input' });
  let x = backbone.apply(input) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 2, activation: 'softmax', name: 'out' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: 'outer' });
}

describe('nested models', () => {
  it('summarises the inner layers under their model, and the nested model is a cut point', () => {
    const model = nestedModel();
    const rows = summarizeLayers(model);
    expect(rows.map((r) => [r.name, r.parent])).toEqual([
      ['conv1', 'backbone'],
      ['bn1', 'backbone'],
      ['relu1', 'backbone'],
      ['conv2', 'backbone'],
      ['bn2', 'backbone'],
      ['relu2', 'backbone'],
      ['gap', null],
      ['out', null],
    ]);
    expect(cutCandidates(model)).toEqual(['backbone', 'gap', 'out']);
    expect(summarizeLayers(model, 'backbone').map((r) => r.name)).toEqual(['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'relu2']);
    model.dispose();
  });

  it('survives a save and a load through the files a user picks: inner layers keep their parent', async () => {
    const model = nestedModel();
    let files: { name: string; buffer: ArrayBuffer }[] = [];
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const json = {
          format: 'layers-model',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['w.bin'], weights: artifacts.weightSpecs }],
        };
        files = [
          { name: 'model.json', buffer: new TextEncoder().encode(JSON.stringify(json)).buffer as ArrayBuffer },
          { name: 'w.bin', buffer: artifacts.weightData as ArrayBuffer },
        ];
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await loadLayersModelFromFileSet(files);
    expect(summarizeLayers(loaded.model).map((r) => [r.name, r.parent])).toEqual(summarizeLayers(model).map((r) => [r.name, r.parent]));
    expect(cutCandidates(loaded.model)).toEqual(['backbone', 'gap', 'out']);
    const { model: transfer } = buildTransferModel(loaded.model, 'backbone', 3, 1);
    const y = transfer.predict(tf.zeros([2, 8, 8, 1])) as tf.Tensor;
    expect(y.shape).toEqual([2, 3]);
    y.dispose();
    loaded.model.dispose();
    model.dispose();
  });

  it('freezes inner layers by name, and training leaves them (BN statistics included) bit-identical', async () => {
    const base = nestedModel();
    const { model, headLayers } = buildTransferModel(base, 'backbone', 2, 3);
    guardFrozenLayers(model);
    applyFreezePlan(model, { conv1: true, bn1: true }, headLayers);
    const trainable = model.trainableWeights.map((w) => w.originalName);
    expect(trainable).not.toContain('conv1/kernel');
    expect(trainable).not.toContain('bn1/gamma');
    expect(trainable).toContain('conv2/kernel');
    expect(trainable).toContain('head_dense/kernel');
    // conv2 (3·3·3·4 + 4) + bn2 gamma/beta (8) + head (4·2 + 2)
    expect(countWeightParams(model.trainableWeights)).toBe(112 + 8 + 10);
    const before = await snapshotWeights(model);
    const images = createTinyImages(16, 2, 5);
    await trainModel(model, images, null, 2, { range: [0, 1], resize: 'stretch' }, { epochs: 1, batchSize: 8, learningRate: 0.05, seed: 1 });
    const after = await snapshotWeights(model);
    const frozenNames = [...before.keys()].filter((n) => /^(conv1|bn1)\//.test(n));
    expect(frozenNames.length).toBe(5); // conv1 kernel; bn1 gamma, beta, moving mean, moving variance
    for (const name of frozenNames) {
      expect(bitIdentical(before.get(name)!, after.get(name)!), name).toBe(true);
    }
    const conv2 = [...before.keys()].find((n) => n.startsWith('conv2/kernel'))!;
    expect(bitIdentical(before.get(conv2)!, after.get(conv2)!)).toBe(false);
    base.dispose();
  });
});
