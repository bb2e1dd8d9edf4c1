/**
 * The run history behind "Compare runs": one record per finished or stopped
 * run, what its freeze plan kept frozen in the user's words, and sorting.
 * Pure data in, data out: no tfjs, no React (the store and the table use it).
 */
import { backendWithProbes, type BackendProbe } from './backendChoice';
import { isFrozen } from './params';
import { matchPreset, presetBlocks, type PresetBlock } from './presets';
import type { EpochMetrics, FreezePlan, LayerInfo, LearningRateSchedule, OptimizerName, TrainableChange, UnfreezeStep } from './types';

/** What a run's freeze plan kept frozen, over the model's blocks (presets.ts) and its pretrained layers. */
export interface FreezeSummary {
  /** 'head-only': every block frozen; 'none': nothing frozen; 'prefix': the first `frozenBlocks` blocks; 'custom': anything else. */
  kind: 'head-only' | 'none' | 'prefix' | 'custom';
  frozenBlocks: number;
  totalBlocks: number;
  frozenLayers: number;
  /** Pretrained layers up to the cut. */
  totalLayers: number;
  /** Labels of the blocks frozen whole, in model order, e.g. ["stem", "block_1"]. */
  frozenBlockLabels: string[];
  /** The table's words: "head only", "first 8 of 17 blocks", "custom: 12 of 30 layers", "nothing frozen". */
  text: string;
}

/**
 * Summarises `plan` over `layers` (the transfer rows: pretrained layers up to
 * the cut, then the head, which is ignored). A plan that freezes a prefix of
 * whole blocks reads as a preset would; anything else counts frozen layers.
 */
export function freezeSummary(layers: readonly LayerInfo[], plan: FreezePlan, blocks: readonly PresetBlock[] = presetBlocks(layers)): FreezeSummary {
  const pretrained = layers.filter((layer) => layer.origin === 'pretrained');
  const byName = new Map(pretrained.map((layer) => [layer.name, layer]));
  const frozenName = (name: string) => {
    const layer = byName.get(name);
    return layer ? isFrozen(layer, plan) : plan[name] === true;
  };
  const frozenLayers = pretrained.filter((layer) => isFrozen(layer, plan)).length;
  const frozenBlockLabels = blocks.filter((block) => block.layers.length > 0 && block.layers.every(frozenName)).map((block) => block.label);
  const base = { frozenBlocks: frozenBlockLabels.length, totalBlocks: blocks.length, frozenLayers, totalLayers: pretrained.length, frozenBlockLabels };
  const match = blocks.length ? matchPreset(plan, pretrained, blocks, 'freeze-early') : frozenLayers === 0 ? ({ preset: 'full', param: 0 } as const) : 'custom';
  if (match === 'custom') return { ...base, kind: 'custom', text: `custom: ${frozenLayers} of ${pretrained.length} layers` };
  if (match.preset === 'head-only') return { ...base, kind: 'head-only', text: 'head only' };
  if (match.preset === 'full') return { ...base, kind: 'none', text: 'nothing frozen' };
  return { ...base, kind: 'prefix', text: `first ${match.param} of ${blocks.length} blocks` };
}

/** One finished or stopped run as the comparison table shows it. */
export interface RunRecord {
  runId: number;
  /** "Run 3 · head only": the table's first column and the charts' legend. */
  name: string;
  freeze: FreezeSummary;
  /** Scalar parameters the optimizer updated at the start of the run (the worker's count when it sent one). */
  trainableParams: number;
  /** The same after the last change of the trainable set (schedule step or live toggle); null when none happened. */
  finalTrainableParams: number | null;
  /** Labels of the planned unfreezing steps with their epochs (from 1), e.g. "epoch 3: unfreeze block_15–16 (LR × 0.1)"; empty = none. */
  schedule: string[];
  optimizer: OptimizerName;
  learningRate: number;
  learningRateSchedule: LearningRateSchedule;
  /** The backend the worker trained on; null when the run ended before it said. */
  backend: string | null;
  /** Mean wall time of the run's epochs (training batches), in milliseconds; null without a finished epoch. */
  millisPerEpoch: number | null;
  /** Time spent building the feature cache for this run, in milliseconds; null when nothing was built. */
  cacheMillis: number | null;
  bestValidationAccuracy: number | null;
  bestValidationLoss: number | null;
  /** The per-epoch curves. */
  epochs: EpochMetrics[];
  /** Where the trainable set changed during the run. */
  trainableChanges: TrainableChange[];
  /** Batches per epoch (0 when unknown): a change at batch b of epoch e sits at e + b / batchesPerEpoch on an epoch axis. */
  batchesPerEpoch: number;
  epochsPlanned: number;
  stopped: boolean;
  /** False when the run went on from the weights an earlier run left (not comparable to the others). */
  fromPretrained: boolean;
  /** The dataset the run trained on, e.g. "digits-5-9 · 1,000 images". */
  dataset: string;
  /** Validation images the weights the run started from were already trained on (it went on from an earlier run's weights): its validation scores are optimistic. 0 = none. */
  validationTrainedOn: number;
}

/** What the store knows of a run when it ends. */
export interface RunRecordInput {
  runId: number;
  freeze: FreezeSummary;
  /** Counted on the main thread at the start (Keras rule); replaced by the worker's count when `setup` has one. */
  trainableParams: number;
  config: {
    epochs: number;
    learningRate: number;
    optimizer?: OptimizerName;
    schedule?: LearningRateSchedule;
    fromPretrained?: boolean;
  };
  unfreezeSchedule: readonly UnfreezeStep[];
  dataset: { name: string; images: number };
  setup: { backend: string; trainableParams: number; featureCache?: { millis: number | null }; backendProbes?: BackendProbe[] } | null;
  outcome: { stopped: boolean };
  epochs: EpochMetrics[];
  trainableChanges: TrainableChange[];
  /** Batches per epoch, to place a change of the trainable set within its epoch on the charts. */
  batchesPerEpoch?: number;
  /** Validation images the starting weights were trained on (absent = 0). */
  validationTrainedOn?: number;
}

/** "epoch 3: unfreeze block_15–16 (LR × 0.1)" per step, epochs counted from 1. */
export function scheduleLabels(steps: readonly UnfreezeStep[]): string[] {
  return steps.map(
    (step) =>
      `epoch ${step.epoch + 1}: ${step.label}${step.learningRateFactor !== undefined && step.learningRateFactor !== 1 ? ` (LR × ${step.learningRateFactor})` : ''}`,
  );
}

function best(values: (number | null)[], pick: (a: number, b: number) => number): number | null {
  let out: number | null = null;
  for (const value of values) if (value !== null && Number.isFinite(value)) out = out === null ? value : pick(out, value);
  return out;
}

/** Builds the record of a run from what the store holds when it ends. */
export function makeRunRecord(input: RunRecordInput): RunRecord {
  const { epochs, trainableChanges, config } = input;
  const last = trainableChanges[trainableChanges.length - 1];
  return {
    runId: input.runId,
    name: `Run ${input.runId} · ${input.freeze.text}`,
    freeze: input.freeze,
    trainableParams: input.setup?.trainableParams ?? input.trainableParams,
    finalTrainableParams: last ? last.trainableParams : null,
    schedule: scheduleLabels(input.unfreezeSchedule),
    optimizer: config.optimizer ?? 'adam',
    learningRate: config.learningRate,
    learningRateSchedule: config.schedule ?? 'constant',
    // With auto, the figures the worker measured to pick it ("wasm (measured: wasm 1,234 · webgl 38,012 ms/step)").
    backend: input.setup ? backendWithProbes(input.setup.backend, input.setup.backendProbes) : null,
    millisPerEpoch: epochs.length ? epochs.reduce((sum, e) => sum + e.millis, 0) / epochs.length : null,
    cacheMillis: input.setup?.featureCache?.millis ?? null,
    bestValidationAccuracy: best(
      epochs.map((e) => e.validationAccuracy),
      Math.max,
    ),
    bestValidationLoss: best(
      epochs.map((e) => e.validationLoss),
      Math.min,
    ),
    epochs,
    trainableChanges,
    batchesPerEpoch: input.batchesPerEpoch ?? 0,
    epochsPlanned: config.epochs,
    stopped: input.outcome.stopped,
    fromPretrained: config.fromPretrained !== false,
    dataset: `${input.dataset.name} · ${input.dataset.images.toLocaleString('en-US')} images`,
    validationTrainedOn: input.validationTrainedOn ?? 0,
  };
}

/** "3 validation images were trained on by an earlier run: the validation accuracy is optimistic", or null when none were. */
export function trainedOnWarning(validationTrainedOn: number): string | null {
  if (validationTrainedOn <= 0) return null;
  const many = validationTrainedOn !== 1;
  return `${validationTrainedOn.toLocaleString('en-US')} validation image${many ? 's were' : ' was'} trained on by an earlier run: the validation accuracy is optimistic`;
}

/** The columns the table sorts by. */
export type RunSortKey =
  'run' | 'frozen' | 'trainableParams' | 'schedule' | 'optimizer' | 'backend' | 'millisPerEpoch' | 'bestValidationAccuracy' | 'bestValidationLoss';

/** A sort direction, named as `aria-sort` names it. */
export type SortDirection = 'ascending' | 'descending';

/** The direction a first click on a column sorts in: best first (highest accuracy, lowest loss and time), else ascending. */
export function defaultDirection(key: RunSortKey): SortDirection {
  return key === 'bestValidationAccuracy' ? 'descending' : 'ascending';
}

/** The value a column sorts by; null sorts last in both directions. */
function sortValue(run: RunRecord, key: RunSortKey): number | string | null {
  switch (key) {
    case 'run':
      return run.runId;
    case 'frozen':
      return run.freeze.totalLayers ? run.freeze.frozenLayers / run.freeze.totalLayers : 0;
    case 'trainableParams':
      return run.trainableParams;
    case 'schedule':
      return run.schedule.join('; ');
    case 'optimizer':
      return `${run.optimizer} ${run.learningRate.toExponential(6)} ${run.learningRateSchedule}`;
    case 'backend':
      return run.backend;
    case 'millisPerEpoch':
      return run.millisPerEpoch;
    case 'bestValidationAccuracy':
      return run.bestValidationAccuracy;
    case 'bestValidationLoss':
      return run.bestValidationLoss;
  }
}

/**
 * A sorted copy of `runs` by `key`: ties are broken by run number in the same
 * direction (so flipping the direction reverses the order), runs without a
 * value (no validation set, no finished epoch) come last either way.
 */
export function sortRuns(runs: readonly RunRecord[], key: RunSortKey, direction: SortDirection): RunRecord[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return [...runs].sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    if (x === null || y === null) {
      if (x !== y) return x === null ? 1 : -1;
    } else if (x !== y) {
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      if (order !== 0) return sign * order;
    }
    return sign * (a.runId - b.runId);
  });
}
