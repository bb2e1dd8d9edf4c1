import * as tf from '@tensorflow/tfjs';
import { checkModelTakes, imageCount, makeBatch, type ImageSet } from './batches';
import type { BatchSource } from './batchSource';
import { trainOnSource, type TrainHooks, type TrainResult } from './trainer';
import { runsInTrainingMode } from './frozenLayers';
import { STOCHASTIC_LAYER_CLASSES } from '../core/layerClasses';
import { inferFolded, releaseFrozenPrefixes } from './frozenPrefix';
import type { Preprocessing, TrainConfig } from '../core/types';

/**
 * Feature cache (TFJS-FACTS #5, #19): when everything below the head is
 * frozen, the frozen prefix is a fixed function of the image (frozen layers
 * run in inference mode, see guardFrozenLayers), so it is run once per image
 * and the head is trained on the stored activations.
 */

/** Cached activations of the frozen prefix for one image set. */
export interface FeatureSet {
  /** count × prod(shape) float32 activations, row-major. */
  features: Float32Array;
  /** Per-image feature shape, e.g. [7, 7, 1280] or [576]. */
  shape: number[];
  labels: Int32Array;
  /** Milliseconds the forward pass took. */
  millis: number;
}

/** Why the first pretrained layer that stops the cache does (trained, stochastic, or a frozen BN training its statistics), or null. */
function blockingLayer(model: tf.LayersModel, headLayers: ReadonlySet<string>): string | null {
  for (const layer of model.layers) {
    if (headLayers.has(layer.name) || layer.getClassName() === 'InputLayer') continue;
    if (layer instanceof tf.LayersModel) {
      const inner = blockingLayer(layer, headLayers);
      if (inner !== null) return inner;
      continue;
    }
    // A trainable BN layer in 'inference' mode runs in inference mode but trains gamma and beta: still trained.
    if (layer.trainable && layer.trainableWeights.length > 0) return `'${layer.name}' is trained`;
    if (!runsInTrainingMode(layer)) continue;
    if (!layer.trainable) return `'${layer.name}' trains its BatchNorm statistics`;
    if (layer.weights.length > 0 || STOCHASTIC_LAYER_CLASSES.has(layer.getClassName())) return `'${layer.name}' is trained`;
  }
  return null;
}

/** Why the feature cache cannot be used for `model` as frozen now (e.g. "'conv3' is trained"), or null when it can. */
export function featureCacheBlocker(model: tf.LayersModel, headLayers: ReadonlySet<string>): string | null {
  if (model.inputs.length !== 1) return `the model has ${model.inputs.length} inputs`;
  const first = model.layers.find((l) => headLayers.has(l.name));
  if (!first) return 'the model has no head';
  const inputs = first.inboundNodes[0]?.inputTensors ?? [];
  if (inputs.length !== 1) return `the cut has ${inputs.length} outputs`;
  // A cut output of open size ([null, null, C] under a [null, null, null, 3] input) is fine: the fed images fix it (forwardInBatches).
  return blockingLayer(model, headLayers);
}

function headLayerList(model: tf.LayersModel, headLayers: ReadonlySet<string>): tf.layers.Layer[] {
  return model.layers.filter((l) => headLayers.has(l.name));
}

/** The cut tensor of the transfer model: the input of its first head layer (the node buildTransferModel made). */
export function cutTensor(model: tf.LayersModel, headLayers: ReadonlySet<string>): tf.SymbolicTensor {
  const reason = featureCacheBlocker(model, headLayers);
  if (reason !== null && !reason.endsWith('is trained') && !reason.endsWith('statistics'))
    throw new Error(`No feature cache for model '${model.name}': ${reason}. Train without the cache.`);
  return headLayerList(model, headLayers)[0].inboundNodes[0].inputTensors[0];
}

/** Per-image shape of the features at the cut of the transfer model as the graph states it: null where the input size is open. */
export function featureShape(model: tf.LayersModel, headLayers: ReadonlySet<string>): (number | null)[] {
  return cutTensor(model, headLayers).shape.slice(1);
}

/**
 * Runs the frozen prefix (transfer model input → cut) forward only, in
 * batches of `batchSize`, and copies the activations to the CPU. Every
 * tensor is disposed; the prefix model shares the transfer model's layers
 * and is not disposed (that would dispose those layers).
 */
export async function buildFeatures(
  model: tf.LayersModel,
  headLayers: ReadonlySet<string>,
  set: ImageSet,
  preprocessing: Preprocessing,
  batchSize: number,
  hooks: FeatureBuildHooks = {},
): Promise<FeatureSet> {
  const started = performance.now();
  const prefix = tf.model({ inputs: model.inputs, outputs: cutTensor(model, headLayers) });
  const { features, shape } = await forwardInBatches(prefix, set, preprocessing, batchSize, hooks);
  return { features, shape, labels: set.labels, millis: performance.now() - started };
}

/** What a feature build reports to and asks of its caller. */
export interface FeatureBuildHooks {
  /** Polled before every batch; true stops the build with an error. */
  shouldStop?(): boolean;
  /** After every batch: images done of the set's total. */
  onProgress?(done: number, total: number): void;
}

/**
 * Per-image output shape of `prefix` for images of `set.shape`: the graph's
 * own where it is fixed, computed layer by layer from the fed size where the
 * model leaves height and width open ([null, null, null, 3] → e.g. [4, 4, 4]).
 */
export function fedOutputShape(prefix: tf.LayersModel, set: ImageSet): number[] {
  const graph = prefix.outputs[0].shape.slice(1);
  if (!graph.includes(null)) return graph as number[];
  const { height, width, channels } = set.shape;
  const computed = (prefix.computeOutputShape([null, height, width, channels]) as (number | null)[]).slice(1);
  if (computed.includes(null)) {
    throw new Error(
      `The cut output ('${prefix.outputs[0].sourceLayer.name}') has size [${computed.map((d) => d ?? '?').join(', ')}] even for ${height}×${width}×${channels} images, so its features cannot be cached. Train without the cache (unfreeze a layer below the cut).`,
    );
  }
  return computed as number[];
}

/**
 * Runs `prefix` (one input, one output) forward only, in inference mode, over
 * every image of `set` in batches of `batchSize`, on the active backend, and
 * copies the outputs into one Float32Array (`await data()`; every tensor is
 * disposed). The per-image shape is the one the images' size gives
 * (fedOutputShape). Yields a macrotask after each batch so a Stop can arrive.
 */
export async function forwardInBatches(
  prefix: tf.LayersModel,
  set: ImageSet,
  preprocessing: Preprocessing,
  batchSize: number,
  hooks: FeatureBuildHooks = {},
): Promise<{ features: Float32Array; shape: number[] }> {
  checkModelTakes(prefix, set.shape);
  const shape = fedOutputShape(prefix, set);
  const size = shape.reduce((a, b) => a * b, 1);
  const count = imageCount(set);
  const features = new Float32Array(count * size);
  const step = Math.max(1, batchSize);
  const depth = Math.max(
    2,
    set.labels.reduce((m, l) => Math.max(m, l + 1), 0),
  ); // makeBatch's labels are unused here
  try {
    await forwardEach(prefix, set, { preprocessing, step, depth, size, shape, features }, hooks);
  } finally {
    releaseFrozenPrefixes(); // the folded BatchNorm weights (engine/frozenPrefix.ts)
  }
  return { features, shape };
}

/** forwardInBatches' loop: one batch at a time through the folded forward pass (frozenPrefix.ts inferFolded) into `features`. */
async function forwardEach(
  prefix: tf.LayersModel,
  set: ImageSet,
  out: { preprocessing: Preprocessing; step: number; depth: number; size: number; shape: number[]; features: Float32Array },
  hooks: FeatureBuildHooks,
): Promise<void> {
  const { preprocessing, step, depth, size, shape, features } = out;
  const count = imageCount(set);
  for (let start = 0; start < count; start += step) {
    if (hooks.shouldStop?.()) throw new Error('The feature cache build was stopped; press Train to start again.');
    const indices = Array.from({ length: Math.min(step, count - start) }, (_, i) => start + i);
    const { xs, ys } = makeBatch(set, indices, depth, preprocessing);
    const batchOut = tf.tidy(() => inferFolded(prefix, xs));
    tf.dispose([xs, ys]);
    try {
      if (batchOut.size !== indices.length * size) {
        throw new Error(
          `The cut ('${prefix.outputs[0].sourceLayer.name}') gave features of shape [${batchOut.shape.slice(1).join(', ')}] for ${set.shape.height}×${set.shape.width}×${set.shape.channels} images, not the [${shape.join(', ')}] its layers state. Train without the cache (unfreeze a layer below the cut).`,
        );
      }
      features.set((await batchOut.data()) as Float32Array, start * size);
    } finally {
      batchOut.dispose();
    }
    hooks.onProgress?.(start + indices.length, count);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}

/** A BatchSource over cached features: float rows of `set.shape` and one-hot labels. */
export function featureSource(set: FeatureSet, numClasses: number): BatchSource {
  const size = set.shape.reduce((a, b) => a * b, 1);
  return {
    count: set.labels.length,
    batch(indices) {
      const values = new Float32Array(indices.length * size);
      const labels = new Int32Array(indices.length);
      for (let row = 0; row < indices.length; row++) {
        const index = indices[row];
        values.set(set.features.subarray(index * size, (index + 1) * size), row * size);
        labels[row] = set.labels[index];
      }
      const xs = tf.tensor(values, [indices.length, ...set.shape]);
      const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses).toFloat() as tf.Tensor2D);
      return { xs, ys };
    },
  };
}

const headModels = new WeakMap<tf.LayersModel, tf.LayersModel>();

/**
 * A model from a new input of the cut's shape through the transfer model's
 * own head layer objects: training it updates the very variables the
 * transfer model holds. Built once per transfer model. Never dispose it.
 */
export function headOnlyModel(model: tf.LayersModel, headLayers: ReadonlySet<string>): tf.LayersModel {
  const cached = headModels.get(model);
  if (cached) return cached;
  // Open dimensions stay open: the cached features carry the size the images were fed at.
  const input = tf.input({ shape: featureShape(model, headLayers) as number[], name: `${model.name}_features` });
  let x: tf.SymbolicTensor = input;
  for (const layer of headLayerList(model, headLayers)) x = layer.apply(x) as tf.SymbolicTensor;
  const head = tf.model({ inputs: input, outputs: x, name: `${model.name}_head` });
  headModels.set(model, head);
  return head;
}

/**
 * Trains the head layers of the transfer model on cached features, with
 * trainModel's loop (trainOnSource): same optimizer, schedule, batch order
 * for the same seed, early stopping, best weights, NaN guard, metrics and hooks.
 */
export async function trainHeadOnFeatures(
  model: tf.LayersModel,
  headLayers: ReadonlySet<string>,
  train: FeatureSet,
  validation: FeatureSet | null,
  numClasses: number,
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const reason = featureCacheBlocker(model, headLayers);
  if (reason !== null) throw new Error(`Cannot train on cached features: ${reason}. Freeze it, or train without the cache.`);
  return trainOnSource(
    headOnlyModel(model, headLayers),
    featureSource(train, numClasses),
    validation ? featureSource(validation, numClasses) : null,
    config,
    hooks,
  );
}

/** A content hash of an image set (pixels, labels, shape) as hex; equal sets hash equal. */
export function hashImageSet(set: ImageSet): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x12345678;
  const mix = (v: number) => {
    h1 = Math.imul(h1 ^ v, 0x01000193);
    h2 = Math.imul(h2 ^ v, 0x5bd1e995) ^ (h2 >>> 15);
  };
  const { pixels } = set;
  const words = Math.floor(pixels.byteLength / 4);
  const view =
    pixels.byteOffset % 4 === 0
      ? new Uint32Array(pixels.buffer, pixels.byteOffset, words)
      : new Uint32Array(pixels.buffer.slice(pixels.byteOffset, pixels.byteOffset + words * 4));
  for (let i = 0; i < view.length; i++) mix(view[i]);
  for (let i = words * 4; i < pixels.length; i++) mix(pixels[i]);
  for (let i = 0; i < set.labels.length; i++) mix(set.labels[i]);
  mix(set.shape.height);
  mix(set.shape.width);
  mix(set.shape.channels);
  mix(pixels.length);
  const hex = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
  return hex(h1) + hex(h2);
}

/** What the features depend on besides the images: the model, the cut and the preprocessing — not the head. */
export interface FeatureKeyParts {
  /** The model's sourceHash, or any id that changes when another model is loaded. */
  modelId: string;
  cutLayer: string;
  preprocessing: Preprocessing;
}

/** The cache key of one image set's features: model, cut, preprocessing range and the set's content hash. */
export function featureCacheKey(parts: FeatureKeyParts, setHash: string): string {
  return JSON.stringify([parts.modelId, parts.cutLayer, parts.preprocessing.range, setHash]);
}
