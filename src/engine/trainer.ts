import * as tf from '@tensorflow/tfjs';
import { crossEntropy, countCorrect, imageCount, makeBatch, type ImageSet } from './batches';
import { applyFreezePlan, countWeightParams, describeVariables, trainableVariables } from './freeze';
import { runsInTrainingMode, setBatchNormOverrides } from './frozenLayers';
import { createRandom, shuffleInPlace } from './random';
import { learningRateAt } from './schedules';
import { withStillLayers } from './rateMultipliers';
import { trainConfigProblem } from './trainConfigCheck';
import type { BatchNormOverrides, BatchPoint, EpochMetrics, FreezePlan, Preprocessing, TrainConfig, TrainableChange } from './types';

/** Callbacks a training run reports through; all optional. */
export interface TrainHooks {
  /** After every batch, with its loss. */
  onBatch?(point: BatchPoint): void;
  /** After every epoch, with train and validation metrics. */
  onEpoch?(metrics: EpochMetrics): void;
  /** Polled at every batch boundary; true ends the run there. */
  shouldStop?(): boolean;
  /** Polled at every batch boundary: a live freeze plan (and BN overrides) to apply there, handed over once; null when none. */
  takeLivePlan?(): { plan: FreezePlan; batchNormOverrides?: BatchNormOverrides } | null;
  /** After every change of the trainable set (schedule step or live plan), before the first batch trained with it. */
  onTrainableChange?(change: TrainableChange): void;
  /** Polled at every batch boundary: a promise to wait for while the run is paused, or null to go on. */
  pauseGate?(): Promise<void> | null;
}

/** How a run ended. */
export interface TrainResult {
  /** The user stopped the run (shouldStop returned true). */
  stopped: boolean;
  /** Early stopping ended the run: no better validation loss for `patience` epochs. */
  stoppedEarly: boolean;
  epochsCompleted: number;
  batches: number;
  /**
   * Which epoch's end-of-epoch weights the model holds now, counted from 1
   * (0: the weights of the start of the run); null when it holds weights from
   * the middle of an epoch (a run stopped mid-epoch with nothing to restore).
   */
  restoredEpoch: number | null;
  /** Whether weights were written back at the end (best epoch, or last good weights after a non-finite loss). */
  restored: boolean;
  /** Why the run failed (a non-finite loss), saying what to try; null when it did not. */
  failure: string | null;
  /** Why the run ended early on its own other than early stopping (a change that left nothing to train); null otherwise. */
  endNote: string | null;
  /** Validation metrics of the weights as they are at the end (null without a validation set). */
  validationLoss: number | null;
  validationAccuracy: number | null;
  /** The variables the optimizer updated, in order. */
  optimizerVariables: { name: string; shape: number[] }[];
}

/**
 * Where a run's batches come from: images mapped through makeBatch, or
 * feature vectors cached from a frozen prefix (see featureCache.ts).
 */
export interface BatchSource {
  /** Number of rows (images). */
  count: number;
  /** The model inputs and [b, numClasses] one-hot labels of the rows at `indices`; the caller disposes both. */
  batch(indices: ArrayLike<number>): { xs: tf.Tensor; ys: tf.Tensor2D };
}

/** A BatchSource over uint8 images, mapped to `preprocessing.range` (makeBatch). */
export function imageSource(set: ImageSet, numClasses: number, preprocessing: Preprocessing): BatchSource {
  return { count: imageCount(set), batch: (indices) => makeBatch(set, indices, numClasses, preprocessing) };
}

/** Evaluation of `source` in inference mode: mean loss and accuracy. */
export async function evaluateSource(
  model: tf.LayersModel,
  source: BatchSource,
  batchSize: number,
): Promise<{ loss: number; accuracy: number }> {
  const count = source.count;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const { xs, ys } = source.batch(indices);
    const [lossTensor, correctTensor] = tf.tidy(() => {
      const probs = model.apply(xs, { training: false }) as tf.Tensor;
      return [crossEntropy(ys, probs).mul(indices.length), countCorrect(ys, probs)];
    });
    const [lossValue, correctValue] = await Promise.all([lossTensor.data(), correctTensor.data()]);
    tf.dispose([xs, ys, lossTensor, correctTensor]);
    lossSum += lossValue[0];
    correct += correctValue[0];
  }
  return { loss: lossSum / Math.max(count, 1), accuracy: correct / Math.max(count, 1) };
}

/** Evaluation of `set` in inference mode: mean loss and accuracy. */
export async function evaluate(
  model: tf.LayersModel,
  set: ImageSet,
  numClasses: number,
  preprocessing: Preprocessing,
  batchSize: number,
): Promise<{ loss: number; accuracy: number }> {
  return evaluateSource(model, imageSource(set, numClasses, preprocessing), batchSize);
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

/** Momentum of the 'momentum' optimizer. */
export const MOMENTUM = 0.9;

/** A fresh optimizer for one run (TFJS-FACTS #2: never reused across variable sets). */
export function createOptimizer(config: TrainConfig): tf.Optimizer {
  switch (config.optimizer ?? 'adam') {
    case 'sgd':
      return tf.train.sgd(config.learningRate);
    case 'momentum':
      return tf.train.momentum(config.learningRate, MOMENTUM);
    case 'adam':
      return tf.train.adam(config.learningRate);
    default:
      throw new Error(`Unknown optimizer "${String(config.optimizer)}": use 'adam', 'sgd' or 'momentum'.`);
  }
}

/**
 * Sets the learning rate of the next step. SGD and Momentum multiply by a
 * scalar tensor cached by `setLearningRate` (assigning the field alone does
 * nothing there); Adam reads its `learningRate` number at every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  // Not `instanceof`: tfjs's Optimizer[Symbol.hasInstance] is duck-typed, so every optimizer is "an SGDOptimizer".
  const sgd = optimizer as unknown as { setLearningRate?: (rate: number) => void; learningRate: number };
  if (typeof sgd.setLearningRate === 'function') sgd.setLearningRate(rate);
  else sgd.learningRate = rate;
}

/** Disposes `optimizer` entirely: MomentumOptimizer.dispose forgets the learning-rate scalar it inherits from SGD. */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  if (optimizer.getClassName() === 'Momentum') {
    const c = (optimizer as unknown as { c?: tf.Scalar }).c;
    if (c && !c.isDisposed) c.dispose();
  }
}

/** Every leaf layer of `model` (nested models opened), in model order. */
function leafLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) out.push(...leafLayers(layer));
    else if (layer.getClassName() !== 'InputLayer') out.push(layer);
  }
  return out;
}

/**
 * The variables a run changes: the trainable ones, plus the non-trainable
 * weights (BatchNorm moving statistics) of layers that run in training mode
 * (trainable, or a frozen BN layer set to train its statistics). The weights
 * of other frozen layers are never included, so a restore never assigns them.
 */
function runStateVariables(model: tf.LayersModel, trainable: readonly tf.Variable[]): tf.Variable[] {
  const out = new Set<tf.Variable>(trainable);
  for (const layer of leafLayers(model)) {
    if (runsInTrainingMode(layer)) for (const weight of layer.nonTrainableWeights) out.add(weight.read() as tf.Variable);
  }
  return [...out];
}

/** CPU-side copies of variables' values at the end of an epoch (`epoch` counted from 1; 0 = start of the run). */
interface Snapshot {
  epoch: number;
  values: Map<tf.Variable, tf.TypedArray>;
  validation: { loss: number; accuracy: number } | null;
}

/** CPU copies of `variables`, read back concurrently (one GPU round trip per batch of reads, not per variable). */
async function readValues(variables: Iterable<tf.Variable>): Promise<Map<tf.Variable, tf.TypedArray>> {
  const list = [...variables];
  const data = await Promise.all(list.map((variable) => variable.data()));
  return new Map(list.map((variable, i) => [variable, data[i].slice() as tf.TypedArray]));
}

function allFinite(snapshot: Snapshot): boolean {
  for (const values of snapshot.values.values()) if (!values.every((v) => Number.isFinite(v))) return false;
  return true;
}

function restoreSnapshot(snapshot: Snapshot): void {
  tf.tidy(() => {
    for (const [variable, values] of snapshot.values) variable.assign(tf.tensor(values, variable.shape, variable.dtype));
  });
}

/** The layer each weight variable of `model` belongs to, by variable. */
function layerOfVariables(model: tf.LayersModel): Map<tf.Variable, string> {
  const out = new Map<tf.Variable, string>();
  for (const layer of leafLayers(model)) for (const weight of layer.weights) out.set(weight.read() as tf.Variable, layer.name);
  return out;
}

/** One optimizer of a trainable set: the variables sharing one learning-rate multiplier. */
interface OptimizerGroup {
  multiplier: number;
  variables: tf.Variable[];
  optimizer: tf.Optimizer;
  /** The rate last set on the optimizer. */
  rate: number;
}

/**
 * Fresh optimizers for the trainable variables of `model`: one per distinct
 * multiplier of `config.rateMultipliers` (by layer name; default 1), each at
 * base rate × multiplier. Variables of multiplier 0 are left out: they get no
 * gradient and never move. Null when nothing is left to train.
 */
function createOptimizerGroups(model: tf.LayersModel, config: TrainConfig, rate: number): OptimizerGroup[] | null {
  const layerOf = layerOfVariables(model);
  const byMultiplier = new Map<number, tf.Variable[]>();
  for (const variable of trainableVariables(model)) {
    const layer = layerOf.get(variable) ?? '';
    const multiplier = config.rateMultipliers?.[layer] ?? 1;
    if (!(Number.isFinite(multiplier) && multiplier >= 0)) {
      throw new Error(`The learning-rate multiplier of '${layer}' is ${multiplier}; use a number ≥ 0 (0 keeps the layer still).`);
    }
    if (multiplier === 0) continue;
    if (!byMultiplier.has(multiplier)) byMultiplier.set(multiplier, []);
    byMultiplier.get(multiplier)!.push(variable);
  }
  if (byMultiplier.size === 0) return null;
  return [...byMultiplier].map(([multiplier, variables]) => ({
    multiplier,
    variables,
    optimizer: createOptimizer({ ...config, learningRate: rate * multiplier }),
    rate: rate * multiplier,
  }));
}

/** The variables a run of `config` on `model` (flags as set now) updates, in model order: trainable ones whose layer's rate multiplier is not 0. */
export function optimizedVariables(model: tf.LayersModel, config: Pick<TrainConfig, 'rateMultipliers'>): { name: string; shape: number[] }[] {
  const layerOf = layerOfVariables(model);
  const kept = trainableVariables(model).filter((v) => (config.rateMultipliers?.[layerOf.get(v) ?? ''] ?? 1) !== 0);
  return describeVariables(kept);
}

function disposeGroups(groups: readonly OptimizerGroup[]): void {
  for (const group of groups) disposeOptimizer(group.optimizer);
}

/** The freeze plan the layers' flags state now (every leaf layer named). */
function currentPlan(model: tf.LayersModel): FreezePlan {
  const plan: FreezePlan = {};
  for (const layer of leafLayers(model)) plan[layer.name] = !layer.trainable;
  return plan;
}

/** A learning rate ten times lower, written plainly (0.001 → 0.0001). */
function lowerRate(rate: number): string {
  return String(Number((rate / 10).toPrecision(2)));
}

function weightsPhrase(snapshot: Snapshot): string {
  return snapshot.epoch === 0 ? 'the weights from the start of the run were restored' : `the weights of epoch ${snapshot.epoch} were restored`;
}

/**
 * Trains the trainable variables of `model` (as set by the freeze plan
 * already applied) on `train`, with a fresh optimizer (Adam, SGD or SGD with
 * momentum) disposed at the end, and an explicit variable list so nothing
 * outside the model moves. The learning rate follows `config.schedule`
 * (learningRateAt), set before every batch. Batches keep a fixed size except
 * the epoch's last one. Frozen BatchNorm layers must already be guarded (see
 * guardFrozenLayers).
 *
 * With a validation set, a CPU copy of the run's variables is kept at the
 * best validation loss so far; early stopping (`config.earlyStopping`) ends
 * the run after `patience` epochs without improvement, and an early-stopped
 * or user-stopped run ends holding those best weights. A run that finishes
 * all its epochs keeps its final weights. A non-finite loss (or non-finite
 * weights after an epoch) stops the run at once, restores the last good
 * weights (end of the last completed epoch, or the start of the run) and
 * reports `failure`. Frozen weights are never copied nor assigned.
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
  return trainRun({ model, headLayers: new Set(), target: () => ({ model, train, validation }) }, config, hooks);
}

/** What a run trains on for the flags set now: the model to call and its batch sources. */
export interface RunTarget {
  model: tf.LayersModel;
  train: BatchSource;
  validation: BatchSource | null;
}

/** A run whose trainable set may change at batch boundaries (schedule steps, live plans). */
export interface TrainableRun {
  /** The full model the freeze plans apply to (the transfer model), with the start plan applied and frozen layers guarded. */
  model: tf.LayersModel;
  /** Layers trained whatever a plan says (the studio's head). */
  headLayers: ReadonlySet<string>;
  /**
   * The model and sources to train for the flags as they are now: called at
   * the start and after every change (a head-only model on cached features
   * while everything below the head is frozen, the full model otherwise).
   * Its models must share `model`'s variables.
   */
  target(): RunTarget;
}

/** "a, b and 2 more" for a change's label. */
function nameList(names: readonly string[]): string {
  if (names.length <= 2) return names.join(' and ');
  return `${names[0]}, ${names[1]} and ${names.length - 2} more`;
}

/**
 * Trains `run` (see trainModel for the optimizer, schedule, early stopping,
 * best weights and NaN guard) and lets the trainable set change at batch
 * boundaries:
 * - at the first batch of epoch e, every step of `config.unfreezeSchedule`
 *   with `epoch === e` makes its layers trainable and sets the learning-rate
 *   factor it names;
 * - at any boundary, a live plan from `hooks.takeLivePlan` replaces the
 *   freeze plan (and the BatchNorm overrides).
 * Each change applies the plan to `run.model`, disposes every optimizer and
 * creates fresh ones for the new variable set (TFJS-FACTS #2: an optimizer is
 * never reused across variable sets), asks `run.target()` again, and reports
 * the change through `hooks.onTrainableChange`. `config.rateMultipliers`
 * gives each layer's variables their own optimizer at base rate × multiplier
 * (0: the layer is not updated at all). While `hooks.pauseGate` returns a
 * promise the run waits at the boundary; the wait is not counted in the
 * epoch's time. The best-weights and last-good copies cover every variable
 * the run has changed so far, so a restore after a change puts back the
 * newly unfrozen layers too, and never assigns a layer that stayed frozen.
 */
export async function trainRun(run: TrainableRun, config: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const problem = trainConfigProblem(config);
  if (problem) throw new Error(problem);
  const patience = config.earlyStopping?.patience ?? null;
  const steps = [...(config.unfreezeSchedule ?? [])];
  // Layers at multiplier 0 are frozen for the run (withStillLayers), here and at every change below.
  if (Object.values(config.rateMultipliers ?? {}).includes(0)) applyFreezePlan(run.model, withStillLayers(currentPlan(run.model), config.rateMultipliers), run.headLayers);
  let target = run.target();
  let factor = 1;
  const random = createRandom(config.seed);
  const yieldNow = createYielder(25);
  const count = target.train.count;
  const batchSize = Math.max(1, Math.min(config.batchSize, count));
  const totalSteps = config.epochs * Math.ceil(count / batchSize);
  const rateAt = (step: number) => learningRateAt(config, step, totalSteps) * factor;
  let groups = createOptimizerGroups(target.model, config, rateAt(0)) ?? (() => {
    throw new Error(config.rateMultipliers ? 'Nothing to train: every trainable layer has a learning-rate multiplier of 0.' : 'Nothing to train: every layer is frozen.');
  })();
  let variables = groups.flatMap((g) => g.variables);
  // Every variable the run has changed or may change, and the values they had at the start of the run.
  const tracked = new Set<tf.Variable>();
  let lastGood: Snapshot = { epoch: 0, values: new Map(), validation: null };
  let best: Snapshot | null = null;
  const track = async () => {
    const added = runStateVariables(target.model, variables).filter((v) => !tracked.has(v));
    if (added.length === 0) return;
    // Newly tracked variables were frozen until now: their current values are those of the start of the run.
    const values = await readValues(added);
    for (const v of added) {
      tracked.add(v);
      lastGood.values.set(v, values.get(v)!);
      if (best && best !== lastGood) best.values.set(v, values.get(v)!);
    }
  };
  const order = Int32Array.from({ length: count }, (_, i) => i);
  let step = 0;
  let epochsCompleted = 0;
  let stopped = false;
  let stoppedEarly = false;
  let stoppedAtEpochStart = false;
  /** Why the run ended before its last epoch other than a user stop, early stopping or a failure; null otherwise. */
  let endNote: string | null = null;
  let failure: string | null = null;
  let lastValidation: { loss: number; accuracy: number } | null = null;
  let epochsSinceBest = 0;
  const hasValidation = () => target.validation !== null && target.validation.count > 0;

  /**
   * Applies the schedule steps and live plan due at this boundary, if any: new plan, new optimizers, new target.
   * Returns false when the new plan leaves nothing to train: the run ends there.
   */
  const applyChanges = async (epoch: number, batch: number): Promise<boolean> => {
    const due = batch === 0 ? steps.filter((s) => s.epoch === epoch) : [];
    const live = hooks.takeLivePlan?.() ?? null;
    if (due.length === 0 && live === null) return true;
    const plan = currentPlan(run.model);
    const labels: string[] = [];
    for (const s of due) {
      for (const name of s.unfreeze) plan[name] = false;
      if (s.learningRateFactor !== undefined) factor = s.learningRateFactor;
      labels.push(s.label);
    }
    if (live) {
      const before = { ...plan };
      Object.assign(plan, live.plan);
      if (live.batchNormOverrides) setBatchNormOverrides(run.model, live.batchNormOverrides);
      const unfrozen = Object.keys(live.plan).filter((n) => live.plan[n] === false && before[n] === true);
      const frozen = Object.keys(live.plan).filter((n) => live.plan[n] === true && before[n] === false);
      const parts = [unfrozen.length ? `unfreeze ${nameList(unfrozen)}` : '', frozen.length ? `freeze ${nameList(frozen)}` : ''].filter(Boolean);
      labels.push(parts.length ? parts.join(', ') : 'BatchNorm modes changed');
    }
    const previous = currentPlan(run.model);
    applyFreezePlan(run.model, withStillLayers(plan, config.rateMultipliers), run.headLayers);
    const applied = currentPlan(run.model);
    const next = run.target();
    const nextGroups = createOptimizerGroups(next.model, config, rateAt(step));
    if (nextGroups === null) {
      endNote = `The change at epoch ${epoch + 1}, batch ${batch + 1} (${labels.join('; ')}) left nothing to train, so the run ended there.`;
      return false;
    }
    disposeGroups(groups);
    groups = nextGroups;
    target = next;
    variables = groups.flatMap((g) => g.variables);
    await track();
    hooks.onTrainableChange?.({
      step,
      epoch,
      batch,
      cause: live ? 'live' : 'schedule',
      label: labels.join('; '),
      trainableParams: countWeightParams(variables),
      learningRateFactor: factor,
      optimizerVariables: describeVariables(variables),
      unfrozen: Object.keys(applied).filter((name) => previous[name] && !applied[name]),
      frozen: Object.keys(applied).filter((name) => !previous[name] && applied[name]),
    });
    return true;
  };

  try {
    await track();
    for (let epoch = 0; epoch < config.epochs && !stopped && failure === null; epoch++) {
      shuffleInPlace(order, random);
      const started = performance.now();
      let pausedMillis = 0;
      let lossSum = 0;
      let correctSum = 0;
      let seen = 0;
      for (let start = 0, batch = 0; start < count; start += batchSize, batch++) {
        const gate = hooks.pauseGate?.() ?? null;
        if (gate) {
          const pausedAt = performance.now();
          await gate;
          pausedMillis += performance.now() - pausedAt;
        }
        if (hooks.shouldStop?.()) {
          stopped = true;
          stoppedAtEpochStart = batch === 0;
          break;
        }
        if (!(await applyChanges(epoch, batch))) {
          stopped = true;
          stoppedAtEpochStart = batch === 0;
          break;
        }
        const rate = rateAt(step);
        for (const group of groups) {
          if (group.rate !== rate * group.multiplier) {
            setLearningRate(group.optimizer, rate * group.multiplier);
            group.rate = rate * group.multiplier;
          }
        }
        const indices = order.subarray(start, Math.min(start + batchSize, count));
        const { xs, ys } = target.train.batch(indices);
        let correct: tf.Scalar | undefined;
        let loss: tf.Scalar | null = null;
        let lossValue = 0;
        try {
          const model = target.model;
          const { value, grads } = tf.variableGrads(() => {
            const probs = model.apply(xs, { training: true }) as tf.Tensor;
            correct = tf.keep(countCorrect(ys, probs));
            return crossEntropy(ys, probs);
          }, variables);
          loss = value;
          try {
            for (const group of groups) {
              const own: tf.NamedTensorMap = {};
              for (const v of group.variables) own[v.name] = grads[v.name];
              group.optimizer.applyGradients(own);
            }
          } finally {
            tf.dispose(grads);
          }
          const [lossData, correctData] = await Promise.all([loss.data(), correct!.data()]);
          lossValue = lossData[0];
          if (Number.isFinite(lossValue)) {
            lossSum += lossValue * indices.length;
            correctSum += correctData[0];
            seen += indices.length;
            hooks.onBatch?.({ step, epoch, batch, loss: lossValue });
          }
        } finally {
          // An exception inside a step would otherwise leak its tensors (TFJS-FACTS #13).
          tf.dispose([xs, ys]);
          if (loss) loss.dispose();
          if (correct) correct.dispose();
        }
        step++;
        if (!Number.isFinite(lossValue)) {
          failure =
            `The loss became ${Number.isNaN(lossValue) ? 'NaN' : 'infinite'} at epoch ${epoch + 1}, batch ${batch + 1}; ` +
            `the run was stopped and ${weightsPhrase(lastGood)}. ` +
            `Lower the learning rate (e.g. to ${lowerRate(config.learningRate)}) and train again.`;
          break;
        }
        await yieldNow();
      }
      if (failure !== null || seen < count) break; // stopped mid-epoch: the partial epoch gets no epoch metrics
      const millis = performance.now() - started - pausedMillis;
      const snapshot: Snapshot = { epoch: epoch + 1, values: await readValues(tracked), validation: null };
      if (!allFinite(snapshot)) {
        failure =
          `The weights became NaN or infinite during epoch ${epoch + 1}; the run was stopped and ${weightsPhrase(lastGood)}. ` +
          `Lower the learning rate (e.g. to ${lowerRate(config.learningRate)}) and train again.`;
        break;
      }
      const val = hasValidation() ? await evaluateSource(target.model, target.validation!, batchSize) : null;
      snapshot.validation = val;
      lastGood = snapshot;
      lastValidation = val;
      epochsCompleted++;
      if (val !== null) {
        if (best === null || !(best.validation!.loss <= val.loss)) { // a NaN best is always replaced
          best = snapshot;
          epochsSinceBest = 0;
        } else {
          epochsSinceBest++;
        }
      }
      hooks.onEpoch?.({
        epoch,
        trainLoss: lossSum / seen,
        trainAccuracy: correctSum / seen,
        validationLoss: val?.loss ?? null,
        validationAccuracy: val?.accuracy ?? null,
        millis,
      });
      if (patience !== null && val !== null && epochsSinceBest >= patience && epoch + 1 < config.epochs) {
        stoppedEarly = true;
        break;
      }
      await yieldNow();
    }
    // Which weights the model ends with.
    let holds: Snapshot | null = null;
    let restored = false;
    if (failure !== null) {
      restoreSnapshot(lastGood);
      holds = lastGood;
      restored = true;
    } else if ((stopped || stoppedEarly || patience !== null) && best !== null) {
      // Early stopping keeps the best weights however the run ends (also when patience runs out on the last epoch).
      if (best !== lastGood || stopped) {
        // A stop mid-epoch moved the weights past lastGood; restore the best in both cases.
        restoreSnapshot(best);
        restored = true;
      }
      holds = best;
    } else if (endNote !== null && !stoppedAtEpochStart) {
      // A change left nothing to train mid-epoch: back to the end of the last complete epoch.
      restoreSnapshot(lastGood);
      holds = lastGood;
      restored = true;
    } else if (!stopped || stoppedAtEpochStart) {
      holds = lastGood;
    }
    const measured = holds?.validation ?? null;
    const final = measured ?? (hasValidation() && (stopped || failure !== null || lastValidation === null)
      ? await evaluateSource(target.model, target.validation!, batchSize)
      : lastValidation);
    return {
      stopped,
      stoppedEarly,
      epochsCompleted,
      batches: step,
      restoredEpoch: holds?.epoch ?? null,
      restored,
      failure,
      endNote,
      validationLoss: final?.loss ?? null,
      validationAccuracy: final?.accuracy ?? null,
      optimizerVariables: describeVariables(variables),
    };
  } finally {
    disposeGroups(groups);
  }
}
