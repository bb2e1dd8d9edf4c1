import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { guardFrozenLayers, setBatchNormOverrides } from './frozenLayers';
import { frozenPrefixOf, inferFolded, planPrefix, releaseFrozenPrefixes } from './frozenPrefix';
import { expectClose, values } from './testing/backendCompare';
import { prepareWasmInNode } from './testing/wasmNode';

/**
 * A small MobileNetV2-like model: stem conv → BN → ReLU6, an inverted residual block (1×1 expand → BN → ReLU6 →
 * depthwise → BN → ReLU6 → 1×1 project → BN, plus the skip), a conv with its own bias and ReLU, a depthwise conv
 * with a multiplier and bias → BN (no ReLU after it), dropout, pooling and the classifier. BN statistics are
 * seeded away from 0 and 1 so a wrong fold shows.
 */
function blockModel(): tf.LayersModel {
  let seed = 11;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const input = tf.input({ shape: [9, 9, 3], name: 'input' });
  const bn = (name: string, x: tf.SymbolicTensor) => tf.layers.batchNormalization({ name, epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  const relu6 = (name: string, x: tf.SymbolicTensor) => tf.layers.reLU({ name, maxValue: 6 }).apply(x) as tf.SymbolicTensor;
  const conv = (name: string, filters: number, kernelSize: number, strides = 1, x: tf.SymbolicTensor) =>
    tf.layers.conv2d({ name, filters, kernelSize, strides, padding: 'same', useBias: false, kernelInitializer: init() }).apply(x) as tf.SymbolicTensor;
  let x = relu6('stem_relu', bn('stem_bn', conv('stem', 8, 3, 2, input)));
  let y = relu6('expand_relu', bn('expand_bn', conv('expand', 16, 1, 1, x)));
  y = tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: init() }).apply(y) as tf.SymbolicTensor;
  y = relu6('dw_relu', bn('dw_bn', y));
  y = bn('project_bn', conv('project', 8, 1, 1, y));
  x = tf.layers.add({ name: 'add' }).apply([x, y]) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ name: 'biased', filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init() })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .depthwiseConv2d({ name: 'dw2', kernelSize: 3, strides: 2, padding: 'valid', depthMultiplier: 2, depthwiseInitializer: init() })
    .apply(x) as tf.SymbolicTensor;
  x = bn('dw2_bn', x);
  x = tf.layers.dropout({ name: 'drop', rate: 0.5 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ name: 'classifier', units: 3, activation: 'softmax', kernelInitializer: init() }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  let s = 100;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const w = layer.getWeights();
    const n = w[0].shape[0];
    const vals = (lo: number, span: number) => tf.tensor1d(Array.from(values(n, s++), (v) => lo + span * (v + 1)));
    const seeded = [vals(0.5, 1), vals(-0.5, 0.5), vals(-1, 1), vals(0.2, 2)];
    layer.setWeights(seeded);
    tf.dispose(seeded);
  }
  guardFrozenLayers(model);
  return model;
}

const freeze = (model: tf.LayersModel, frozen: (name: string) => boolean) => {
  for (const layer of model.layers) layer.trainable = !frozen(layer.name);
};

const batch = () => tf.tensor4d(values(4 * 9 * 9 * 3, 5), [4, 9, 9, 3]);

/** The output and the gradients of the trainable weights, through the split prefix or the whole model under the tape. */
async function stepOf(model: tf.LayersModel, split: boolean) {
  const xs = batch();
  const prefix = split ? frozenPrefixOf(model) : null;
  const frontier = prefix ? prefix.run(xs) : [];
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const probs = prefix ? prefix.rest(frontier, { training: true }) : (model.apply(xs, { training: true }) as tf.Tensor);
    return tf.sum(tf.mul(probs, tf.linspace(1, 3, 3))) as tf.Scalar;
  }, vars);
  const out = { loss: (await value.data())[0], grads: await Promise.all(vars.map(async (v) => (await grads[v.name].data()) as Float32Array)) };
  tf.dispose([xs, value, ...frontier, ...Object.values(grads)]);
  return out;
}

beforeAll(async () => {
  await prepareWasmInNode();
});

afterEach(async () => {
  releaseFrozenPrefixes();
  await tf.setBackend('cpu');
});

describe('the frozen prefix of a training step', () => {
  it('is every still layer before the first trained one, and the frontier is what the rest reads (the skip included)', () => {
    const model = blockModel();
    freeze(model, (name) => !['biased', 'dw2', 'dw2_bn', 'classifier'].includes(name));
    const plan = planPrefix(model);
    expect(plan.prefix.map((n) => n.layer.name)).toEqual(expect.arrayContaining(['stem', 'stem_bn', 'expand', 'dw_relu', 'project_bn', 'add']));
    expect(plan.rest.map((n) => n.layer.name)).toEqual(['biased', 'dw2', 'dw2_bn', 'drop', 'pool', 'classifier']);
    expect(plan.frontier.map((t) => t.sourceLayer.name)).toEqual(['add']);
    model.dispose();
  });

  it('stops at a BatchNormalization that trains its statistics, and at a trainable Dropout after the frozen part', () => {
    const model = blockModel();
    freeze(model, (name) => name !== 'classifier');
    setBatchNormOverrides(model, { expand_bn: 'train-stats' });
    expect(planPrefix(model).rest[0].layer.name).toBe('expand_bn');
    setBatchNormOverrides(model, {});
    // Dropout has no weights and stays trainable unless frozen: in training mode it drops, so it is not still.
    model.getLayer('drop').trainable = true;
    expect(planPrefix(model).rest.map((n) => n.layer.name)).toEqual(['drop', 'pool', 'classifier']);
    model.dispose();
  });

  it('folds each convolution → inference BatchNorm (→ ReLU6) chain, not a conv with its own activation', () => {
    const model = blockModel();
    freeze(model, (name) => name !== 'classifier');
    expect(frozenPrefixOf(model)!.folded).toEqual([
      'stem+stem_bn+stem_relu',
      'expand+expand_bn+expand_relu',
      'dw+dw_bn+dw_relu',
      'project+project_bn',
      'dw2+dw2_bn',
    ]);
    model.dispose();
  });

  it('leaves out a frozen BatchNormalization that guardFrozenLayers did not patch (it would still train its statistics)', () => {
    const input = tf.input({ shape: [4, 4, 2] });
    const bn = tf.layers.batchNormalization({ name: 'bn' });
    const out = tf.layers.dense({ units: 2, name: 'classifier' }).apply(tf.layers.flatten().apply(bn.apply(input))) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    bn.trainable = false;
    expect(planPrefix(model).prefix).toEqual([]);
    guardFrozenLayers(model);
    expect(planPrefix(model).prefix.map((n) => n.layer.name)).toContain('bn');
    model.dispose();
  });

  it('has nothing in it for a full fine-tune', () => {
    const model = blockModel();
    expect(frozenPrefixOf(model)).toBeNull();
    model.dispose();
  });

  it.each(['cpu', 'wasm'])('gives the loss and gradients of the whole model under the tape, folded BatchNorm and all (%s)', async (backend) => {
    await tf.setBackend(backend);
    const model = blockModel();
    for (const frozen of [(name: string) => !['dw2', 'dw2_bn', 'classifier'].includes(name), (name: string) => name !== 'classifier']) {
      freeze(model, frozen);
      const whole = await stepOf(model, false);
      const split = await stepOf(model, true);
      expect(split.loss).toBeCloseTo(whole.loss, 5);
      expect(split.grads.length).toBe(whole.grads.length);
      // All gradients at once: a bias before a training-mode BatchNorm has a gradient of 0 up to rounding.
      const flat = (grads: Float32Array[]) => Float32Array.from(grads.flatMap((g) => Array.from(g)));
      expectClose(flat(split.grads), flat(whole.grads), 1e-5);
    }
    model.dispose();
  });

  it('folds again after a frozen weight is assigned (a run restoring the pretrained weights), and leaks nothing', async () => {
    const model = blockModel();
    freeze(model, (name) => name !== 'classifier');
    const first = await stepOf(model, true);
    const before = tf.memory().numTensors;
    const stem = model.getLayer('stem_bn');
    const doubled = tf.mul(stem.getWeights()[0], 2);
    stem.setWeights([doubled, ...stem.getWeights().slice(1)]);
    doubled.dispose();
    const changed = await stepOf(model, true);
    const whole = await stepOf(model, false);
    expect(changed.loss).not.toBeCloseTo(first.loss, 4);
    expect(changed.loss).toBeCloseTo(whole.loss, 5);
    releaseFrozenPrefixes();
    // The folded weights of the model's chains are gone (a folded filter and bias per chain), nothing else is left.
    expect(tf.memory().numTensors).toBeLessThan(before);
    model.dispose();
  });

  it.each(['cpu', 'wasm'])(
    'runs inference folded with the values of model.apply(training: false), the fold surviving the tidy it was made in (%s)',
    async (backend) => {
      await tf.setBackend(backend);
      const model = blockModel();
      const xs = batch();
      const expected = (await tf.tidy(() => model.apply(xs, { training: false }) as tf.Tensor).data()) as Float32Array;
      const before = tf.memory().numTensors;
      for (let i = 0; i < 2; i++) {
        const out = tf.tidy(() => inferFolded(model, xs));
        expectClose((await out.data()) as Float32Array, expected, 1e-5);
        out.dispose();
      }
      releaseFrozenPrefixes();
      expect(tf.memory().numTensors).toBe(before);
      xs.dispose();
      model.dispose();
    },
  );
});
