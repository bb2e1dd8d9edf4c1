import { checkClasses } from '../data/folderLayout';
import { splitDataset } from '../data/datasetSplit';
import type { Split } from '../data/split';
import { resolveTrainConfig, type ResolvedTrainConfig } from '../core/autoEpochs';
import { classImbalance } from '../data/split';
import { checkAugmentation } from '../core/augment';
import type { DatasetNotice } from '../data/types';
import { headLayerInfos } from '../core/headSpec';
import { isFrozen } from '../core/params';
import { presetBlocks, type PresetBlock } from '../core/presets';
import { checkMultipliers, layerMultipliers } from '../core/rateMultipliers';
import type { FreezePlan, LayerInfo, TrainConfig, UnfreezeStep } from '../core/types';
import { resolveSchedule } from '../core/unfreezeSchedule';
import { decodeTargetOf } from './dataSlice';
import { describeOrigin } from './modelSlice';
import type { StudioState } from './state';

/** Index of the last row belonging to `name`: the layer itself, or the last inner layer of a nested model of that name. */
function lastRowOf(layers: readonly LayerInfo[], name: string): number {
  for (let i = layers.length - 1; i >= 0; i--) if (layers[i].name === name || layers[i].parent === name) return i;
  return -1;
}

/** The row whose output the head takes when cutting at `name`: the layer itself, or the last inner layer of a nested model. */
export function cutRow(layers: readonly LayerInfo[], name: string): LayerInfo | undefined {
  return layers[lastRowOf(layers, name)];
}

/**
 * The layers the run will train, in order: the pretrained ones up to the cut,
 * then the studio's head sized for the dataset's classes (2 when there are
 * none yet). Layers after the cut (the original classifier) are left out.
 */
export function transferLayers(state: Pick<StudioState, 'model' | 'cutLayer' | 'classNames' | 'head'>): LayerInfo[] {
  const { model, cutLayer } = state;
  if (!model || !cutLayer) return [];
  const last = lastRowOf(model.layers, cutLayer);
  if (last < 0) return []; // a cut layer the model does not have (a stale setting): nothing to train
  const kept = model.layers.slice(0, last + 1);
  const cut = kept[kept.length - 1];
  return [...kept, ...headLayerInfos(cut.outputShape, Math.max(state.classNames.length, 2), state.head)];
}

/** The original layers the head replaces (after the cut). */
export function replacedLayers(state: Pick<StudioState, 'model' | 'cutLayer'>): LayerInfo[] {
  const { model, cutLayer } = state;
  if (!model || !cutLayer) return [];
  return model.layers.slice(lastRowOf(model.layers, cutLayer) + 1);
}

/** How many pretrained layers among `layers` are frozen under `plan`, of how many. */
export function frozenLayerCount(layers: readonly LayerInfo[], plan: FreezePlan): { frozen: number; pretrained: number } {
  const pretrained = layers.filter((l) => l.origin === 'pretrained');
  return { frozen: pretrained.filter((l) => isFrozen(l, plan)).length, pretrained: pretrained.length };
}

/** Image count per class, in label order. */
export function classCounts(state: Pick<StudioState, 'images' | 'classNames'>): number[] {
  const counts = state.classNames.map(() => 0);
  const index = new Map(state.classNames.map((name, i) => [name, i]));
  for (const image of state.images) counts[index.get(image.className)!]++;
  return counts;
}

/** Why Train cannot start now, or null when it can (invalid augmentation settings included). */
export function trainBlocker(
  state: Pick<StudioState, 'model' | 'modelStatus' | 'backend' | 'ingest' | 'images' | 'classNames'> &
    Partial<Pick<StudioState, 'decodedFor' | 'preprocessing'>> & { config?: Pick<TrainConfig, 'augmentation'> },
): string | null {
  if (state.modelStatus !== 'ready' || !state.model) return 'The model is not loaded yet.';
  const { height, width, channels } = state.model.inputShape;
  // What the pixels were decoded for is recorded once (the store's decodedFor), size and resize mode alike.
  const wanted = decodeTargetOf({ height, width, channels: channels === 3 ? 3 : 1 }, state.preprocessing?.resize ?? 'stretch');
  if (state.images.length > 0 && state.decodedFor && state.decodedFor.key !== wanted.key) {
    // Only while they are re-derived from their files (or after that was cancelled).
    const next =
      state.ingest?.kind === 'rederive'
        ? 'They are being re-derived from their files; wait a moment.'
        : 'Pick the model again to re-derive them, or add the folder again.';
    return `The images were decoded for ${state.decodedFor.key}; this model takes ${wanted.key}. ${next}`;
  }
  if (state.backend === null) return 'The training backend is starting.';
  if (state.ingest) return 'Images are still being added.';
  const perClass = classCounts(state);
  if (perClass.filter((c) => c > 0).length < 2) return 'Training needs at least two classes with images.';
  const empty = state.classNames.filter((_, i) => perClass[i] === 0);
  if (empty.length) return `Class '${empty[0]}' has no images: add images to it or delete it.`;
  return checkAugmentation(state.config?.augmentation);
}

/** Memoises `compute` on the identity of the inputs `pick` returns (store selectors run on every streamed batch). */
function memoOn<S, T>(pick: (state: S) => unknown[], compute: (state: S) => T): (state: S) => T {
  let inputs: unknown[] | null = null;
  let value: T;
  return (state) => {
    const next = pick(state);
    if (inputs === null || next.some((v, i) => v !== inputs![i])) {
      inputs = next;
      value = compute(state);
    }
    return value;
  };
}

/** The model's blocks as presets, schedules and rate multipliers see them (the head left out); memoised, as store selectors call it on every streamed batch. */
export const runBlocks: (state: Pick<StudioState, 'model' | 'cutLayer' | 'classNames' | 'head'>) => PresetBlock[] = memoOn(
  (s) => [s.model, s.cutLayer, s.classNames, s.head],
  (s) => presetBlocks(transferLayers(s)),
);

/**
 * The unfreezing schedule and per-layer learning-rate multipliers the next
 * run gets from the editor's settings, or the first problem with them
 * (naming the step or block and the value).
 */
export function runPlanSettings(state: Pick<StudioState, 'model' | 'cutLayer' | 'classNames' | 'head' | 'scheduleSteps' | 'blockMultipliers' | 'config'>): {
  unfreezeSchedule: UnfreezeStep[];
  rateMultipliers: Record<string, number>;
  error: string | null;
} {
  const blocks = runBlocks(state);
  const schedule = resolveSchedule(blocks, state.scheduleSteps, state.config.epochs);
  const error = schedule.error ?? checkMultipliers(state.blockMultipliers);
  return { unfreezeSchedule: schedule.steps ?? [], rateMultipliers: layerMultipliers(blocks, state.blockMultipliers), error };
}

/** The first problem with the unfreezing schedule or the per-block rates (Train refuses it), or null; cheap when neither is set. */
export function planSettingsError(state: Parameters<typeof runPlanSettings>[0]): string | null {
  return state.scheduleSteps.length || Object.keys(state.blockMultipliers).length ? runPlanSettings(state).error : null;
}

/**
 * The learning-rate multiplier of each block while per-block rates are on,
 * keyed by the block's first layer (where the tree shows it: on a group's row,
 * or on the first layer of a block of lone layers); memoised on its inputs
 * for the tree's rows.
 */
export const blockMultiplierByFirstLayer: (
  state: Pick<StudioState, 'model' | 'cutLayer' | 'classNames' | 'head' | 'blockMultipliers'>,
) => Record<string, number> = memoOn(
  (s) => [s.model, s.cutLayer, s.classNames, s.head, s.blockMultipliers],
  (s) => {
    const byFirstLayer: Record<string, number> = {};
    if (Object.keys(s.blockMultipliers).length) for (const block of runBlocks(s)) byFirstLayer[block.layers[0]] = s.blockMultipliers[block.label] ?? 1;
    return byFirstLayer;
  },
);

/** True while a run occupies the worker. */
export function isRunActive(state: Pick<StudioState, 'runStatus'>): boolean {
  return state.runStatus === 'starting' || state.runStatus === 'running' || state.runStatus === 'stopping';
}

/**
 * Notices to show for the dataset: those of the last drop plus the class
 * checks over the whole dataset (one class, empty or tiny classes).
 * `perClass` is classCounts of the same state, passed in so it is counted once.
 */
export function datasetNotices(state: Pick<StudioState, 'images' | 'classNames' | 'notices'>, perClass: readonly number[]): DatasetNotice[] {
  const counts = new Map(state.classNames.map((name, i) => [name, perClass[i]]));
  // With no images at all there is nothing to check beyond what the drop itself reported.
  if (state.images.length === 0) return state.notices;
  const imbalance = classImbalance(counts);
  return [...state.notices, ...checkClasses(counts), ...(imbalance ? [{ ...imbalance, message: `Class imbalance: ${imbalance.message}` }] : [])];
}

/** How many of the images at `indices` (into `images`) the weights were already trained on (their id is in `trainedOn`). */
export function countTrainedOn(images: readonly { id: number }[], indices: ArrayLike<number>, trainedOn: ReadonlySet<number>): number {
  if (trainedOn.size === 0) return 0;
  let count = 0;
  for (let i = 0; i < indices.length; i++) if (trainedOn.has(images[indices[i]].id)) count++;
  return count;
}

type SplitState = Pick<StudioState, 'images' | 'classNames' | 'validationFraction' | 'testFraction' | 'splitSeed'>;

/** The split the next run will make of the images (what the client's train() makes); null when it cannot be made (an image of an unknown class). */
export const nextRunSplit: (state: SplitState) => Split | null = memoOn(
  (s) => [s.images, s.classNames, s.validationFraction, s.testFraction, s.splitSeed],
  (s) => {
    try {
      return splitDataset(s).split;
    } catch {
      return null;
    }
  },
);

type NextRunState = SplitState &
  Pick<StudioState, 'config' | 'autoEpochs' | 'model' | 'cutLayer' | 'head' | 'freezePlan' | 'batchNormOverrides' | 'scheduleSteps' | 'blockMultipliers'>;

/**
 * What the next run gets from "Auto" epochs (engine/autoEpochs.ts) as things stand: the resolved config and
 * its one-line explanation for the hint under Epochs; the same decision the client's train() sends.
 */
export const nextRunTraining: (state: NextRunState) => ResolvedTrainConfig = memoOn(
  (s) => [
    s.config,
    s.autoEpochs,
    s.model,
    s.cutLayer,
    s.classNames,
    s.head,
    s.freezePlan,
    s.batchNormOverrides,
    s.scheduleSteps,
    s.blockMultipliers,
    nextRunSplit(s),
  ],
  (s) => {
    const split = nextRunSplit(s);
    const settings = runPlanSettings(s);
    return resolveTrainConfig({
      config: s.config,
      auto: s.autoEpochs,
      layers: transferLayers(s),
      plan: s.freezePlan,
      batchNormOverrides: s.batchNormOverrides,
      unfreezeSchedule: settings.unfreezeSchedule,
      rateMultipliers: settings.rateMultipliers,
      trainImages: split?.train.length ?? 0,
      hasValidation: (split?.validation.length ?? 0) > 0,
    });
  },
);

/**
 * Validation images of the next run that the current weights were already trained on, when the run goes on from
 * them ("Start from the pretrained weights" off); 0 when it starts from the pretrained weights.
 */
export const nextRunValidationTrainedOn: (state: SplitState & Pick<StudioState, 'config' | 'trainedOnIds'>) => number = memoOn(
  (s) => [s.config.fromPretrained, s.trainedOnIds, nextRunSplit(s)],
  (s) => {
    const split = nextRunSplit(s);
    return s.config.fromPretrained === false && split ? countTrainedOn(s.images, split.validation, s.trainedOnIds) : 0;
  },
);

/** The epochs of the run in the store as it was started (auto resolved), or what the next run will get before any run. */
export function plannedEpochs(state: StudioState): number {
  // Before any run, what the next run will get (auto epochs resolved), as the hint under Epochs says.
  return state.runSettings?.config.epochs ?? nextRunTraining(state).config.epochs;
}

/** Where the loaded model came from, in the user's words: "Built-in: MobileNetV2", "Imported: model.json", "From https://…"; '' before one. */
export function modelSourceLabel(state: Pick<StudioState, 'modelOrigin'>): string {
  return state.modelOrigin ? describeOrigin(state.modelOrigin) : '';
}

/** Batches per epoch of the run in the store (0 before one). */
export function runBatchesPerEpoch(state: Pick<StudioState, 'runSettings'>): number {
  return state.runSettings?.batchesPerEpoch ?? 0;
}
