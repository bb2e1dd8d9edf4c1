/**
 * Checks of the studio's plain data types as a file brings them back (jsonCheck.ts): the training config,
 * the head, preprocessing, the schedule editor's steps, and the run records of "Compare runs". They check
 * types and the ranges other code relies on; whether a config can train is trainConfigCheck.ts' question
 * (a project keeps a half-edited config as it was, and Train says what is wrong with it).
 */
import { bool, listOf, measured, nullable, num, object, oneOf, optional, recordOf, text, tupleOf, type Check } from './jsonCheck';
import type { FreezeSummary, RunRecord } from './runRecords';
import type {
  AugmentationConfig,
  BatchNormMode,
  EpochMetrics,
  FreezePlan,
  HeadConfig,
  Preprocessing,
  TrainConfig,
  TrainableChange,
  UnfreezeStep,
} from './types';
import type { ScheduleDraftStep } from './unfreezeSchedule';

const count = num({ integer: true, min: 0 });
const finite = num();

/** Layer name → frozen. */
export const freezePlanCheck: Check<FreezePlan> = recordOf(bool);

/** BatchNorm layer name → 'train-stats' or 'inference'. */
export const batchNormModesCheck: Check<Record<string, BatchNormMode>> = recordOf(oneOf('train-stats', 'inference'));

/** The head: pooling, hidden units (a whole number ≥ 0) and dropout in [0, 1). */
export const headCheck: Check<HeadConfig> = object<HeadConfig>({
  pooling: oneOf('avg', 'max'),
  hiddenUnits: count,
  dropout: num({ min: 0, below: 1 }),
});

/** The pixel range and resize mode. */
export const preprocessingCheck: Check<Preprocessing> = object<Preprocessing>({
  range: tupleOf(finite, 2) as Check<[number, number]>,
  resize: oneOf('stretch', 'center-crop', 'letterbox'),
});

const augmentationCheck: Check<AugmentationConfig> = object<AugmentationConfig>({
  flip: bool,
  crop: finite,
  rotation: finite,
  brightness: finite,
  contrast: finite,
});

/** One step of an unfreezing schedule. */
export const unfreezeStepCheck: Check<UnfreezeStep> = object<UnfreezeStep>({
  epoch: num({ integer: true }),
  unfreeze: listOf(text),
  learningRateFactor: optional(finite),
  label: text,
});

/** A training config with every optional field it may carry. */
export const trainConfigCheck: Check<TrainConfig> = object<TrainConfig>({
  epochs: finite,
  batchSize: finite,
  learningRate: finite,
  seed: num({ integer: true }),
  optimizer: optional(oneOf('adam', 'sgd', 'momentum')),
  schedule: optional(oneOf('constant', 'cosine', 'one-cycle')),
  earlyStopping: optional(nullable(object<{ patience: number }>({ patience: finite }))),
  unfreezeSchedule: optional(listOf(unfreezeStepCheck)),
  rateMultipliers: optional(recordOf(finite)),
  augmentation: optional(nullable(augmentationCheck)),
  fromPretrained: optional(bool),
  epochsWithoutCache: optional(finite),
});

/** One row of the schedule editor (block label, epoch from 1, factor or null). */
export const scheduleDraftStepCheck: Check<ScheduleDraftStep> = object<ScheduleDraftStep>({
  epoch: num({ integer: true }),
  fromBlock: text,
  learningRateFactor: nullable(finite),
});

/** Block label → learning-rate multiplier (≥ 0; 0 keeps the block still). */
export const blockMultipliersCheck: Check<Record<string, number>> = recordOf(num({ min: 0 }));

const epochMetricsCheck: Check<EpochMetrics> = object<EpochMetrics>({
  epoch: count,
  trainLoss: measured,
  trainAccuracy: measured,
  validationLoss: nullable(measured),
  validationAccuracy: nullable(measured),
  millis: measured,
});

const trainableChangeCheck: Check<TrainableChange> = object<TrainableChange>({
  step: count,
  epoch: count,
  batch: count,
  cause: oneOf('schedule', 'live'),
  label: text,
  trainableParams: count,
  learningRateFactor: measured,
  optimizerVariables: listOf(object<{ name: string; shape: number[] }>({ name: text, shape: listOf(count) })),
  unfrozen: optional(listOf(text)),
  frozen: optional(listOf(text)),
});

/** What a plan keeps frozen, summarised (runRecords.ts). */
export const freezeSummaryCheck: Check<FreezeSummary> = object<FreezeSummary>({
  kind: oneOf('head-only', 'none', 'prefix', 'custom'),
  frozenBlocks: count,
  totalBlocks: count,
  frozenLayers: count,
  totalLayers: count,
  frozenBlockLabels: listOf(text),
  text,
});

/** One run of "Compare runs" with its curves. */
export const runRecordCheck: Check<RunRecord> = object<RunRecord>({
  runId: num({ integer: true, min: 1 }),
  name: text,
  freeze: freezeSummaryCheck,
  trainableParams: count,
  finalTrainableParams: nullable(count),
  schedule: listOf(text),
  optimizer: oneOf('adam', 'sgd', 'momentum'),
  learningRate: finite,
  learningRateSchedule: oneOf('constant', 'cosine', 'one-cycle'),
  backend: nullable(text),
  millisPerEpoch: nullable(measured),
  cacheMillis: nullable(measured),
  bestValidationAccuracy: nullable(measured),
  bestValidationLoss: nullable(measured),
  epochs: listOf(epochMetricsCheck),
  trainableChanges: listOf(trainableChangeCheck),
  batchesPerEpoch: count,
  epochsPlanned: finite,
  stopped: bool,
  fromPretrained: bool,
  dataset: text,
  validationTrainedOn: count,
});
