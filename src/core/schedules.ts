import type { TrainConfig } from './types';

/** Fraction of the run spent warming up in the one-cycle schedule. */
export const ONE_CYCLE_WARMUP = 0.3;
/** The one-cycle schedule starts at `learningRate / ONE_CYCLE_START_DIVISOR`. */
export const ONE_CYCLE_START_DIVISOR = 25;
/** The one-cycle schedule ends at `learningRate / ONE_CYCLE_END_DIVISOR`. */
export const ONE_CYCLE_END_DIVISOR = 1e4;

/** Half a cosine from 1 (progress 0) down to 0 (progress 1). */
function cosineFactor(progress: number): number {
  return 0.5 * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, progress))));
}

/**
 * The learning rate of batch `step` (0-based, counted over the whole run) of
 * a run of `totalSteps` batches, for `config.schedule` (default 'constant'):
 * - constant: `learningRate` at every step;
 * - cosine: cosine decay from `learningRate` at step 0 towards 0 at `totalSteps`;
 * - one-cycle: linear warm-up over the first 30% of the steps from
 *   `learningRate / 25` to `learningRate`, then cosine decay down to
 *   `learningRate / 1e4` at `totalSteps`.
 * Pure: the trainer calls it before every batch.
 */
export function learningRateAt(config: Pick<TrainConfig, 'learningRate' | 'schedule'>, step: number, totalSteps: number): number {
  const lr = config.learningRate;
  const schedule = config.schedule ?? 'constant';
  if (schedule === 'constant' || totalSteps <= 0) return lr;
  if (schedule === 'cosine') return lr * cosineFactor(step / totalSteps);
  const warmup = ONE_CYCLE_WARMUP * totalSteps;
  const start = lr / ONE_CYCLE_START_DIVISOR;
  if (step < warmup) return start + (lr - start) * (step / warmup);
  const end = lr / ONE_CYCLE_END_DIVISOR;
  return end + (lr - end) * cosineFactor((step - warmup) / (totalSteps - warmup));
}
