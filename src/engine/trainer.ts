import * as tf from '@tensorflow/tfjs';
import { evaluateSource, imageSource, type BatchSource } from './batchSource';
import type { ImageSet } from './batches';
import { appliedFreezePlan, applyFreezePlan, countWeightParams, describeVariables } from './freeze';
import { setBatchNormOverrides } from './frozenLayers';
import { planChangeAt } from '../core/planChange';
import { createRandom, shuffleInPlace } from '../core/random';
import { withStillLayers } from '../core/rateMultipliers';
import { learningRateAt } from '../core/schedules';
import { trainConfigProblem } from '../core/trainConfigCheck';
import { createTrainableSet, type TrainableSet } from './trainableSet';
import { trainStep } from './trainStep';
import { releaseFrozenPrefixes } from './frozenPrefix';
import type { RunTarget, TrainHooks, TrainOptions, TrainResult, TrainableRun } from './trainTypes';
import type { Preprocessing, TrainConfig, UnfreezeStep } from '../core/types';
import { allFinite, createWeightKeeper, type Snapshot, type WeightKeeper } from './weightKeeper';

/*
 * The training loop, composed of small units: batchSource.ts (batches and
 * evaluation), trainableSet.ts (fresh optimizers per set and multiplier),
 * trainStep.ts (one gradient step), planChange.ts (what changes at a batch
 * boundary), weightKeeper.ts (start / last good / best copies, restore).
 */

export type { RunCheckpoint, RunTarget, TrainHooks, TrainOptions, TrainResult, TrainableRun } from './trainTypes';

/**
 * Trains the trainable variables of `model` (as set by the freeze plan
 * already applied) on `train`; see trainRun for everything it does. Frozen
 * BatchNorm layers must already be guarded (see guardFrozenLayers).
 */
export async function trainModel(
  model: tf.LayersModel,
  train: ImageSet,
  validation: ImageSet | null,
  numClasses: number,
  preprocessing: Preprocessing,
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  return trainOnSource(
    model,
    imageSource(train, numClasses, preprocessing),
    validation ? imageSource(validation, numClasses, preprocessing) : null,
    config,
    hooks,
  );
}

/**
 * trainModel's loop over any BatchSource: the same optimizer, schedule,
 * batch order (for the same seed and count), early stopping, best-weights
 * and NaN guard. `model` maps the source's inputs to class probabilities;
 * with cached features it is a head-only model sharing the transfer
 * model's head layers (featureCache.ts).
 */
export async function trainOnSource(
  model: tf.LayersModel,
  train: BatchSource,
  validation: BatchSource | null,
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  return trainRun({ model, headLayers: new Set(), currentTarget: () => ({ model, train, validation }) }, config, hooks);
}

/** The state of one run as its loop goes. */
interface RunLoop {
  run: TrainableRun;
  config: TrainConfig;
  hooks: TrainHooks;
  steps: readonly UnfreezeStep[];
  patience: number | null;
  target: RunTarget;
  set: TrainableSet | null;
  keeper: WeightKeeper;
  /** The learning-rate factor of the last schedule step that set one. */
  factor: number;
  /** Batches trained so far over the run. */
  step: number;
  count: number;
  batchSize: number;
  totalSteps: number;
  order: Int32Array;
  random: () => number;
  yieldNow: () => Promise<void>;
  epochsCompleted: number;
  epochsSinceBest: number;
  lastValidation: { loss: number; accuracy: number } | null;
  stopped: boolean;
  stoppedAtEpochStart: boolean;
  stoppedEarly: boolean;
  /** Why the run ended on its own (a change that left nothing to train); null otherwise. */
  endNote: string | null;
  failure: string | null;
}

/** One epoch's training sums. */
interface EpochTally {
  lossSum: number;
  correctSum: number;
  seen: number;
  millis: number;
}

/**
 * Lets queued messages (a Stop) run: `await tensor.data()` on the cpu backend
 * resolves as a microtask, so without a macrotask turn now and then the
 * worker would never see them. Yields at most every `intervalMs`.
 */
function createYielder(intervalMs: number): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < intervalMs) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    last = performance.now();
  };
}

/** A learning rate ten times lower, written plainly (0.001 → 0.0001). */
function lowerRate(rate: number): string {
  return String(Number((rate / 10).toPrecision(2)));
}

function weightsPhrase(snapshot: Snapshot): string {
  return snapshot.epoch === 0 ? 'the weights from the start of the run were restored' : `the weights of epoch ${snapshot.epoch} were restored`;
}

/** The learning rate of step `step`: the schedule's (learningRateAt) × the factor in force. */
function rateAt(loop: RunLoop, step: number): number {
  return learningRateAt(loop.config, step, loop.totalSteps) * loop.factor;
}

function hasValidation(loop: RunLoop): boolean {
  return loop.target.validation !== null && loop.target.validation.count > 0;
}

/** The loop's state before the first batch: the target, its optimizers, a fixed batch size, the seeded order. */
function startLoop(run: TrainableRun, config: TrainConfig, hooks: TrainHooks, options: TrainOptions): RunLoop {
  const target = run.currentTarget();
  const count = target.train.count;
  const batchSize = Math.max(1, Math.min(config.batchSize, count));
  const resumeAt = options.resume?.epoch ?? 0;
  const loop: RunLoop = {
    run,
    config,
    hooks,
    // A resumed run already holds the plan of its checkpoint: only the steps of later epochs are still due.
    steps: (config.unfreezeSchedule ?? []).filter((step) => step.epoch >= resumeAt),
    patience: config.earlyStopping?.patience ?? null,
    target,
    set: null,
    keeper: createWeightKeeper(),
    factor: options.resume?.learningRateFactor ?? 1,
    step: resumeAt * Math.ceil(count / batchSize),
    count,
    batchSize,
    totalSteps: config.epochs * Math.ceil(count / batchSize),
    order: Int32Array.from({ length: count }, (_, i) => i),
    random: createRandom(config.seed),
    yieldNow: createYielder(25),
    epochsCompleted: resumeAt,
    epochsSinceBest: 0,
    lastValidation: null,
    stopped: false,
    stoppedAtEpochStart: false,
    stoppedEarly: false,
    endNote: null,
    failure: null,
  };
  // The same batch order as the uninterrupted run: the seeded shuffle of each epoch already done is replayed.
  for (let epoch = 0; epoch < resumeAt; epoch++) shuffleInPlace(loop.order, loop.random);
  loop.set = createTrainableSet(target.model, config, rateAt(loop, loop.step));
  if (!loop.set)
    throw new Error(
      config.rateMultipliers ? 'Nothing to train: every trainable layer has a learning-rate multiplier of 0.' : 'Nothing to train: every layer is frozen.',
    );
  return loop;
}

/**
 * Applies the schedule steps and live plan due before batch `batch` of
 * `epoch`: the new plan (layers at multiplier 0 kept frozen), fresh
 * optimizers for the new set, a new target, the new variables covered by
 * the weight copies. Returns false when the plan leaves nothing to train:
 * the run ends there.
 */
async function applyBoundary(loop: RunLoop, epoch: number, batch: number): Promise<boolean> {
  const { run, config, hooks } = loop;
  const previous = appliedFreezePlan(run.model);
  const change = planChangeAt(previous, loop.steps, epoch, batch, hooks.takeLivePlan?.() ?? null, loop.factor);
  if (change === null) return true;
  if (change.batchNormOverrides) setBatchNormOverrides(run.model, change.batchNormOverrides);
  applyFreezePlan(run.model, withStillLayers(change.plan, config.rateMultipliers), run.headLayers);
  const applied = appliedFreezePlan(run.model);
  loop.factor = change.learningRateFactor;
  const next = run.currentTarget();
  const set = createTrainableSet(next.model, config, rateAt(loop, loop.step));
  if (set === null) {
    loop.endNote = `The change at epoch ${epoch + 1}, batch ${batch + 1} (${change.label}) left nothing to train, so the run ended there.`;
    return false;
  }
  loop.set!.dispose();
  loop.set = set;
  loop.target = next;
  await loop.keeper.track(next.model, set.variables);
  hooks.onTrainableChange?.({
    step: loop.step,
    epoch,
    batch,
    cause: change.cause,
    label: change.label,
    trainableParams: countWeightParams(set.variables),
    learningRateFactor: loop.factor,
    optimizerVariables: describeVariables(set.variables),
    unfrozen: Object.keys(applied).filter((name) => previous[name] && !applied[name]),
    frozen: Object.keys(applied).filter((name) => !previous[name] && applied[name]),
  });
  return true;
}

/** Waits while the run is paused at this boundary; returns the milliseconds waited (kept out of the epoch's time). */
async function waitWhilePaused(hooks: TrainHooks): Promise<number> {
  const gate = hooks.pauseGate?.() ?? null;
  if (!gate) return 0;
  const pausedAt = performance.now();
  await gate;
  return performance.now() - pausedAt;
}

/**
 * Trains one epoch in a seeded order, batch by batch; at each boundary:
 * pause gate, stop, changes of the trainable set, the step's learning rate.
 * Returns the epoch's sums, or null when it did not complete (stopped,
 * ended by a change, or a non-finite loss: then `loop.failure` says so).
 */
async function trainEpoch(loop: RunLoop, epoch: number): Promise<EpochTally | null> {
  const { hooks, count, batchSize } = loop;
  shuffleInPlace(loop.order, loop.random);
  const started = performance.now();
  const tally: EpochTally = { lossSum: 0, correctSum: 0, seen: 0, millis: 0 };
  let pausedMillis = 0;
  for (let start = 0, batch = 0; start < count; start += batchSize, batch++) {
    pausedMillis += await waitWhilePaused(hooks);
    if (hooks.shouldStop?.() || !(await applyBoundary(loop, epoch, batch))) {
      loop.stopped = true;
      loop.stoppedAtEpochStart = batch === 0;
      return null;
    }
    loop.set!.setRate(rateAt(loop, loop.step));
    const indices = loop.order.subarray(start, Math.min(start + batchSize, count));
    const { xs, ys } = loop.target.train.batch(indices);
    const { loss, correct } = await trainStep(loop.target.model, xs, ys, loop.set!);
    if (Number.isFinite(loss)) {
      tally.lossSum += loss * indices.length;
      tally.correctSum += correct;
      tally.seen += indices.length;
      hooks.onBatch?.({ step: loop.step, epoch, batch, loss });
    }
    loop.step++;
    if (!Number.isFinite(loss)) {
      loop.failure =
        `The loss became ${Number.isNaN(loss) ? 'NaN' : 'infinite'} at epoch ${epoch + 1}, batch ${batch + 1}; ` +
        `the run was stopped and ${weightsPhrase(loop.keeper.lastGood)}. ` +
        `Lower the learning rate (e.g. to ${lowerRate(loop.config.learningRate)}) and train again.`;
      return null;
    }
    await loop.yieldNow();
  }
  tally.millis = performance.now() - started - pausedMillis;
  return tally;
}

/**
 * After a complete epoch: copies the weights (non-finite ones fail the run),
 * validates, keeps the best copy, reports the epoch, and decides early
 * stopping. Returns false when the run ends here.
 */
async function endEpoch(loop: RunLoop, epoch: number, tally: EpochTally): Promise<boolean> {
  const snapshot = await loop.keeper.capture(epoch + 1);
  if (!allFinite(snapshot)) {
    loop.failure =
      `The weights became NaN or infinite during epoch ${epoch + 1}; the run was stopped and ${weightsPhrase(loop.keeper.lastGood)}. ` +
      `Lower the learning rate (e.g. to ${lowerRate(loop.config.learningRate)}) and train again.`;
    return false;
  }
  const val = hasValidation(loop) ? await evaluateSource(loop.target.model, loop.target.validation!, loop.batchSize) : null;
  snapshot.validation = val;
  const improved = loop.keeper.accept(snapshot);
  loop.lastValidation = val;
  loop.epochsCompleted++;
  if (val !== null) loop.epochsSinceBest = improved ? 0 : loop.epochsSinceBest + 1;
  loop.hooks.onEpoch?.({
    epoch,
    trainLoss: tally.lossSum / tally.seen,
    trainAccuracy: tally.correctSum / tally.seen,
    validationLoss: val?.loss ?? null,
    validationAccuracy: val?.accuracy ?? null,
    millis: tally.millis,
  });
  loop.hooks.onCheckpoint?.({ epoch: epoch + 1, values: snapshot.values, learningRateFactor: loop.factor });
  if (loop.patience !== null && val !== null && loop.epochsSinceBest >= loop.patience && epoch + 1 < loop.config.epochs) {
    loop.stoppedEarly = true;
    return false;
  }
  return true;
}

/**
 * Which weights the run ends with: the last good ones after a failure; the
 * best ones when the user stopped or early stopping is on (also when
 * patience runs out on the last epoch); the last complete epoch when a
 * change ended the run mid-epoch; else the final weights. Then the result,
 * with the validation of the weights held.
 */
async function settle(loop: RunLoop): Promise<TrainResult> {
  const { keeper } = loop;
  const best = keeper.best;
  let holds: Snapshot | null = null;
  let restored = false;
  if (loop.failure !== null) {
    keeper.restore(keeper.lastGood);
    holds = keeper.lastGood;
    restored = true;
  } else if ((loop.stopped || loop.stoppedEarly || loop.patience !== null) && best !== null) {
    if (best !== keeper.lastGood || loop.stopped) {
      // A stop mid-epoch moved the weights past lastGood; restore the best in both cases.
      keeper.restore(best);
      restored = true;
    }
    holds = best;
  } else if (loop.endNote !== null && !loop.stoppedAtEpochStart) {
    keeper.restore(keeper.lastGood);
    holds = keeper.lastGood;
    restored = true;
  } else if (!loop.stopped || loop.stoppedAtEpochStart) {
    holds = keeper.lastGood;
  }
  const measured = holds?.validation ?? null;
  const final =
    measured ??
    (hasValidation(loop) && (loop.stopped || loop.failure !== null || loop.lastValidation === null)
      ? await evaluateSource(loop.target.model, loop.target.validation!, loop.batchSize)
      : loop.lastValidation);
  return {
    stopped: loop.stopped,
    stoppedEarly: loop.stoppedEarly,
    epochsCompleted: loop.epochsCompleted,
    batches: loop.step,
    restoredEpoch: holds?.epoch ?? null,
    restored,
    failure: loop.failure,
    endNote: loop.endNote,
    validationLoss: final?.loss ?? null,
    validationAccuracy: final?.accuracy ?? null,
    optimizerVariables: describeVariables(loop.set!.variables),
  };
}

/**
 * Trains `run` with fresh optimizers (Adam, SGD or SGD with momentum; one
 * per learning-rate multiplier, 0 = frozen for the run) over an explicit
 * variable list, the rate set every step from `config.schedule` × the
 * schedule step's factor. At each batch boundary it honours a pause, a
 * stop, the unfreezing schedule's steps (first batch of their epoch) and a
 * live plan, each change with new optimizers and `run.currentTarget()` asked
 * again. After each epoch it copies the weights, validates and keeps the
 * best copy; early stopping ends the run after `patience` epochs without a
 * better validation loss. A non-finite loss or weight stops the run and
 * restores the last good weights. Frozen weights are never copied nor
 * assigned; numTensors stays flat. `options.resume` goes on from an
 * interrupted run's checkpoint (onCheckpoint) as the run would have.
 */
export async function trainRun(run: TrainableRun, config: TrainConfig, hooks: TrainHooks = {}, options: TrainOptions = {}): Promise<TrainResult> {
  const problem = trainConfigProblem(config);
  if (problem) throw new Error(problem);
  // Layers at multiplier 0 are frozen for the run (withStillLayers), here and at every change.
  if (Object.values(config.rateMultipliers ?? {}).includes(0))
    applyFreezePlan(run.model, withStillLayers(appliedFreezePlan(run.model), config.rateMultipliers), run.headLayers);
  const loop = startLoop(run, config, hooks, options);
  try {
    await loop.keeper.track(loop.target.model, loop.set!.variables);
    for (let epoch = loop.epochsCompleted; epoch < config.epochs; epoch++) {
      const tally = await trainEpoch(loop, epoch);
      if (tally === null || !(await endEpoch(loop, epoch, tally))) break;
      await loop.yieldNow();
    }
    return await settle(loop);
  } finally {
    loop.set!.dispose();
    releaseFrozenPrefixes();
  }
}
