import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildTransferModel, cutCandidates, defaultCutLayer } from './head';
import { headLayerInfos } from '../core/headSpec';
import { summarizeLayers } from './summary';
import { createTinyImages, createTinyModel } from './testing/tinyModel';
import { trainModel } from './trainer';

function chainModel(): tf.LayersModel {
  // conv → pool → flatten → dense(hidden) → dropout → dense(softmax): a Keras-style classifier on a backbone.
  const input = tf.input({ shape: [8, 8, 1] });
  let x = tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'c' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.averagePooling2d({ poolSize: 2, name: 'p' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'f' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 4, activation: 'relu', name: 'd1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ rate: 0.5, name: 'drop' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 3, activation: 'softmax', name: 'd2' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

describe('defaultCutLayer', () => {
  it('walks back over the whole trailing Dense/Dropout classifier', () => {
    const model = chainModel();
    expect(defaultCutLayer(model)).toBe('f');
    model.dispose();
  });

  it('stops at the first non-classifier layer of a one-Dense head', () => {
    const model = createTinyModel();
    expect(defaultCutLayer(model)).toBe('flatten');
    model.dispose();
  });
});

describe('cutCandidates', () => {
  it('lists every non-input layer of a chain, in order', () => {
    const model = createTinyModel();
    expect(cutCandidates(model)).toEqual(['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'relu2', 'flatten', 'classifier']);
    model.dispose();
  });
});

describe('buildTransferModel with head options', () => {
  it.each([
    [{ pooling: 'avg', hiddenUnits: 0, dropout: 0 }, ['head_pool', 'head_dense'], 'GlobalAveragePooling2D'],
    [{ pooling: 'max', hiddenUnits: 6, dropout: 0.25 }, ['head_pool', 'head_hidden', 'head_dropout', 'head_dense'], 'GlobalMaxPooling2D'],
  ] as const)('%j builds exactly the layers the tree shows', (head, names, poolClass) => {
    const base = createTinyModel();
    const shown = headLayerInfos([4, 4, 4], 3, head);
    expect(shown.map((l) => l.name)).toEqual(names);
    const { model, headLayers } = buildTransferModel(base, 'relu2', 3, 5, head);
    expect([...headLayers]).toEqual(names);
    const built = summarizeLayers(model).filter((l) => headLayers.has(l.name));
    // Same classes, shapes and parameter counts as the spec the UI shows before the worker builds anything.
    expect(built.map((l) => [l.name, l.className, l.outputShape, l.trainableParams])).toEqual(
      shown.map((l) => [l.name, l.className, l.outputShape, l.trainableParams]),
    );
    expect(built[0].className).toBe(poolClass);
    const out = model.predict(tf.zeros([1, 8, 8, 1])) as tf.Tensor;
    expect(out.shape).toEqual([1, 3]);
    out.dispose();
    base.dispose();
  });

  it('flattens a non-spatial, non-flat cut and refuses a model that already uses a head name', () => {
    const rows = headLayerInfos([4, 5], 2);
    expect(rows.map((r) => [r.name, r.outputShape])).toEqual([
      ['head_flatten', [20]],
      ['head_dense', [2]],
    ]);
    const input = tf.input({ shape: [3] });
    const clash = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2, name: 'head_hidden' }).apply(input) as tf.SymbolicTensor });
    expect(() => buildTransferModel(clash, 'head_hidden', 2, 1)).toThrow("already has a layer named 'head_hidden'");
    clash.dispose();
  });
});

describe("the head's dropout", () => {
  const dropoutHead = { pooling: 'avg', hiddenUnits: 0, dropout: 0.5 } as const;

  /** The keep/drop pattern of `calls` consecutive training-mode calls of the head's Dropout on ones: 1 kept, 0 dropped. */
  async function masks(seed: number, calls: number): Promise<number[][]> {
    const base = createTinyModel();
    const { model } = buildTransferModel(base, 'relu2', 3, seed, dropoutHead);
    const dropout = model.getLayer('head_dropout');
    const ones = tf.ones([8, 4]);
    const out: number[][] = [];
    for (let i = 0; i < calls; i++) {
      const y = dropout.apply(ones, { training: true }) as tf.Tensor;
      out.push(Array.from(await y.data(), (v) => (v === 0 ? 0 : 1)));
      y.dispose();
    }
    ones.dispose();
    model.getLayer('head_dense').dispose();
    base.dispose();
    return out;
  }

  it('draws a new mask on each training call', async () => {
    const [first, second, third] = await masks(5, 3);
    // 32 units at rate 0.5: two draws agree by chance with probability 2^-32.
    expect(second).not.toEqual(first);
    expect(third).not.toEqual(second);
    expect(first.some((v) => v === 0) && first.some((v) => v === 1)).toBe(true);
  });

  it('draws the same sequence of masks for the same run seed, another for another seed', async () => {
    const sequence = await masks(5, 3);
    expect(await masks(5, 3)).toEqual(sequence);
    expect(await masks(6, 3)).not.toEqual(sequence);
  });

  it('trains the same loss curve from a fresh build with the same seed, another with another seed', async () => {
    const images = createTinyImages(16, 3, 1);
    const curve = async (seed: number) => {
      const base = createTinyModel();
      const { model } = buildTransferModel(base, 'relu2', 3, seed, dropoutHead);
      const losses: number[] = [];
      await trainModel(
        model,
        images,
        null,
        3,
        { range: [0, 1], resize: 'stretch' },
        { epochs: 2, batchSize: 8, learningRate: 0.05, seed },
        {
          onBatch: (p) => losses.push(p.loss),
        },
      );
      model.getLayer('head_dense').dispose();
      base.dispose();
      return losses;
    };
    const first = await curve(5);
    expect(first).toHaveLength(4);
    expect(await curve(5)).toEqual(first);
    expect(await curve(6)).not.toEqual(first);
  });
});
