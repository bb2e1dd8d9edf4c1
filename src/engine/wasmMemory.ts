import type * as tf from '@tensorflow/tfjs';
import { wasmBatchFit, type WasmFit } from '../core/memoryFit';
import { estimateStepCost } from '../core/stepCost';
import type { BatchNormOverrides, TrainConfig } from '../core/types';
import { appliedFreezePlan, countWeightParams } from './freeze';
import { summarizeLayers } from './summary';

/**
 * Whether a step of `model`'s current plan at the run's batch size fits in
 * the wasm heap (core/memoryFit.ts), from the step-cost estimate of the
 * transfer model's layers as the plan stands at the run's start.
 */
export function wasmStepFit(
  model: tf.LayersModel,
  headLayers: ReadonlySet<string>,
  config: Pick<TrainConfig, 'batchSize' | 'optimizer' | 'rateMultipliers'>,
  batchNormOverrides: BatchNormOverrides,
): WasmFit {
  const layers = summarizeLayers(model).map((row) => (headLayers.has(row.name) ? { ...row, origin: 'head' as const } : row));
  const plan = appliedFreezePlan(model, headLayers);
  const weightBytes = countWeightParams(model.weights) * 4;
  const costAt = (batchSize: number) =>
    estimateStepCost({ layers, plan, batchNormOverrides, rateMultipliers: config.rateMultipliers, optimizer: config.optimizer, batchSize });
  return wasmBatchFit(costAt, config.batchSize, weightBytes);
}
