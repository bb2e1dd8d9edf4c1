/**
 * Parity fixtures for the PyTorch bundle (issue 14): tfjs Layers models saved
 * as model.json + weights.bin, with seeded inputs and the softmax the tfjs
 * `cpu` backend computes for them, so pytorch/ can be checked against the
 * studio. `npx tsx scripts/torchFixtures.ts <dir> [model…]` writes them; the
 * slow tests call writeParityFixture in-process.
 *
 * Per fixture directory: model.json, weights.bin, inputs.bin ([N, H, W, C]
 * float32 little-endian, already in the model's range), expected.bin
 * ([N, classes] float32), fixture.json ({name, count, inputShape, classes}).
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandom } from '../src/core/random';
import { buildTransferModel } from '../src/engine/head';
import { serializeModel } from '../src/engine/exportModel';
import { loadBuiltInModelFromDisk, loadMobileNetV2FromDisk } from '../src/engine/testing/builtInFiles';
import { createFlexibleTinyModel, createTinyModel } from '../src/engine/testing/tinyModel';
import type { HeadConfig } from '../src/core/types';

/** The fixtures this script can make, by name. */
export const PARITY_MODELS = [
  'digits',
  'digits_transfer',
  'mobilenet_v2_transfer',
  'nested',
  'nested_transfer',
  'every_layer',
  'every_layer_transfer',
  'flexible',
] as const;
/** One fixture's name. */
export type ParityModelName = (typeof PARITY_MODELS)[number];

/** What fixture.json says about one fixture. */
export interface ParityFixture {
  name: string;
  count: number;
  inputShape: [number, number, number];
  classes: number;
}

/** The Keras-application style nested model of engine/nested.test.ts: the tiny backbone as one layer, pooling, a classifier. */
export function createNestedModel(): tf.LayersModel {
  const tiny = createTinyModel();
  const backbone = tf.model({ inputs: tiny.inputs, outputs: tiny.getLayer('relu2').output, name: 'backbone' });
  const input = tf.input({ shape: [8, 8, 1], name: 'outer_input' });
  let x = backbone.apply(input) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: 2, activation: 'softmax', name: 'out' }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: x, name: 'outer' });
  randomizeWeights(model, 13);
  return model;
}

type Sym = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Sym | Sym[]): Sym => layer.apply(x) as Sym;

/**
 * A model with every layer class the interpreter supports, at odd sizes
 * (13×11 input) and strides 2 and 3 with `same` padding, dilations, depth
 * multipliers, BN without scale / without center, a nested Sequential model,
 * merges, Flatten and Reshape after convolutions. Weights are then set to
 * seeded random values (BN variances positive), so no layer is an identity.
 */
export function createEveryLayerModel(): tf.LayersModel {
  const input = tf.input({ shape: [13, 11, 3], name: 'input' });
  let x = apply(tf.layers.rescaling({ scale: 2, offset: -1, name: 'rescale' }), input);
  x = apply(
    tf.layers.zeroPadding2d({
      padding: [
        [1, 2],
        [0, 1],
      ],
      name: 'pad',
    }),
    x,
  ); // 16×12
  x = apply(tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', name: 'conv_s2', activation: 'relu6' }), x); // 8×6
  x = apply(tf.layers.batchNormalization({ name: 'bn_full', epsilon: 0.01, momentum: 0.9 }), x);
  const a = apply(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw', useBias: true }), x); // 8×6×12
  const b = apply(tf.layers.separableConv2d({ filters: 12, kernelSize: [3, 2], padding: 'same', depthMultiplier: 1, name: 'sep', activation: 'tanh' }), x);
  let y = apply(tf.layers.add({ name: 'add' }), [a, b]);
  y = apply(tf.layers.batchNormalization({ name: 'bn_noscale', scale: false }), y);
  y = apply(tf.layers.reLU({ maxValue: 6, name: 'relu_max' }), y);
  const c = apply(tf.layers.conv2d({ filters: 12, kernelSize: 3, dilationRate: 2, padding: 'same', name: 'conv_dil', activation: 'sigmoid' }), y);
  const avg = apply(tf.layers.average({ name: 'average' }), [y, c]);
  const hi = apply(tf.layers.maximum({ name: 'maximum' }), [avg, c]);
  const lo = apply(tf.layers.minimum({ name: 'minimum' }), [hi, y]);
  y = apply(tf.layers.multiply({ name: 'mul' }), [y, c, lo]);
  y = apply(tf.layers.batchNormalization({ name: 'bn_nocenter', center: false }), y);
  const inner = tf.sequential({
    name: 'inner_seq',
    layers: [
      tf.layers.conv2d({ inputShape: [8, 6, 12], filters: 5, kernelSize: 1, name: 'inner_conv', activation: 'swish' }),
      tf.layers.activation({ activation: 'elu', name: 'inner_elu' }),
    ],
  });
  const d = apply(inner, y);
  y = apply(tf.layers.concatenate({ axis: -1, name: 'concat' }), [y, d]); // 8×6×17
  const mp = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 3, padding: 'same', name: 'maxpool' }), y); // 3×2×17
  const ap = apply(tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'avgpool' }), y); // 4×3×17
  const apv = apply(tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'valid', name: 'avgpool_valid' }), ap); // 3×2×17
  const mpv = apply(tf.layers.maxPooling2d({ poolSize: [2, 1], padding: 'valid', name: 'maxpool_valid' }), y); // 4×6×17
  const flat = apply(tf.layers.flatten({ name: 'flat' }), mp);
  const reshaped = apply(tf.layers.reshape({ targetShape: [6, 17], name: 'reshape' }), apv);
  const reflat = apply(tf.layers.flatten({ name: 'reflat' }), reshaped);
  const back = apply(tf.layers.reshape({ targetShape: [3, 2, 17], name: 'reshape_4d' }), flat);
  const merged = apply(tf.layers.add({ name: 'add_flat' }), [back, apv]);
  const g1 = apply(tf.layers.globalAveragePooling2d({ name: 'gap' }), merged);
  const g2 = apply(tf.layers.globalMaxPooling2d({ name: 'gmp' }), mpv);
  const level = apply(tf.layers.globalAveragePooling2d({ name: 'input_level' }), x);
  let z = apply(tf.layers.concatenate({ name: 'concat_flat' }), [g1, g2, reflat, level]);
  z = apply(tf.layers.dense({ units: 9, activation: 'softplus', name: 'dense_hidden' }), z);
  z = apply(tf.layers.batchNormalization({ name: 'bn_dense' }), z);
  z = apply(tf.layers.dropout({ rate: 0.3, name: 'drop' }), z);
  z = apply(tf.layers.activation({ activation: 'selu', name: 'act_selu' }), z);
  // Side branches, so each activation feeds the classifier directly (a chain of squashing functions would flatten the output).
  const s1 = apply(tf.layers.activation({ activation: 'softsign', name: 'act_softsign' }), z);
  const s2 = apply(tf.layers.leakyReLU({ alpha: 0.2, name: 'leaky' }), apply(tf.layers.activation({ activation: 'hardSigmoid', name: 'act_hard_sigmoid' }), z));
  const s3 = apply(tf.layers.activation({ activation: 'mish', name: 'act_mish' }), apply(tf.layers.softmax({ name: 'softmax_layer' }), z));
  z = apply(tf.layers.concatenate({ name: 'concat_act' }), [z, s1, s2, s3]);
  z = apply(tf.layers.dense({ units: 4, activation: 'softmax', name: 'out' }), z);
  const model = tf.model({ inputs: input, outputs: z, name: 'every_layer' });
  randomizeWeights(model, 11);
  return model;
}

/**
 * Sets every weight to seeded values so that no layer is an identity and the output depends on the input:
 * kernels uniform in ±0.5 (±`spreadScale`/2 in the layers named in `spread`, the classifier, so the softmax is
 * far from flat), biases and BN betas in ±0.1 (0 in `spread` layers: a large bias picks the same class for
 * every image), gammas and moving variances in [0.5, 1.5], moving means in ±0.05.
 */
function randomizeWeights(model: tf.LayersModel, seed: number, spread: readonly string[] = ['out'], spreadScale = 4): void {
  const random = createRandom(seed);
  const draw = (name: string): number => {
    const [layer] = name.split('/');
    if (name.endsWith('moving_variance') || name.endsWith('gamma')) return 0.5 + random();
    if (name.endsWith('moving_mean')) return (random() - 0.5) * 0.1;
    if (name.endsWith('bias') || name.endsWith('beta')) return spread.includes(layer) ? 0 * random() : (random() - 0.5) * 0.2;
    return (random() - 0.5) * (spread.includes(layer) ? spreadScale : 1);
  };
  const values = model.weights.map((w) => {
    const shape = w.shape.map((d) => d ?? 1);
    return tf.tensor(
      Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => draw(w.originalName)),
      shape,
    );
  });
  model.setWeights(values);
  values.forEach((t) => t.dispose());
}

/**
 * `count` seeded inputs of `shape` with values in [lo, hi]: each image its own level, contrast and
 * left-to-right ramp over noise, so images differ in more than noise (and the argmax varies).
 */
function seededInputs(count: number, shape: readonly number[], range: [number, number], seed: number): tf.Tensor4D {
  const random = createRandom(seed);
  const [height, width, channels] = shape;
  const data = new Float32Array(count * height * width * channels);
  let i = 0;
  for (let n = 0; n < count; n++) {
    const level = random();
    const contrast = random();
    const ramp = random() * 2 - 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) {
          const v = level + contrast * (random() - 0.5) + (ramp * (x / width - 0.5) * (c + 1)) / channels;
          data[i++] = range[0] + Math.min(1, Math.max(0, v)) * (range[1] - range[0]);
        }
      }
    }
  }
  return tf.tensor4d(data, [count, height, width, channels]);
}

/**
 * `count` inputs whose argmax covers as many classes as the model gives: for a small model, 8 × `count`
 * seeded candidates taken round-robin over their predicted class (so "identical argmax" compares more than one
 * class); for a big one (MobileNetV2) the first `count`.
 */
async function spreadInputs(model: tf.LayersModel, count: number, shape: readonly number[]): Promise<tf.Tensor4D> {
  const small = shape.reduce((p, d) => p * d, 1) <= 4096;
  const candidates = seededInputs(small ? count * 8 : count, shape, [0, 1], 42);
  if (!small) return candidates;
  const predicted = tf.tidy(() => (model.predict(candidates) as tf.Tensor).argMax(1));
  const classes = Array.from(await predicted.data());
  predicted.dispose();
  const byClass = new Map<number, number[]>();
  classes.forEach((c, i) => byClass.set(c, [...(byClass.get(c) ?? []), i]));
  const queues = [...byClass.values()];
  const picked: number[] = [];
  for (let round = 0; picked.length < count; round++) {
    for (const queue of queues) if (queue[round] !== undefined && picked.length < count) picked.push(queue[round]);
  }
  const chosen = tf.gather(candidates, picked) as tf.Tensor4D;
  candidates.dispose();
  return chosen;
}

/** The size a fixture of open input size is fed at (height, width). */
const FLEXIBLE_SIZE = [11, 14];

const TRANSFER_HEADS: Record<string, { cut: string; classes: number; head: HeadConfig }> = {
  digits: { cut: 'flatten', classes: 5, head: { pooling: 'avg', hiddenUnits: 8, dropout: 0.2 } },
  mobilenet_v2: { cut: 'flatten_1', classes: 3, head: { pooling: 'avg', hiddenUnits: 16, dropout: 0.1 } },
  nested: { cut: 'backbone', classes: 3, head: { pooling: 'avg', hiddenUnits: 5, dropout: 0 } },
  every_layer: { cut: 'concat', classes: 3, head: { pooling: 'avg', hiddenUnits: 0, dropout: 0 } },
};

/** The model a fixture is made of; the caller disposes it. */
async function fixtureModel(name: ParityModelName): Promise<tf.LayersModel> {
  const baseName = name.replace(/_transfer$/, '');
  let base: tf.LayersModel;
  if (baseName === 'digits') base = (await loadBuiltInModelFromDisk()).model;
  else if (baseName === 'mobilenet_v2') base = (await loadMobileNetV2FromDisk()).model;
  else if (baseName === 'nested') base = createNestedModel();
  else if (baseName === 'flexible') {
    base = createFlexibleTinyModel();
    randomizeWeights(base, 17, ['classifier']);
  } else base = createEveryLayerModel();
  if (!name.endsWith('_transfer')) return base;
  const spec = TRANSFER_HEADS[baseName];
  const { model } = buildTransferModel(base, spec.cut, spec.classes, 5, spec.head);
  // The head's Dense starts near zero bias: give its weights seeded values too, so the softmax is not flat.
  const random = createRandom(3);
  for (const layer of model.layers.filter((l) => l.name.startsWith('head_'))) {
    const values = layer.getWeights().map((w) =>
      tf.tensor(
        Float32Array.from({ length: w.size }, () => (random() - 0.5) * 4),
        w.shape,
      ),
    );
    layer.setWeights(values);
    values.forEach((t) => t.dispose());
  }
  return model;
}

/**
 * Writes fixture `name` into `dir/<name>/`: the model as the studio saves it
 * (serializeModel: original weight names, float32), `count` seeded inputs in
 * [0, 1] and tfjs' outputs for them on the current backend (use `cpu`).
 */
export async function writeParityFixture(dir: string, name: ParityModelName, count = 16): Promise<ParityFixture> {
  const model = await fixtureModel(name);
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  const artifacts = await serializeModel(model);
  const modelJson = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
  };
  writeFileSync(join(out, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(join(out, 'weights.bin'), new Uint8Array(artifacts.weightData));
  // A model of open size ([null, null, 3]) is fed at an odd × even size, as the studio feeds the size it picks.
  const shape = model.inputs[0].shape.slice(1).map((d, i) => d ?? FLEXIBLE_SIZE[i]) as [number, number, number];
  const inputs = await spreadInputs(model, count, shape);
  const outputs = model.predict(inputs) as tf.Tensor;
  writeFileSync(join(out, 'inputs.bin'), new Uint8Array((await inputs.data()).buffer));
  writeFileSync(join(out, 'expected.bin'), new Uint8Array((await outputs.data()).buffer));
  const fixture: ParityFixture = { name, count, inputShape: shape, classes: outputs.shape[1] ?? 0 };
  writeFileSync(join(out, 'fixture.json'), JSON.stringify(fixture));
  inputs.dispose();
  outputs.dispose();
  // The transfer model shares the base's layers: disposing it disposes them (the base's dropped classifier is left to the GC).
  model.dispose();
  return fixture;
}

async function main(): Promise<void> {
  const [dir, ...names] = process.argv.slice(2);
  if (!dir) throw new Error('Usage: npx tsx scripts/torchFixtures.ts <dir> [model…]; models: ' + PARITY_MODELS.join(', '));
  await tf.setBackend('cpu');
  for (const name of names.length > 0 ? names : PARITY_MODELS) {
    if (!(PARITY_MODELS as readonly string[]).includes(name)) throw new Error(`Unknown fixture '${name}'; pick from ${PARITY_MODELS.join(', ')}.`);
    const started = Date.now();
    const fixture = await writeParityFixture(dir, name as ParityModelName);
    console.log(`${fixture.name}: ${fixture.count} × ${fixture.inputShape.join('×')} → ${fixture.classes} classes (${Date.now() - started} ms)`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
