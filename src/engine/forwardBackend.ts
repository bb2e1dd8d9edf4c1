import * as tf from '@tensorflow/tfjs';
import { crossEntropy, makeBatch, type ImageSet } from './batches';
import { buildFeatures, cutTensor, forwardInBatches, type FeatureBuildHooks, type FeatureSet } from './featureCache';
import { guardFrozenLayers, setBatchNormOverrides } from './frozenLayers';
import type { BatchNormOverrides, Preprocessing } from '../core/types';

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

/** A copy of `prefix` (any model) on the active backend, from its topology and CPU copies of its weights. */
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

/** How the training backend was chosen: milliseconds per training step of the run's plan on each candidate. */
export interface TrainBackendChoice {
  backend: string;
  /** Per candidate (the active backend first): ms per step (the timed step after an untimed one), or why not. */
  probes: { backend: string; msPerStep: number | null; error?: string }[];
}

/** A candidate whose untimed first step took longer than this many times the best timed step is not timed further. */
export const TRAIN_PROBE_GIVE_UP = 4;

/** What a training probe runs: the run's model, the first batch of its images, and its BN modes. */
export interface TrainProbeInput {
  model: tf.LayersModel;
  set: ImageSet;
  numClasses: number;
  preprocessing: Preprocessing;
  batchSize: number;
  batchNormOverrides: BatchNormOverrides;
  /** Backends whose memory the step is known not to fit (wasm's heap, core/memoryFit.ts): never timed, never picked. */
  unfit?: readonly string[];
}

/** ms of one training step of `model` (its trainable layers, a fresh Adam) on one batch; the caller has the backend active. */
async function timeSteps(model: tf.LayersModel, input: TrainProbeInput, giveUpMs: number): Promise<number> {
  const count = Math.max(1, Math.min(input.batchSize, input.set.labels.length));
  const indices = Int32Array.from({ length: count }, (_, i) => i);
  const optimizer = tf.train.adam(1e-4);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = async () => {
    const { xs, ys } = makeBatch(input.set, indices, input.numClasses, input.preprocessing);
    const started = performance.now();
    try {
      const loss = optimizer.minimize(() => crossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor), true, variables);
      await loss!.data();
      loss!.dispose();
    } finally {
      tf.dispose([xs, ys]);
    }
    return performance.now() - started;
  };
  try {
    const first = await step(); // kernels compiled, buffers allocated
    if (first > giveUpMs)
      throw new Error(`its first step took ${Math.round(first)} ms, over ${TRAIN_PROBE_GIVE_UP}× the fastest step so far: not timed further`);
    return await step();
  } finally {
    optimizer.dispose();
  }
}

/**
 * Times a training step of the run's model, as planned (its trainable flags,
 * the frozen-layer guard, the BN modes), on the active backend and on each of
 * `candidates`: a copy of the model is built on each (as the forward probe
 * does), trained for an untimed and a timed step on the run's first batch,
 * and disposed. The run's own weights are not touched. Picks the fastest —
 * another backend only when it is SWITCH_FACTOR times faster. A candidate
 * whose untimed step is very slow (TRAIN_PROBE_GIVE_UP) is not timed further;
 * when no candidate can run, the active one is kept without timing it.
 */
export async function chooseTrainingBackend(input: TrainProbeInput, candidates: readonly string[]): Promise<TrainBackendChoice> {
  const active = tf.getBackend();
  const values = await Promise.all(input.model.weights.map(async (w) => (await w.read().data()).slice() as tf.TypedArray));
  const probe = async (backend: string, giveUpMs: number): Promise<TrainBackendChoice['probes'][number]> => {
    try {
      const ms = await onBackend(backend, async () => {
        const copy = await copyOn(input.model, values);
        try {
          guardFrozenLayers(copy);
          setBatchNormOverrides(copy, input.batchNormOverrides);
          return await timeSteps(copy, input, giveUpMs);
        } finally {
          copy.dispose();
        }
      });
      return { backend, msPerStep: ms };
    } catch (error) {
      return { backend, msPerStep: null, error: (error as Error).message };
    }
  };
  const bestSoFar = (probes: TrainBackendChoice['probes']) => Math.min(...probes.map((p) => p.msPerStep ?? Infinity)) * TRAIN_PROBE_GIVE_UP;
  // The others first: when none of them can run, the active backend is not timed at all.
  const unfit = new Set(input.unfit ?? []);
  const others: TrainBackendChoice['probes'] = [];
  for (const backend of candidates.filter((c) => c !== active && !unfit.has(c))) others.push(await probe(backend, bestSoFar(others)));
  if (others.every((p) => p.msPerStep === null))
    return { backend: active, probes: [{ backend: active, msPerStep: null, error: 'not timed: no other backend could run' }, ...others] };
  // A step that cannot fit in the active backend's memory is not run there even once (threaded wasm hangs at its ceiling).
  const activeProbe = unfit.has(active)
    ? { backend: active, msPerStep: null, error: 'not timed: the step does not fit in its memory' }
    : await probe(active, bestSoFar(others));
  const probes = [activeProbe, ...others];
  const asForward = probes.map((p) => ({ backend: p.backend, msPerImage: p.msPerStep, error: p.error }));
  return { backend: pickFastest(asForward), probes };
}

/**
 * Moves every weight of `models` (shared layers once) to `backend` and makes
 * it the active one: the values are read where they are (`await data()`, never
 * a synchronous read: TFJS-FACTS #8), then each variable is assigned a tensor
 * made on `backend` — the same Variable objects, bit for bit the same values.
 * Nothing else may hold tensors of the old backend (optimizers are made per run).
 */
export async function moveWeightsTo(backend: string, models: readonly tf.LayersModel[]): Promise<void> {
  if (backend === tf.getBackend()) return;
  const variables = [...new Set(models.flatMap((m) => m.weights.map((w) => w.read() as tf.Variable)))];
  const values = await Promise.all(variables.map(async (v) => (await v.data()).slice() as tf.TypedArray));
  const previous = tf.getBackend();
  if (!(await tf.setBackend(backend))) {
    await tf.setBackend(previous);
    throw new Error(`The ${backend} backend could not start; the run stays on ${previous}.`);
  }
  tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(values[i], v.shape, v.dtype))));
}

/**
 * The worker's pick of a training backend per plan: the first run of a plan
 * (model load, cut, plan, batch, BN modes: `key`) times it on the candidates;
 * later runs of the same plan reuse that measurement. Either way the run's
 * weights (`models`) are moved to the chosen backend, which is left active.
 * Null (nothing timed, nothing moved) when no other candidate could start here.
 */
export function createTrainingBackendPicker(candidates: () => string[]) {
  const chosen = new Map<string, TrainBackendChoice>();
  return async function pick(key: string, input: TrainProbeInput, models: readonly tf.LayersModel[]): Promise<TrainBackendChoice | null> {
    let choice = chosen.get(key);
    if (!choice) {
      const others = candidates().filter((c) => c !== tf.getBackend());
      if (others.length === 0) return null; // nothing to compare with: no timing at all
      choice = await chooseTrainingBackend(input, others);
      chosen.set(key, choice);
    }
    await moveWeightsTo(choice.backend, models);
    return choice;
  };
}
