/**
 * The checks a training config must pass before a run starts, as sentences
 * that quote the value and say what to do. Pure: the worker checks a
 * request with it before touching any weight, and the trainer again.
 */
import type { TrainConfig } from './types';

/** The first problem with `config`, or null when a run can start with it. */
export function trainConfigProblem(config: TrainConfig): string | null {
  if (!(Number.isInteger(config.epochs) && config.epochs >= 1)) return `Epochs is ${config.epochs}; use a whole number of epochs ≥ 1.`;
  if (!(Number.isInteger(config.batchSize) && config.batchSize >= 1)) return `Batch size is ${config.batchSize}; use a whole number ≥ 1.`;
  if (!(Number.isFinite(config.learningRate) && config.learningRate > 0))
    return `The learning rate is ${config.learningRate}; use a number above 0, e.g. 0.001.`;
  const patience = config.earlyStopping?.patience ?? null;
  if (patience !== null && !(Number.isInteger(patience) && patience >= 1)) {
    return `Early-stopping patience must be a whole number of epochs ≥ 1, not ${patience}; set it to 1 or more, or turn early stopping off.`;
  }
  for (const step of config.unfreezeSchedule ?? []) {
    if (!(Number.isInteger(step.epoch) && step.epoch >= 1 && step.epoch < config.epochs)) {
      return `The schedule step "${step.label}" is at epoch ${step.epoch + 1}, outside a run of ${config.epochs} epochs; put it at epoch 2 to ${config.epochs}.`;
    }
    if (step.learningRateFactor !== undefined && !(step.learningRateFactor > 0)) {
      return `The schedule step "${step.label}" sets the learning-rate factor to ${step.learningRateFactor}; use a number above 0.`;
    }
  }
  for (const [layer, multiplier] of Object.entries(config.rateMultipliers ?? {})) {
    if (!(Number.isFinite(multiplier) && multiplier >= 0))
      return `The learning-rate multiplier of '${layer}' is ${multiplier}; use a number ≥ 0 (0 keeps the layer still).`;
  }
  return null;
}
