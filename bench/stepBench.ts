/**
 * Milliseconds per training step under different freeze plans, and model
 * load time, measured through the studio's own code (loader, head, freeze,
 * frozen-layer guard, training loop). Runs in Node (cpu) and in a browser
 * page (webgpu, webgl) unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../src/engine/batches';
import { guardFrozenLayers } from '../src/engine/frozenLayers';
import { applyFreezePlan, countWeightParams } from '../src/engine/freeze';
import { buildTransferModel, defaultCutLayer } from '../src/engine/head';
import { loadLayersModelFromFileSet, type LoadedModel } from '../src/engine/modelFiles';
import { createRandom } from '../src/core/random';
import { summarizeLayers } from '../src/engine/summary';
import { trainModel } from '../src/engine/trainer';
import type { FreezePlan, InputShape } from '../src/core/types';

/** One measured configuration; `msPerStep` is null when the case was skipped (`skipped` says why). */
export interface StepBenchRow {
  model: string;
  backend: string;
  plan: string;
  cutLayer: string;
  msPerStep: number | null;
  /** The untimed first step: it includes compiling kernels (shaders) for the backend. */
  firstStepMs: number | null;
  steps: number;
  trainableParams: number;
  skipped?: string;
}

/** A named freeze plan: which pretrained layers (by name) it freezes. */
export interface FreezeCase {
  plan: string;
  frozen: (layerName: string) => boolean;
}

/** Full fine-tune and head only: what the digits bench has always compared. */
export const UNIFORM_CASES: FreezeCase[] = [
  { plan: 'full fine-tune', frozen: () => false },
  { plan: 'head only (backbone frozen)', frozen: () => true },
];

const MOBILENET_LAST_TWO_BLOCKS = /^(block_15_|block_16_|Conv_1$|Conv_1_bn$|out_relu$)/;

/** MobileNetV2's three plans: everything, only the new head, or the last two inverted-residual blocks and the top conv. */
export const MOBILENET_V2_CASES: FreezeCase[] = [
  ...UNIFORM_CASES,
  { plan: 'last two blocks (block_15, block_16, Conv_1)', frozen: (name) => !MOBILENET_LAST_TWO_BLOCKS.test(name) },
];

/** Options of one step bench. `maxStepMs`: a case stops after a timed step longer than this (the first step: 3× this). */
export interface StepBenchOptions {
  modelName: string;
  steps: number;
  warmup: number;
  batchSize: number;
  cases?: FreezeCase[];
  maxStepMs?: number;
  /** Called after each case, so a caller that may time out still has the rows measured so far. */
  onRow?: (row: StepBenchRow) => void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Disposes the transfer model and what it does not share of the base (the original classifier). */
function disposeAll(transfer: tf.LayersModel, base: tf.LayersModel): void {
  const shared = new Set(transfer.layers);
  transfer.dispose();
  for (const layer of base.layers) if (!shared.has(layer)) layer.dispose();
}

/**
 * For each case: loads a fresh copy of the model, builds the studio's head at
 * the default cut, applies the plan, and times `steps` batches of
 * `batchSize` after `warmup` untimed ones. Returns the median milliseconds
 * per step, or a skipped row when a step ran past `maxStepMs`.
 */
export async function benchFreezePlans(
  load: () => Promise<LoadedModel>,
  data: ImageSet,
  numClasses: number,
  options: StepBenchOptions,
): Promise<StepBenchRow[]> {
  const rows: StepBenchRow[] = [];
  const maxStepMs = options.maxStepMs ?? Infinity;
  for (const { plan, frozen } of options.cases ?? UNIFORM_CASES) {
    const loaded = await load();
    const cutLayer = defaultCutLayer(loaded.model);
    const { model, headLayers } = buildTransferModel(loaded.model, cutLayer, numClasses, 1);
    guardFrozenLayers(model);
    const freezePlan: FreezePlan = Object.fromEntries(summarizeLayers(loaded.model).map((layer) => [layer.name, frozen(layer.name)]));
    applyFreezePlan(model, freezePlan, headLayers);
    const total = options.steps + options.warmup;
    const stamps: number[] = [];
    const warmups: number[] = [];
    let tooSlow = null as string | null;
    const count = data.labels.length;
    const batchesPerEpoch = Math.ceil(count / options.batchSize);
    const lastIsPartial = count % options.batchSize !== 0;
    let started = performance.now();
    await trainModel(
      model,
      data,
      null,
      numClasses,
      loaded.preprocessing,
      {
        epochs: Math.ceil(total / batchesPerEpoch) + 1,
        batchSize: options.batchSize,
        learningRate: 1e-3,
        seed: 1,
      },
      {
        onBatch: (point) => {
          const now = performance.now();
          const ms = now - started;
          started = now;
          // Only full batches: an epoch's last, smaller batch would flatter the figure.
          if (lastIsPartial && point.batch === batchesPerEpoch - 1) return;
          if (point.step < options.warmup) warmups.push(ms);
          else stamps.push(ms);
          const limit = point.step === 0 ? 3 * maxStepMs : maxStepMs;
          if (ms > limit)
            tooSlow = `one step took ${(ms / 1000).toFixed(1)} s (limit ${(limit / 1000).toFixed(0)} s${point.step === 0 ? ' for the first step' : ''})`;
        },
        shouldStop: () => stamps.length >= options.steps || tooSlow !== null,
      },
    );
    const row: StepBenchRow = {
      model: options.modelName,
      backend: tf.getBackend(),
      plan,
      cutLayer,
      msPerStep: tooSlow || stamps.length === 0 ? null : median(stamps),
      firstStepMs: warmups[0] ?? stamps[0] ?? null,
      steps: stamps.length,
      trainableParams: countWeightParams(model.trainableWeights),
      ...(tooSlow ? { skipped: tooSlow } : {}),
    };
    rows.push(row);
    options.onRow?.(row);
    disposeAll(model, loaded.model);
  }
  return rows;
}

/** Load time of one model: median over `repeats` loads of files already in memory (parse, dequantize, build). */
export interface LoadBenchRow {
  model: string;
  backend: string;
  msPerLoad: number;
  repeats: number;
  bytes: number;
}

/** Times `loadLayersModelFromFileSet` (the path of a user's picked files) on `files`, disposing each model. */
export async function benchLoad(modelName: string, files: readonly { name: string; buffer: ArrayBuffer }[], repeats: number): Promise<LoadBenchRow> {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    const loaded = await loadLayersModelFromFileSet(files);
    times.push(performance.now() - started);
    loaded.model.dispose();
  }
  return {
    model: modelName,
    backend: tf.getBackend(),
    msPerLoad: median(times),
    repeats,
    bytes: files.reduce((sum, f) => sum + f.buffer.byteLength, 0),
  };
}

/**
 * `count` images of seeded random pixels with labels cycling over
 * `numClasses`: a step costs the same whatever the pixels show.
 */
export function syntheticImages(count: number, shape: InputShape, numClasses: number, seed: number): ImageSet {
  const random = createRandom(seed);
  const pixels = new Uint8Array(count * shape.height * shape.width * shape.channels);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return { pixels, labels: Int32Array.from({ length: count }, (_, i) => i % numClasses), shape };
}

/** The MobileNetV2 step bench's fixed settings, shared by Node and the browser page. */
export const MOBILENET_V2_BENCH = {
  modelName: 'MobileNetV2',
  batchSize: 4,
  warmup: 1,
  steps: 2,
  numClasses: 2,
  loadRepeats: 3,
  /** A case stops after one step slower than this (the first step gets 3×: it compiles kernels). */
  maxStepMs: 60_000,
  shape: { height: 224, width: 224, channels: 3 },
} as const;

/** Load time and the three freeze plans of MobileNetV2 on the current backend, from its two files in memory. */
export async function benchMobileNetV2(
  files: readonly { name: string; buffer: ArrayBuffer }[],
  onRow?: (row: StepBenchRow) => void,
): Promise<{ load: LoadBenchRow; rows: StepBenchRow[] }> {
  const b = MOBILENET_V2_BENCH;
  const load = await benchLoad(b.modelName, files, b.loadRepeats);
  const data = syntheticImages(b.batchSize * (b.warmup + b.steps), b.shape, b.numClasses, 7);
  const rows = await benchFreezePlans(() => loadLayersModelFromFileSet(files), data, b.numClasses, {
    modelName: b.modelName,
    steps: b.steps,
    warmup: b.warmup,
    batchSize: b.batchSize,
    cases: MOBILENET_V2_CASES,
    maxStepMs: b.maxStepMs,
    onRow,
  });
  return { load, rows };
}
