/**
 * Milliseconds per training step of the built-in model under different
 * freeze plans, measured through the studio's own training loop. Runs in
 * Node (cpu) and in a browser page (webgpu, webgl) unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from '../src/engine/batches';
import { guardFrozenLayers } from '../src/engine/frozenLayers';
import { applyFreezePlan, countWeightParams } from '../src/engine/freeze';
import { buildTransferModel, defaultCutLayer } from '../src/engine/head';
import type { LoadedModel } from '../src/engine/modelFiles';
import { uniformFreezePlan } from '../src/engine/params';
import { summarizeLayers } from '../src/engine/summary';
import { trainModel } from '../src/engine/trainer';

/** One measured configuration. */
export interface StepBenchRow {
  backend: string;
  plan: string;
  msPerStep: number;
  steps: number;
  trainableParams: number;
}

const PLANS = [
  { plan: 'full fine-tune', frozen: false },
  { plan: 'head only (backbone frozen)', frozen: true },
] as const;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * For each plan: loads a fresh copy of the model, builds the studio's head,
 * applies the plan, and times `steps` batches of `batchSize` after `warmup`
 * untimed ones. Returns the median milliseconds per step.
 */
export async function benchFreezePlans(
  load: () => Promise<LoadedModel>,
  data: ImageSet,
  numClasses: number,
  options: { steps: number; warmup: number; batchSize: number },
): Promise<StepBenchRow[]> {
  const rows: StepBenchRow[] = [];
  for (const { plan, frozen } of PLANS) {
    const loaded = await load();
    const { model, headLayers } = buildTransferModel(loaded.model, defaultCutLayer(loaded.model), numClasses, 1);
    guardFrozenLayers(model);
    applyFreezePlan(model, uniformFreezePlan(summarizeLayers(loaded.model), frozen), headLayers);
    const total = options.steps + options.warmup;
    const stamps: number[] = [];
    const batchesPerEpoch = Math.ceil(data.labels.length / options.batchSize);
    let started = performance.now();
    await trainModel(model, data, null, numClasses, loaded.preprocessing, {
      epochs: Math.ceil(total / batchesPerEpoch) + 1,
      batchSize: options.batchSize,
      learningRate: 1e-3,
      seed: 1,
    }, {
      onBatch: (point) => {
        const now = performance.now();
        // Only full batches: the epoch's last, smaller batch would flatter the figure.
        if (point.step >= options.warmup && point.batch < batchesPerEpoch - 1) stamps.push(now - started);
        started = now;
      },
      shouldStop: () => stamps.length >= options.steps,
    });
    rows.push({
      backend: tf.getBackend(),
      plan,
      msPerStep: median(stamps),
      steps: stamps.length,
      trainableParams: countWeightParams(model.trainableWeights),
    });
    model.dispose();
  }
  return rows;
}
