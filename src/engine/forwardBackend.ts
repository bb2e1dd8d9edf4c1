import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from './batches';
import { buildFeatures, cutTensor, forwardInBatches, type FeatureBuildHooks, type FeatureSet } from './featureCache';
import type { Preprocessing } from '../core/types';

/**
 * The feature cache's forward pass on the fastest backend (issue #5): the
 * frozen prefix is forward-only, so it may run on another backend than
 * training does. Variables never move between backends (moving WebGPU data
 * reads it synchronously, which breaks there: TFJS-FACTS #8): the prefix is
 * rebuilt on the other backend from its topology and CPU copies of its
 * weights (`await data()`), run there, and disposed; the training backend is
 * active again before anything returns.
 */

/** How the forward backend was chosen: milliseconds per image of each candidate on a few images, and the pick. */
export interface ForwardBackendChoice {
  backend: string;
  /** Per candidate (the training backend first): ms per image, or why it could not run. */
  probes: { backend: string; msPerImage: number | null; error?: string }[];
}

/** A candidate must be this much faster than the training backend to be used (the copy costs a weight read and a build). */
export const SWITCH_FACTOR = 1.2;

function prefixOf(model: tf.LayersModel, headLayers: ReadonlySet<string>): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: cutTensor(model, headLayers) });
}

/** A copy of `prefix` on `backend` (made active by the caller), from its topology and CPU copies of its weights. */
async function copyOn(prefix: tf.LayersModel, values: tf.TypedArray[]): Promise<tf.LayersModel> {
  const topology = prefix.toJSON(null, false) as unknown as tf.io.ModelArtifacts['modelTopology'];
  const copy = await tf.models.modelFromJSON({ modelTopology: topology } as tf.io.ModelJSON);
  if (copy.weights.length !== values.length) {
    copy.dispose();
    throw new Error(`The copy of '${prefix.name}' has ${copy.weights.length} weights, the original ${values.length}.`);
  }
  const tensors = copy.weights.map((w, i) => tf.tensor(values[i], w.shape as number[], w.dtype));
  try {
    copy.setWeights(tensors);
  } catch (error) {
    copy.dispose();
    throw error;
  } finally {
    tf.dispose(tensors);
  }
  return copy;
}

/** Runs `fn` with `backend` active and the training backend (active on entry) restored after, whatever happens. */
async function onBackend<T>(backend: string, fn: () => Promise<T>): Promise<T> {
  const training = tf.getBackend();
  if (backend === training) return fn();
  try {
    // A backend that fails to start leaves the engine without one (tfjs sets the name first): the finally restores it.
    if (!(await tf.setBackend(backend))) throw new Error(`the ${backend} backend could not start`);
    return await fn();
  } finally {
    await tf.setBackend(training);
  }
}

/**
 * Times the prefix's forward pass on the training backend and on each of
 * `candidates` (a warm-up batch, then a timed one, of up to `probeImages`
 * images), and picks the fastest — another backend only when it is at least
 * SWITCH_FACTOR times faster. A candidate that cannot start or fails is
 * reported with its error and skipped. When building `imagesToBuild` images
 * on the training backend would take less than `minBuildMs`, no other
 * backend is probed.
 */
export async function chooseForwardBackend(
  model: tf.LayersModel,
  headLayers: ReadonlySet<string>,
  set: ImageSet,
  preprocessing: Preprocessing,
  candidates: readonly string[],
  options: { probeImages?: number; imagesToBuild?: number; minBuildMs?: number } = {},
): Promise<ForwardBackendChoice> {
  const probeImages = options.probeImages ?? 4;
  const training = tf.getBackend();
  const prefix = prefixOf(model, headLayers);
  // The first few images as a set of their own, run through the cache's own batch loop in one batch.
  const probeCount = Math.max(1, Math.min(probeImages, set.labels.length));
  const { height, width, channels } = set.shape;
  const probeSet: ImageSet = {
    pixels: set.pixels.subarray(0, probeCount * height * width * channels),
    labels: set.labels.subarray(0, probeCount),
    shape: set.shape,
  };
  const time = async (m: tf.LayersModel) => {
    await forwardInBatches(m, probeSet, preprocessing, probeCount); // warm-up: shader compilation, buffer allocation
    const started = performance.now();
    await forwardInBatches(m, probeSet, preprocessing, probeCount);
    return (performance.now() - started) / probeCount;
  };
  const probes: ForwardBackendChoice['probes'] = [{ backend: training, msPerImage: await time(prefix) }];
  // A build this short on the training backend is not worth probing others for.
  if (options.imagesToBuild !== undefined && probes[0].msPerImage! * options.imagesToBuild < (options.minBuildMs ?? 0)) return { backend: training, probes };
  const values = candidates.some((c) => c !== training)
    ? await Promise.all(prefix.weights.map(async (w) => (await w.read().data()).slice() as tf.TypedArray))
    : [];
  for (const backend of candidates) {
    if (backend === training) continue;
    try {
      const ms = await onBackend(backend, async () => {
        const copy = await copyOn(prefix, values);
        try {
          return await time(copy);
        } finally {
          copy.dispose();
        }
      });
      probes.push({ backend, msPerImage: ms });
    } catch (error) {
      probes.push({ backend, msPerImage: null, error: (error as Error).message });
    }
  }
  return { backend: pickFastest(probes), probes };
}

/** The fastest probe's backend; the first (training) one unless another is at least SWITCH_FACTOR times faster. */
export function pickFastest(probes: ForwardBackendChoice['probes']): string {
  const base = probes[0].msPerImage ?? Infinity;
  let best = probes[0];
  for (const probe of probes.slice(1)) {
    if (probe.msPerImage !== null && probe.msPerImage * SWITCH_FACTOR <= base && probe.msPerImage < (best.msPerImage ?? Infinity)) best = probe;
  }
  return best.backend;
}

/**
 * buildFeatures on `backend`: the prefix is copied there (see the file
 * comment), every image is run forward in batches of `batchSize`, and the
 * copy is disposed; on the training backend it is buildFeatures itself.
 */
export async function buildFeaturesOn(
  backend: string,
  model: tf.LayersModel,
  headLayers: ReadonlySet<string>,
  set: ImageSet,
  preprocessing: Preprocessing,
  batchSize: number,
  hooks: FeatureBuildHooks = {},
): Promise<FeatureSet> {
  if (backend === tf.getBackend()) return buildFeatures(model, headLayers, set, preprocessing, batchSize, hooks);
  const started = performance.now();
  const prefix = prefixOf(model, headLayers);
  const values = await Promise.all(prefix.weights.map(async (w) => (await w.read().data()).slice() as tf.TypedArray));
  const { features, shape } = await onBackend(backend, async () => {
    const copy = await copyOn(prefix, values);
    try {
      return await forwardInBatches(copy, set, preprocessing, batchSize, hooks);
    } finally {
      copy.dispose();
    }
  });
  return { features, shape, labels: set.labels, millis: performance.now() - started };
}
