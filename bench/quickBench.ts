/**
 * The three figures of `npm run bench -- --quick` (issue #5, "Benchmark"),
 * measured through the studio's own code on whatever tfjs backend is active.
 * Runs in a browser page (bench/quickPage.ts) or in Node unchanged.
 *
 * - head_cached_speedup: one epoch of head-only training through the whole
 *   MobileNetV2 (trainModel: every step runs the frozen backbone) ÷ one epoch
 *   of the same on the feature cache (trainHeadOnFeatures); the cache build
 *   (buildFeatures) is reported beside it.
 * - frozen_prefix_speedup: a full fine-tuning step ÷ a step with the first
 *   half of the preset blocks (presetBlocks) frozen.
 * - studio_overhead: a step of the worker's message handler (createStudioWorker,
 *   a `train` message, timed between its batch posts) ÷ a step of a bare loop
 *   (optimizer.minimize over model.apply(training: true), one `await
 *   loss.data()` per step) on the same backend, model, plan and batch:
 *   the median over interleaved pairs of runs of each pair's ratio.
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '../src/engine/batches';
import { buildFeatures, trainHeadOnFeatures } from '../src/engine/featureCache';
import { applyFreezePlan, countWeightParams, trainableVariables } from '../src/engine/freeze';
import { guardFrozenLayers } from '../src/engine/frozenLayers';
import { buildTransferModel, defaultCutLayer } from '../src/engine/head';
import { loadLayersModelFromFileSet, type LoadedModel } from '../src/engine/modelFiles';
import { openModel } from '../src/engine/modelSources';
import { fineTuneTopPlan, freezeEarlyPlan, headOnlyPlan, presetBlocks, type PresetBlock } from '../src/core/presets';
import { summarizeLayers } from '../src/engine/summary';
import { trainModel } from '../src/engine/trainer';
import type { FreezePlan } from '../src/core/types';
import { createStudioWorker } from '../src/worker/studioWorker';
import type { BackendName, WorkerReply } from '../src/worker/protocol';
import { benchFreezePlans, syntheticImages } from './stepBench';

type ModelFiles = readonly { name: string; buffer: ArrayBuffer }[];

/** The quick bench's fixed settings (chosen so the whole run fits in 5 minutes on 2 cores with WebGL on SwiftShader). */
export const QUICK_BENCH = {
  model: 'MobileNetV2',
  numClasses: 2,
  shape: { height: 224, width: 224, channels: 3 },
  /** head_cached_speedup: images per epoch, batch, and cached epochs timed (after one untimed). */
  headCache: { images: 16, batchSize: 8, cachedEpochs: 5 },
  /** frozen_prefix_speedup: batch, untimed and timed steps per plan. */
  frozenPrefix: { batchSize: 1, warmup: 1, steps: 2 },
  /** studio_overhead: batch, steps per run (one epoch; the second is the one compared), timed pairs of runs (interleaved, after one untimed run each), trained top blocks. */
  overhead: { batchSize: 1, stepsPerRun: 2, repeats: 7, topBlocks: 2 },
} as const;

/** head_cached_speedup and its raw numbers. */
export interface HeadCacheResult {
  images: number;
  batchSize: number;
  batchesPerEpoch: number;
  cutLayer: string;
  /** One measured epoch of head-only training through the whole model (after the cache build, which compiled the forward kernels). */
  uncachedEpochMs: number;
  uncachedMsPerStep: number;
  /** buildFeatures over the epoch's images: one forward pass of the frozen prefix each; it runs first, so it includes compiling the forward kernels, as a studio's first run does. */
  cacheBuildMs: number;
  /** Median epoch on the cached features (the first, untimed one compiles the head's kernels). */
  cachedEpochMs: number;
  cachedEpochsMs: number[];
  featureShape: number[];
  speedup: number;
}

/** frozen_prefix_speedup and its raw numbers. */
export interface FrozenPrefixResult {
  batchSize: number;
  steps: number;
  blocks: number;
  frozenBlocks: string[];
  fullMsPerStep: number | null;
  halfFrozenMsPerStep: number | null;
  fullFirstStepMs: number | null;
  halfFrozenFirstStepMs: number | null;
  fullTrainableParams: number;
  halfFrozenTrainableParams: number;
  skipped: string[];
  speedup: number | null;
}

/** studio_overhead and its raw numbers. */
export interface OverheadResult {
  batchSize: number;
  stepsPerRun: number;
  repeats: number;
  plan: string;
  trainableParams: number;
  /** Per timed run: the handler's steady step, between its posts of the run's first and second batch (so it includes the yield between them). */
  studioMsPerStep: number[];
  /** Per timed run: the bare loop's steady step, between its first and second `await loss.data()`. */
  bareMsPerStep: number[];
  /** Per timed run: the handler's first step (epoch millis − the steady step): it pays the run's one-off costs inside the epoch. */
  studioFirstStepMs: number[];
  bareFirstStepMs: number[];
  /** Per timed run: the handler's whole run (train message to runEnded: setup, weight snapshots, audit, both steps). */
  studioRunMs: number[];
  studioMedianMsPerStep: number;
  bareMedianMsPerStep: number;
  studioMedianFirstStepMs: number;
  bareMedianFirstStepMs: number;
  studioMedianRunMs: number;
  /** Per pair: studio ÷ bare steady step of the two runs made back to back. */
  pairRatios: number[];
  /** studioMedianMsPerStep ÷ bareMedianMsPerStep. */
  ratioOfMedians: number;
  /** The figure: the median of pairRatios (a slow spell of the shared machine hits both runs of a pair alike). */
  overhead: number;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A freshly loaded MobileNetV2 with the studio's head at the default cut, guarded, and its preset blocks. */
async function transferModel(files: ModelFiles) {
  const loaded = await loadLayersModelFromFileSet(files);
  const cutLayer = defaultCutLayer(loaded.model);
  const { model, headLayers } = buildTransferModel(loaded.model, cutLayer, QUICK_BENCH.numClasses, 1);
  guardFrozenLayers(model);
  const blocks = presetBlocks(summarizeLayers(loaded.model, cutLayer));
  return { loaded, model, headLayers, cutLayer, blocks };
}

/** Disposes the transfer model and what it does not share of the base (the original classifier). */
function disposeTransfer(transfer: tf.LayersModel, loaded: LoadedModel): void {
  const shared = new Set(transfer.layers);
  transfer.dispose();
  for (const layer of loaded.model.layers) if (!shared.has(layer)) layer.dispose();
}

/** head_cached_speedup: epoch through the whole model vs epoch on cached features, same images, batch and head. */
export async function benchHeadCache(files: ModelFiles, log: (line: string) => void = () => {}): Promise<HeadCacheResult> {
  const o = QUICK_BENCH.headCache;
  const { loaded, model, headLayers, cutLayer, blocks } = await transferModel(files);
  try {
    applyFreezePlan(model, headOnlyPlan(blocks), headLayers);
    const data = syntheticImages(o.images, QUICK_BENCH.shape, QUICK_BENCH.numClasses, 7);
    const config = { epochs: 1, batchSize: o.batchSize, learningRate: 1e-3, seed: 1 };
    // The build first: it compiles the forward kernels the uncached epoch uses too (frozen layers run in inference mode in both).
    const features = await buildFeatures(model, headLayers, data, loaded.preprocessing, o.batchSize);
    log(`feature cache build: ${features.millis.toFixed(0)} ms for ${o.images} images`);
    // One whole epoch through the whole model, timed by the trainer itself.
    let uncachedEpochMs = NaN;
    await trainModel(model, data, null, QUICK_BENCH.numClasses, loaded.preprocessing, config, {
      onEpoch: (m) => {
        uncachedEpochMs = m.millis;
      },
    });
    const batchesPerEpoch = Math.ceil(o.images / o.batchSize);
    log(`head only through the whole model: ${uncachedEpochMs.toFixed(0)} ms per epoch of ${o.images} images`);
    const epochs: number[] = [];
    await trainHeadOnFeatures(
      model,
      headLayers,
      features,
      null,
      QUICK_BENCH.numClasses,
      { ...config, epochs: o.cachedEpochs + 1 },
      {
        onEpoch: (m) => epochs.push(m.millis),
      },
    );
    const timed = epochs.slice(1);
    const cachedEpochMs = median(timed);
    log(`head only on cached features: ${cachedEpochMs.toFixed(1)} ms per epoch (median of ${timed.length})`);
    return {
      images: o.images,
      batchSize: o.batchSize,
      batchesPerEpoch,
      cutLayer,
      uncachedEpochMs,
      uncachedMsPerStep: uncachedEpochMs / batchesPerEpoch,
      cacheBuildMs: features.millis,
      cachedEpochMs,
      cachedEpochsMs: timed,
      featureShape: features.shape,
      speedup: uncachedEpochMs / cachedEpochMs,
    };
  } finally {
    disposeTransfer(model, loaded);
  }
}

/** frozen_prefix_speedup: full fine-tuning vs the first half of the preset blocks frozen (stepBench's timing). */
export async function benchFrozenPrefix(files: ModelFiles, log: (line: string) => void = () => {}): Promise<FrozenPrefixResult> {
  const o = QUICK_BENCH.frozenPrefix;
  const probe = await transferModel(files);
  const blocks: PresetBlock[] = probe.blocks;
  disposeTransfer(probe.model, probe.loaded);
  const half = Math.floor(blocks.length / 2);
  const frozenPlan = freezeEarlyPlan(blocks, half);
  const frozenNames = new Set(Object.keys(frozenPlan).filter((name) => frozenPlan[name]));
  const data = syntheticImages(o.batchSize * (o.warmup + o.steps), QUICK_BENCH.shape, QUICK_BENCH.numClasses, 11);
  const rows = await benchFreezePlans(() => loadLayersModelFromFileSet(files), data, QUICK_BENCH.numClasses, {
    modelName: QUICK_BENCH.model,
    steps: o.steps,
    warmup: o.warmup,
    batchSize: o.batchSize,
    cases: [
      { plan: 'full fine-tune', frozen: () => false },
      { plan: `first ${half} of ${blocks.length} blocks frozen`, frozen: (name) => frozenNames.has(name) },
    ],
    onRow: (row) => log(`${row.plan}: ${row.msPerStep === null ? `skipped (${row.skipped})` : `${row.msPerStep.toFixed(0)} ms per step`}`),
  });
  const [full, halfRow] = rows;
  return {
    batchSize: o.batchSize,
    steps: o.steps,
    blocks: blocks.length,
    frozenBlocks: blocks.slice(0, half).map((b) => b.label),
    fullMsPerStep: full.msPerStep,
    halfFrozenMsPerStep: halfRow.msPerStep,
    fullFirstStepMs: full.firstStepMs,
    halfFrozenFirstStepMs: halfRow.firstStepMs,
    fullTrainableParams: full.trainableParams,
    halfFrozenTrainableParams: halfRow.trainableParams,
    skipped: rows.filter((r) => r.skipped).map((r) => `${r.plan}: ${r.skipped}`),
    speedup: full.msPerStep && halfRow.msPerStep ? full.msPerStep / halfRow.msPerStep : null,
  };
}

/**
 * studio_overhead: the worker's handler (its `train` path, posts to a function
 * that only records them, batch posts not coalesced so each step is stamped)
 * against a bare loop on a second copy of the model with the same head, guard
 * and plan. Each side runs one untimed run, then `repeats` timed runs of
 * `stepsPerRun` steps, interleaved; both build a fresh Adam per run, as the
 * studio does. The figure compares the steady step (the run's second); a
 * run's first step also pays one-off costs (reported apart). The bare loop's
 * batches are tensors made before the clock starts.
 */
export async function benchStudioOverhead(
  files: ModelFiles,
  log: (line: string) => void = () => {},
  repeats: number = QUICK_BENCH.overhead.repeats,
): Promise<OverheadResult> {
  const o = { ...QUICK_BENCH.overhead, repeats };
  const backend = tf.getBackend() as BackendName;
  const images = syntheticImages(o.batchSize * o.stepsPerRun, QUICK_BENCH.shape, QUICK_BENCH.numClasses, 13);
  const classNames = Array.from({ length: QUICK_BENCH.numClasses }, (_, i) => `class ${i}`);

  // The bare side: its own copy of the model, built and frozen the same way.
  const bare = await transferModel(files);
  const plan: FreezePlan = fineTuneTopPlan(bare.blocks, o.topBlocks);
  applyFreezePlan(bare.model, plan, bare.headLayers);
  const variables = trainableVariables(bare.model);
  const [lo, hi] = bare.loaded.preprocessing.range;
  const size = QUICK_BENCH.shape.height * QUICK_BENCH.shape.width * QUICK_BENCH.shape.channels;
  const batches = Array.from({ length: o.stepsPerRun }, (_, step) => {
    const pixels = images.pixels.subarray(step * o.batchSize * size, (step + 1) * o.batchSize * size);
    const labels = images.labels.subarray(step * o.batchSize, (step + 1) * o.batchSize);
    return tf.tidy(() => ({
      xs: tf.tensor4d(
        Float32Array.from(pixels, (v) => lo + ((hi - lo) * v) / 255),
        [o.batchSize, 224, 224, 3],
      ),
      ys: tf.oneHot(tf.tensor1d(labels, 'int32'), QUICK_BENCH.numClasses).toFloat(),
    }));
  });
  const bareRun = async (): Promise<{ stepMs: number; firstStepMs: number }> => {
    const optimizer = tf.train.adam(1e-3);
    const stamps = [performance.now()];
    for (const { xs, ys } of batches) {
      const loss = optimizer.minimize(() => crossEntropy(ys, bare.model.apply(xs, { training: true }) as tf.Tensor), true, variables)!;
      await loss.data();
      loss.dispose();
      stamps.push(performance.now());
    }
    optimizer.dispose();
    return { stepMs: stamps[2] - stamps[1], firstStepMs: stamps[1] - stamps[0] };
  };

  // The studio side: the worker's handler, fed the same files, images and plan.
  const replies: { reply: WorkerReply; at: number }[] = [];
  const handle = createStudioWorker((reply) => replies.push({ reply, at: performance.now() }), {
    selectBackend: async () => ({ backend, notes: [] }),
    loadModel: () => openModel({ kind: 'files', files: [...files] }),
    batchFlushMs: 0,
  });
  await handle({ type: 'init', requestId: 1, backend, allowSoftwareWebgl: true });
  await handle({ type: 'loadModel', requestId: 2, source: { kind: 'files', files: files.map((f) => ({ name: f.name, buffer: f.buffer })) } });
  const failed = replies.find((r) => r.reply.type === 'requestFailed');
  if (failed) throw new Error(`The handler could not load the model: ${JSON.stringify(failed.reply)}`);
  let runId = 0;
  const studioRun = async (): Promise<{ stepMs: number; firstStepMs: number; runMs: number }> => {
    runId++;
    replies.length = 0;
    const sent = performance.now();
    await handle({
      type: 'train',
      runId,
      plan,
      cutLayer: bare.cutLayer,
      head: { pooling: 'avg', hiddenUnits: 0, dropout: 0 },
      preprocessing: bare.loaded.preprocessing,
      classNames,
      train: { pixels: images.pixels, labels: images.labels, shape: images.shape },
      validation: null,
      config: { epochs: 1, batchSize: o.batchSize, learningRate: 1e-3, seed: 1 },
    });
    const batchAt = (step: number) => replies.find((r) => r.reply.type === 'batches' && r.reply.points.some((p) => p.step === step))?.at;
    const epoch = replies.find((r) => r.reply.type === 'epoch');
    const ended = replies.find((r) => r.reply.type === 'runEnded');
    const [first, second] = [batchAt(0), batchAt(1)];
    if (!epoch || epoch.reply.type !== 'epoch' || !ended || first === undefined || second === undefined) {
      throw new Error(`The handler's run ${runId} did not post two batches and an epoch: ${JSON.stringify(replies.map((r) => r.reply).slice(-1))}`);
    }
    const stepMs = second - first;
    return { stepMs, firstStepMs: epoch.reply.metrics.millis - stepMs * (o.stepsPerRun - 1), runMs: ended.at - sent };
  };

  try {
    log('studio overhead: untimed runs');
    await studioRun();
    await bareRun();
    const studio: { stepMs: number; firstStepMs: number; runMs: number }[] = [];
    const bareRuns: { stepMs: number; firstStepMs: number }[] = [];
    for (let i = 0; i < o.repeats; i++) {
      // Alternate which side goes first, so a slow spell of the machine hits both.
      if (i % 2 === 0) {
        studio.push(await studioRun());
        bareRuns.push(await bareRun());
      } else {
        bareRuns.push(await bareRun());
        studio.push(await studioRun());
      }
      log(
        `studio overhead pair ${i + 1}: steady step studio ${studio[i].stepMs.toFixed(0)} ms, bare ${bareRuns[i].stepMs.toFixed(0)} ms; first step studio ${studio[i].firstStepMs.toFixed(0)} ms, bare ${bareRuns[i].firstStepMs.toFixed(0)} ms`,
      );
    }
    const studioMs = studio.map((r) => r.stepMs);
    const bareMs = bareRuns.map((r) => r.stepMs);
    const pairRatios = studioMs.map((ms, i) => ms / bareMs[i]);
    return {
      batchSize: o.batchSize,
      stepsPerRun: o.stepsPerRun,
      repeats: o.repeats,
      plan: `fine-tune top ${o.topBlocks} blocks (${bare.blocks
        .slice(-o.topBlocks)
        .map((b) => b.label)
        .join(', ')}) and the head`,
      trainableParams: countWeightParams(bare.model.trainableWeights),
      studioMsPerStep: studioMs,
      bareMsPerStep: bareMs,
      studioFirstStepMs: studio.map((r) => r.firstStepMs),
      bareFirstStepMs: bareRuns.map((r) => r.firstStepMs),
      studioRunMs: studio.map((r) => r.runMs),
      studioMedianMsPerStep: median(studioMs),
      bareMedianMsPerStep: median(bareMs),
      studioMedianFirstStepMs: median(studio.map((r) => r.firstStepMs)),
      bareMedianFirstStepMs: median(bareRuns.map((r) => r.firstStepMs)),
      studioMedianRunMs: median(studio.map((r) => r.runMs)),
      pairRatios,
      ratioOfMedians: median(studioMs) / median(bareMs),
      overhead: median(pairRatios),
    };
  } finally {
    for (const { xs, ys } of batches) tf.dispose([xs, ys]);
    disposeTransfer(bare.model, bare.loaded);
  }
}
