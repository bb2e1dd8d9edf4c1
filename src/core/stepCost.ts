/**
 * The estimated cost of one training step under a freeze plan: forward and
 * backward FLOPs per image, the activations the backward pass must keep, the
 * trainable parameters and the optimizer's state — and how many times
 * cheaper than a full fine-tune that is. Pure data in, data out (no tfjs, no
 * DOM): the model summary shows it on every toggle and the bench's checker
 * (scripts/stepCostCheck.ts) compares its ratios with measured steps.
 *
 * The model of a step, per layer (one image; a multiply-add is 2 FLOPs):
 * - Conv2D, DepthwiseConv2D, Dense: forward 2 × MACs, MACs = output positions
 *   × kernel volume (kernelShape; without it the trainable parameters less one
 *   bias per output channel). The input gradient and the weight gradient cost
 *   the same 2 × MACs each.
 * - BatchNormalization: 2 FLOPs per element in inference mode (a frozen layer,
 *   or a trained one in 'inference' mode), 8 with batch statistics; its input
 *   gradient 1 (resp. 8) and its gamma/beta gradient 2 per element.
 * - Activations, pooling, Add: about 1 FLOP per element each way; padding,
 *   flatten, reshape and inference-mode Dropout: none.
 * Backprop is pruned below the lowest trainable layer (the lowest one with
 * weights the optimizer updates): the frozen layers under it run forward only;
 * every layer above it needs an input gradient; only trainable layers need a
 * weight gradient. When the head trains on cached features (see
 * cachedFeaturesBlocker) a step is the head alone.
 */
import { countParams, isFrozen } from './params';
import { withStillLayers } from './rateMultipliers';
import type { BatchNormOverrides, FreezePlan, LayerInfo, OptimizerName, UnfreezeStep } from './types';
import { STOCHASTIC_LAYER_CLASSES } from './layerClasses';

/** Bytes of one float32 activation or optimizer slot. */
const FLOAT_BYTES = 4;

/** Optimizer slots per trainable parameter: Adam keeps two moments, momentum one velocity, plain SGD none. */
export const OPTIMIZER_SLOTS: Record<OptimizerName, number> = { adam: 2, momentum: 1, sgd: 0 };

const WEIGHTED = new Set(['Conv2D', 'DepthwiseConv2D', 'Dense', 'Conv1D', 'Conv2DTranspose']);
const ELEMENTWISE = new Set(['Activation', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'ThresholdedReLU', 'Softmax']);
const FREE = new Set(['ZeroPadding2D', 'Flatten', 'Reshape', 'InputLayer', 'Permute', 'Cropping2D']);
const MERGE = new Set(['Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Subtract']);
const POOLING = new Set(['MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'MaxPooling1D', 'AveragePooling1D']);

/** One layer's share of a step, per image. */
export interface LayerStepCost {
  name: string;
  forwardFlops: number;
  /** Gradient with respect to the layer's input (0 at and below the lowest trainable layer). */
  inputGradFlops: number;
  /** Gradient of the layer's own weights (0 when it is frozen). */
  weightGradFlops: number;
  /** Floats the backward pass keeps from the forward one for this layer. */
  keptFloats: number;
  /** Floats its backward kernels read and write: input + output for the input gradient, again for the weight gradient. */
  backwardFloats: number;
}

/** The estimated cost of one training step. */
export interface StepCost {
  /** Forward FLOPs per image of what the step runs (the head alone on cached features). */
  forwardFlops: number;
  /** Backward FLOPs per image: input gradients above the lowest trainable layer, weight gradients of the trainable ones. */
  backwardFlops: number;
  /** Activation memory the backward pass keeps, for a whole batch, in bytes. */
  activationBytes: number;
  /** Scalar parameters the optimizer updates (Keras count, multiplier-0 layers frozen). */
  trainableParams: number;
  /** The optimizer's slots for them, in bytes. */
  optimizerStateBytes: number;
  /** The lowest layer with weights that trains; backprop stops there. */
  lowestTrainable: string | null;
  /** The step trains the head on cached features (the frozen part ran once, when the cache was built). */
  cached: boolean;
  /** Forward FLOPs per image of building the cache (the frozen part, once per image); 0 when not cached. */
  cacheBuildFlops: number;
  /** Full fine-tune (nothing frozen, no cache) FLOPs per image ÷ this plan's, forward and backward together. */
  cheaperBy: number;
  /** Floats the backward kernels read and write per image (the memory traffic of the backward pass). */
  backwardFloats: number;
  /** A full fine-tune's step per image (what `cheaperBy` and `cheaperOn` compare with). */
  full: StepWork;
  layers: LayerStepCost[];
}

/** What the estimate is computed from. */
export interface StepCostInput {
  /** The transfer rows: pretrained layers up to the cut, then the head. */
  layers: readonly LayerInfo[];
  plan: FreezePlan;
  batchNormOverrides?: BatchNormOverrides;
  /** Per-layer multipliers: a layer at 0 is frozen for the run. */
  rateMultipliers?: Readonly<Record<string, number>>;
  optimizer?: OptimizerName;
  batchSize: number;
  /** True when the run trains the head on cached features (cachedFeaturesBlocker returned null). */
  cached?: boolean;
}

const product = (shape: readonly (number | null)[]) => shape.reduce<number>((p, d) => p * (d ?? 1), 1);

/** Multiply-adds of a Conv2D/DepthwiseConv2D/Dense layer per image: output positions × kernel volume. */
export function layerMacs(layer: LayerInfo): number {
  const out = product(layer.outputShape);
  const outChannels = layer.outputShape.at(-1) ?? 1;
  const kernel = layer.kernelShape ? product(layer.kernelShape) : Math.max(0, layer.trainableParams - outChannels);
  return (out / outChannels) * kernel;
}

/** Whether a BatchNormalization layer normalises with batch statistics in a step under `plan`. */
function usesBatchStatistics(layer: LayerInfo, plan: FreezePlan, overrides: BatchNormOverrides): boolean {
  return isFrozen(layer, plan) ? overrides[layer.name] === 'train-stats' : overrides[layer.name] !== 'inference';
}

interface LayerRole {
  trainable: boolean;
  /** Above the lowest trainable layer: its input gradient is needed. */
  needsInputGrad: boolean;
  /** At or above the lowest trainable layer: the backward pass reaches it. */
  inBackward: boolean;
  batchStatistics: boolean;
}

/** One layer's FLOPs and kept floats per image in its role. */
function costOf(layer: LayerInfo, inputFloats: number, role: LayerRole): Omit<LayerStepCost, 'name'> {
  const out = product(layer.outputShape);
  const zero = { forwardFlops: 0, inputGradFlops: 0, weightGradFlops: 0, keptFloats: 0, backwardFloats: 0 };
  const back = (perInput: number, perWeight: number, kept: number) => {
    const inputGradFlops = role.needsInputGrad ? perInput : 0;
    const weightGradFlops = role.trainable ? perWeight : 0;
    const backwardFloats = (inputGradFlops > 0 ? inputFloats + out : 0) + (weightGradFlops > 0 ? inputFloats + out : 0);
    return { inputGradFlops, weightGradFlops, keptFloats: role.inBackward ? kept : 0, backwardFloats };
  };
  const cls = layer.className;
  if (WEIGHTED.has(cls)) {
    const flops = 2 * layerMacs(layer);
    return { forwardFlops: flops, ...back(flops, flops, role.trainable ? inputFloats : 0) };
  }
  if (cls === 'BatchNormalization') {
    if (role.batchStatistics) return { forwardFlops: 8 * out, ...back(8 * out, 2 * out, out) };
    return { forwardFlops: 2 * out, ...back(out, 2 * out, role.trainable ? out : 0) };
  }
  if (ELEMENTWISE.has(cls)) return { forwardFlops: out, ...back(out, 0, out) };
  if (MERGE.has(cls)) return { forwardFlops: out, ...back(0, 0, 0) };
  if (POOLING.has(cls)) return { forwardFlops: inputFloats, ...back(inputFloats, 0, cls.includes('Max') ? inputFloats : 0) };
  if (STOCHASTIC_LAYER_CLASSES.has(cls)) return role.trainable ? { forwardFlops: 2 * out, ...back(out, 0, out) } : zero;
  if (FREE.has(cls)) return zero;
  return { forwardFlops: out, ...back(out, 0, out) };
}

/** Index of the lowest layer whose weights the optimizer updates under `plan` (-1 when none). */
function lowestTrainableIndex(layers: readonly LayerInfo[], plan: FreezePlan): number {
  return layers.findIndex((layer) => layer.trainableParams > 0 && !isFrozen(layer, plan));
}

/** Per-layer costs of the rows from `first` on (the rest run no part of the step), under `plan`. */
function layerCosts(layers: readonly LayerInfo[], plan: FreezePlan, overrides: BatchNormOverrides, first: number): LayerStepCost[] {
  const lowest = lowestTrainableIndex(layers, plan);
  return layers.slice(first).map((layer, offset) => {
    const i = first + offset;
    const inputShape = layer.inputShape ?? layers[i - 1]?.outputShape ?? layer.outputShape;
    const role: LayerRole = {
      trainable: !isFrozen(layer, plan) && (layer.trainableParams > 0 || STOCHASTIC_LAYER_CLASSES.has(layer.className)),
      needsInputGrad: lowest >= 0 && i > lowest,
      inBackward: lowest >= 0 && i >= lowest,
      batchStatistics: layer.className === 'BatchNormalization' && usesBatchStatistics(layer, plan, overrides),
    };
    return { name: layer.name, ...costOf(layer, product(inputShape), role) };
  });
}

const sum = (costs: readonly LayerStepCost[], pick: (c: LayerStepCost) => number) => costs.reduce((total, c) => total + pick(c), 0);

/** What a step does per image, in the terms a backend's cost model weighs. */
export interface StepWork {
  forwardFlops: number;
  backwardFlops: number;
  backwardFloats: number;
}

function workOf(costs: readonly LayerStepCost[]): StepWork {
  return {
    forwardFlops: sum(costs, (c) => c.forwardFlops),
    backwardFlops: sum(costs, (c) => c.inputGradFlops + c.weightGradFlops),
    backwardFloats: sum(costs, (c) => c.backwardFloats),
  };
}

/** A full fine-tune of `layers` per image (nothing frozen, BN with batch statistics, no cache). */
export function fullFineTuneWork(layers: readonly LayerInfo[]): StepWork {
  return workOf(layerCosts(layers, {}, {}, 0));
}

/**
 * How a backend spends its time on a step, in forward FLOPs: one backward FLOP costs `backwardFlop` of them, and
 * each float a backward kernel reads or writes `backwardFloat` (tfjs' gradient kernels are far slower than its
 * forward ones, and the early layers' large activations make the backward pass memory-bound).
 */
export interface BackendCostModel {
  backwardFlop: number;
  backwardFloat: number;
}

/** Plain FLOPs: a backward FLOP costs a forward one, memory traffic nothing. */
export const FLOPS_ONLY: BackendCostModel = { backwardFlop: 1, backwardFloat: 0 };

/**
 * Cost models measured by `npm run bench:cost` (scripts/stepCostCheck.ts fits the two numbers on the two
 * head-only steps, digits and MobileNetV2, against their full fine-tunes, and predicts the half-frozen plans
 * with them; see bench/results.md). A backend not listed counts plain FLOPs.
 */
export const BACKEND_COST_MODELS: Readonly<Record<string, BackendCostModel>> = {
  // npm run bench:cost, 2026-12-01, Node 20, 2-core EPYC, wasm with the studio's kernels and fast paths (CPU time per step):
  // the two head-only steps give no positive two-number fit since the fast paths; one number, a backward FLOP = 5.5 forward
  // ones, puts both head-only ratios within 6% (digits 11.8× vs 12.2×, MobileNetV2 12.2× vs 11.5×) and the digits
  // half-frozen plan within 7%; MobileNetV2's half-frozen plan is under-promised (1.7× vs 2.9×: its frozen prefix runs
  // folded, outside the tape, cheaper per FLOP than the trained part's forward pass).
  wasm: { backwardFlop: 5.5, backwardFloat: 0 },
};

/** The backend's measured cost model, or FLOPS_ONLY. */
export function costModelOf(backend: string | null | undefined): BackendCostModel {
  return (backend ? BACKEND_COST_MODELS[backend] : undefined) ?? FLOPS_ONLY;
}

/** A step's work in forward FLOPs under `model`. */
export function weightedWork(work: StepWork, model: BackendCostModel): number {
  return work.forwardFlops + model.backwardFlop * work.backwardFlops + model.backwardFloat * work.backwardFloats;
}

/** How many times cheaper than a full fine-tune the step is under a backend's cost model (FLOPS_ONLY: `cheaperBy`). */
export function cheaperOn(cost: StepCost, model: BackendCostModel): number {
  const plan = weightedWork(cost, model);
  return plan > 0 ? weightedWork(cost.full, model) / plan : 1;
}

/** The estimated cost of one step of `input.batchSize` images under the plan (see the file's comment for the model). */
export function estimateStepCost(input: StepCostInput): StepCost {
  const plan = withStillLayers(input.plan, input.rateMultipliers);
  const overrides = input.batchNormOverrides ?? {};
  const cached = input.cached === true;
  const firstHead = input.layers.findIndex((layer) => layer.origin === 'head');
  const first = cached && firstHead >= 0 ? firstHead : 0;
  const costs = layerCosts(input.layers, plan, overrides, first);
  const { forwardFlops, backwardFlops, backwardFloats } = workOf(costs);
  const cacheBuildFlops = cached ? sum(layerCosts(input.layers.slice(0, first), plan, overrides, 0), (c) => c.forwardFlops) : 0;
  const trainableParams = countParams(input.layers, plan).trainable;
  const lowest = lowestTrainableIndex(input.layers, plan);
  const planFlops = forwardFlops + backwardFlops;
  const full = fullFineTuneWork(input.layers);
  return {
    forwardFlops,
    backwardFlops,
    activationBytes: sum(costs, (c) => c.keptFloats) * input.batchSize * FLOAT_BYTES,
    trainableParams,
    optimizerStateBytes: trainableParams * OPTIMIZER_SLOTS[input.optimizer ?? 'adam'] * FLOAT_BYTES,
    lowestTrainable: lowest >= 0 ? input.layers[lowest].name : null,
    cached,
    cacheBuildFlops,
    cheaperBy: planFlops > 0 ? (full.forwardFlops + full.backwardFlops) / planFlops : 1,
    backwardFloats,
    full,
    layers: costs,
  };
}

/**
 * The cost of a step after each unfreezing step, in epoch order: each step's layers join the trainable set on top
 * of the steps before it (a run with a schedule never trains on cached features, so none of these is cached).
 */
export function scheduleStepCosts(input: StepCostInput, steps: readonly UnfreezeStep[]): { step: UnfreezeStep; cost: StepCost }[] {
  let plan = input.plan;
  return [...steps]
    .sort((a, b) => a.epoch - b.epoch)
    .map((step) => {
      plan = { ...plan, ...Object.fromEntries(step.unfreeze.map((name) => [name, false])) };
      return { step, cost: estimateStepCost({ ...input, plan, cached: false }) };
    });
}

/** A step timed on this machine: a run's median epoch over its batches, with the cost of that run's step. */
export interface TimedStep {
  msPerStep: number;
  /** What that run's step did per image, and its batch size. */
  work: StepWork;
  batchSize: number;
  cached: boolean;
  backend: string | null;
}

/** What the estimate says of the current plan's step and epoch on this machine, or why it cannot say. */
export type StepTimeEstimate =
  { ok: true; msPerStep: number; msPerEpoch: number; stepsPerEpoch: number; backend: string | null } | { ok: false; reason: string };

/**
 * The current plan's ms per step and per epoch of `trainImages`, scaled from `timed` by the ratio of the two steps'
 * work under the timed backend's cost model (costModelOf: plain FLOPs where none was measured). A step on cached
 * features is not scaled to one through the model or back (their fixed costs differ).
 */
export function estimateStepTime(cost: StepCost, batchSize: number, trainImages: number, timed: TimedStep | null): StepTimeEstimate {
  if (!timed) return { ok: false, reason: 'Train once to time a step on this machine.' };
  if (timed.cached !== cost.cached) {
    return {
      ok: false,
      reason: timed.cached
        ? 'The last run trained on cached features; train once through the model to time such a step.'
        : 'The last run trained through the model; this plan trains on cached features, so train once to time it.',
    };
  }
  const model = costModelOf(timed.backend);
  const work = weightedWork(cost, model) * batchSize;
  const timedWork = weightedWork(timed.work, model) * timed.batchSize;
  const msPerStep = timedWork > 0 ? timed.msPerStep * (work / timedWork) : timed.msPerStep;
  const stepsPerEpoch = Math.max(1, Math.ceil(trainImages / Math.max(1, batchSize)));
  return { ok: true, msPerStep, msPerEpoch: msPerStep * stepsPerEpoch, stepsPerEpoch, backend: timed.backend };
}

/** The median of a run's epoch times before its trainable set first changed, per batch; null without such an epoch. */
export function timedStepOfRun(
  epochMillis: readonly { epoch: number; millis: number }[],
  batchesPerEpoch: number,
  firstChangeEpoch: number | null,
): number | null {
  const steady = epochMillis.filter((e) => firstChangeEpoch === null || e.epoch < firstChangeEpoch).map((e) => e.millis);
  if (steady.length === 0 || batchesPerEpoch <= 0) return null;
  const sorted = [...steady].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return median / batchesPerEpoch;
}

/** "1.23 GFLOPs", "456 MFLOPs", "7.8 kFLOPs": FLOPs with an SI prefix and three significant digits. */
export function formatFlops(flops: number): string {
  const units: [number, string][] = [
    [1e12, 'TFLOPs'],
    [1e9, 'GFLOPs'],
    [1e6, 'MFLOPs'],
    [1e3, 'kFLOPs'],
  ];
  for (const [scale, unit] of units) if (flops >= scale) return `${(flops / scale).toPrecision(3)} ${unit}`;
  return `${Math.round(flops)} FLOPs`;
}

/** "12.3 MB", "456 kB", "0 B": bytes in decimal units, three significant digits. */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'kB'],
  ];
  for (const [scale, unit] of units) if (bytes >= scale) return `${(bytes / scale).toPrecision(3)} ${unit}`;
  return `${Math.round(bytes)} B`;
}
