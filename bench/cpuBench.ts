/**
 * The studio's side of issue 15's figures (`npm run bench`, part 'cpu'), on
 * whatever backend is active (wasm in headless Chromium, threaded when the
 * page is cross-origin isolated): MobileNetV2's forward pass at batch 8, a
 * training step at batch 4 for each plan, the feature cache's build for 1,000
 * images, and the peak memory of a full fine-tuning step at batch 8 and 32.
 * Everything runs through the studio's own code (loader, head, guard, freeze,
 * trainModel, buildFeatures). Runs in a page or in Node unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { wasmFitMessage } from '../src/core/memoryFit';
import { wasmStepFit } from '../src/engine/wasmMemory';
import { inferFolded, releaseFrozenPrefixes } from '../src/engine/frozenPrefix';
import { buildFeatures } from '../src/engine/featureCache';
import { applyFreezePlan } from '../src/engine/freeze';
import { guardFrozenLayers } from '../src/engine/frozenLayers';
import { buildTransferModel, defaultCutLayer } from '../src/engine/head';
import { loadLayersModelFromFileSet } from '../src/engine/modelFiles';
import { freezeEarlyPlan, headOnlyPlan, presetBlocks } from '../src/core/presets';
import { summarizeLayers } from '../src/engine/summary';
import { benchFreezePlans, MOBILENET_V2_CASES, syntheticImages, type FreezeCase, type StepBenchRow } from './stepBench';

type ModelFiles = readonly { name: string; buffer: ArrayBuffer }[];

/** The plans of the PyTorch comparison, named as bench/torch_bench.py names them. */
export const CPU_PLANS = ['full fine-tune', 'frozen half', 'last two blocks + head', 'head only'] as const;
export type CpuPlan = (typeof CPU_PLANS)[number];

/** Settings: batches as the issue states them; `quick` times fewer steps. */
export const CPU_BENCH = {
  shape: { height: 224, width: 224, channels: 3 },
  numClasses: 2,
  forwardBatch: 8,
  stepBatch: 4,
  cacheImages: 1000,
  cacheBatch: 32,
  memoryBatches: [8, 32],
} as const;

/** What the page measured. */
export interface CpuBenchResult {
  backend: string;
  detail: string;
  forward: { batch: number; msPerImage: number; imagesPerSecond: number } | null;
  steps: (StepBenchRow & { plan: CpuPlan; imagesPerSecond: number | null; batch: number })[];
  cache: { images: number; seconds: number; imagesPerSecond: number; featureShape: number[] } | null;
  memory: MemoryRow[];
  errors: string[];
  /** WebGPU only: the adapter Chromium gave (SwiftShader = no real GPU). */
  adapter?: string;
}

/** One full fine-tuning step's memory: tfjs' peak tensor bytes (on webgl/webgpu: GPU memory), the wasm heap after it, or why it failed. */
export interface MemoryRow {
  backend: string;
  batch: number;
  peakTensorBytes: number | null;
  wasmHeapBytes: number | null;
  msPerStep: number | null;
  error?: string;
  /** Filled in by Node (scripts/benchCpu.ts): the renderer processes' peak resident memory during the step, bytes. */
  rendererPeakBytes?: number | null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function transfer(files: ModelFiles) {
  const loaded = await loadLayersModelFromFileSet(files);
  const cutLayer = defaultCutLayer(loaded.model);
  const built = buildTransferModel(loaded.model, cutLayer, CPU_BENCH.numClasses, 1);
  guardFrozenLayers(built.model);
  const blocks = presetBlocks(summarizeLayers(loaded.model, cutLayer));
  return { ...built, loaded, cutLayer, blocks };
}

function dispose(t: Awaited<ReturnType<typeof transfer>>): void {
  const shared = new Set(t.model.layers);
  t.model.dispose();
  for (const layer of t.loaded.model.layers) if (!shared.has(layer)) layer.dispose();
}

/** ms per image of the transfer model's forward pass (inference mode, BatchNorm folded as the studio runs it: engine/frozenPrefix.ts) at batch 8: one untimed, median of `repeats`. */
async function forward(files: ModelFiles, repeats: number): Promise<CpuBenchResult['forward']> {
  const t = await transfer(files);
  try {
    const x = tf.randomUniform([CPU_BENCH.forwardBatch, 224, 224, 3], -1, 1);
    const once = async () => {
      const started = performance.now();
      const y = inferFolded(t.model, x); // the studio's forward pass (evaluation, predict, the feature cache)
      await y.data();
      y.dispose();
      return performance.now() - started;
    };
    await once();
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push(await once());
    x.dispose();
    const msPerImage = median(times) / CPU_BENCH.forwardBatch;
    return { batch: CPU_BENCH.forwardBatch, msPerImage, imagesPerSecond: 1000 / msPerImage };
  } finally {
    releaseFrozenPrefixes();
    dispose(t);
  }
}

/** The four plans as freeze cases over MobileNetV2's layer names (the preset blocks decide "frozen half" and "head only"). */
async function planCases(files: ModelFiles, plans: readonly CpuPlan[]): Promise<FreezeCase[]> {
  const t = await transfer(files);
  const half = freezeEarlyPlan(t.blocks, Math.floor(t.blocks.length / 2));
  const head = headOnlyPlan(t.blocks);
  dispose(t);
  const lastTwo = MOBILENET_V2_CASES.find((c) => c.plan.startsWith('last two blocks'))!;
  const all: Record<CpuPlan, FreezeCase> = {
    'full fine-tune': { plan: 'full fine-tune', frozen: () => false },
    'frozen half': { plan: 'frozen half', frozen: (name) => half[name] === true },
    'last two blocks + head': { plan: 'last two blocks + head', frozen: lastTwo.frozen },
    'head only': { plan: 'head only', frozen: (name) => head[name] !== false },
  };
  return plans.map((p) => all[p]);
}

/** The cache build: buildFeatures (the worker's pass) over `images` synthetic 224×224 images at the cut, in seconds. */
async function cacheBuild(files: ModelFiles, images: number): Promise<CpuBenchResult['cache']> {
  const t = await transfer(files);
  try {
    applyFreezePlan(t.model, headOnlyPlan(t.blocks), t.headLayers);
    const set = syntheticImages(images, CPU_BENCH.shape, CPU_BENCH.numClasses, 3);
    const built = await buildFeatures(t.model, t.headLayers, set, t.loaded.preprocessing, CPU_BENCH.cacheBatch);
    const seconds = built.millis / 1000;
    return { images, seconds, imagesPerSecond: images / seconds, featureShape: built.shape };
  } finally {
    dispose(t);
  }
}

/** The wasm backend's heap (WebAssembly memory only grows: after a step it is that step's peak), or null on another backend. */
function wasmHeapBytes(): number | null {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return backend.wasm?.HEAPU8?.buffer.byteLength ?? null;
}

/** One full fine-tuning step at `batch` under tf.profile (its peak bytes); an out-of-memory failure is a row with the error. */
async function memoryStep(files: ModelFiles, batch: number): Promise<MemoryRow> {
  const t = await transfer(files);
  const backend = tf.getBackend();
  try {
    applyFreezePlan(t.model, {}, t.headLayers); // full fine-tune: the model file marks some layers frozen
    // The studio's own check before a run on wasm (core/memoryFit.ts): a step that cannot fit in the heap is refused, not run.
    const fit = backend === 'wasm' ? wasmStepFit(t.model, t.headLayers, { batchSize: batch, optimizer: 'adam' }, {}) : { fits: true as const };
    if (!fit.fits)
      return {
        backend,
        batch,
        peakTensorBytes: null,
        wasmHeapBytes: wasmHeapBytes(),
        msPerStep: null,
        error: `not run: the studio refuses it — "${wasmFitMessage(fit)}"`,
      };
    const x = tf.randomUniform([batch, 224, 224, 3], -1, 1);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: batch }, (_, i) => i % 2),
        'int32',
      ),
      2,
    );
    const optimizer = tf.train.adam(1e-4);
    const variables = t.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const started = performance.now();
    try {
      const info = await tf.profile(async () => {
        const loss = optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(y, t.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          true,
          variables,
        );
        await loss!.data();
        loss!.dispose();
      });
      return { backend, batch, peakTensorBytes: info.peakBytes, wasmHeapBytes: wasmHeapBytes(), msPerStep: performance.now() - started };
    } finally {
      optimizer.dispose();
      tf.dispose([x, y]);
    }
  } catch (error) {
    return { backend, batch, peakTensorBytes: null, wasmHeapBytes: wasmHeapBytes(), msPerStep: null, error: String((error as Error).message ?? error) };
  } finally {
    dispose(t);
  }
}

/** A result with nothing measured yet. */
export function emptyCpuResult(): CpuBenchResult {
  return { backend: tf.getBackend(), detail: '', forward: null, steps: [], cache: null, memory: [], errors: [] };
}

/** Runs every part in turn, logging a line after each; a part that throws is reported and the rest still run. */
export async function benchCpu(
  files: ModelFiles,
  options: {
    steps: number;
    repeats: number;
    cacheImages: number;
    memoryBatches: readonly number[];
    plans?: readonly CpuPlan[];
    /** Parts to run (default all): forward, steps, cache, memory. */
    parts?: readonly string[];
    stepBatch?: number;
  },
  log: (line: string) => void,
  onMemoryPhase: (batch: number | null) => void = () => {},
  /** Filled in part by part (a caller that stops waiting still has what was measured). */
  result: CpuBenchResult = emptyCpuResult(),
): Promise<CpuBenchResult> {
  result.backend = tf.getBackend();
  const attempt = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      result.errors.push(`${name}: ${String((error as Error).stack ?? error)}`);
    }
  };
  const parts = new Set(options.parts ?? ['forward', 'steps', 'cache', 'memory']);
  const stepBatch = options.stepBatch ?? CPU_BENCH.stepBatch;
  if (parts.has('forward'))
    await attempt('forward', async () => {
      result.forward = await forward(files, options.repeats);
      log(`forward, batch ${CPU_BENCH.forwardBatch}: ${result.forward!.msPerImage.toFixed(1)} ms per image`);
    });
  if (parts.has('steps'))
    await attempt('steps', async () => {
      const cases = await planCases(files, options.plans ?? CPU_PLANS);
      const data = syntheticImages(stepBatch * (options.steps + 2), CPU_BENCH.shape, CPU_BENCH.numClasses, 11);
      const rows = await benchFreezePlans(() => loadLayersModelFromFileSet(files), data, CPU_BENCH.numClasses, {
        modelName: 'MobileNetV2',
        steps: options.steps,
        warmup: 1,
        batchSize: stepBatch,
        cases,
        onRow: (row) =>
          log(`${row.plan}, batch ${stepBatch}: ${row.msPerStep === null ? `skipped (${row.skipped})` : `${row.msPerStep.toFixed(0)} ms per step`}`),
      });
      result.steps = rows.map((row) => ({
        ...row,
        plan: row.plan as CpuPlan,
        imagesPerSecond: row.msPerStep ? (1000 * stepBatch) / row.msPerStep : null,
        batch: stepBatch,
      }));
    });
  if (parts.has('cache'))
    await attempt('cache', async () => {
      result.cache = await cacheBuild(files, options.cacheImages);
      log(`cache build, ${options.cacheImages} images: ${result.cache!.seconds.toFixed(1)} s`);
    });
  for (const batch of parts.has('memory') ? options.memoryBatches : []) {
    onMemoryPhase(batch);
    const row = await memoryStep(files, batch);
    onMemoryPhase(null);
    result.memory.push(row);
    log(`memory, full fine-tune batch ${batch}: ${row.error ? `failed: ${row.error}` : `peak tensors ${(row.peakTensorBytes! / 2 ** 20).toFixed(0)} MiB`}`);
  }
  return result;
}
