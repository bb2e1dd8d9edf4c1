/**
 * "Auto" epochs: what a run really gets when the user leaves the number of
 * epochs to the studio. Pure data in, data out: no tfjs, no React, so the
 * Train panel shows the same decision the client sends.
 *
 * When every pretrained layer up to the cut is frozen (no BatchNorm layer
 * training its statistics, no augmentation, no unfreezing schedule) the
 * worker trains the head on cached features (featureCache.ts), where a step
 * costs next to nothing: the run then trains to convergence — up to
 * AUTO_MAX_EPOCHS epochs, early stopping on the validation loss with the best
 * weights kept, and a batch small enough that a tiny set still takes several
 * steps per epoch. Ten epochs of one batch (20 images, batch 32) are ten Adam
 * steps: far too few for a fresh head. Otherwise auto keeps the Epochs field.
 */
import { isAugmentationOn } from './augment';
import { isFrozen } from './params';
import { withStillLayers } from './rateMultipliers';
import type { BatchNormOverrides, FreezePlan, LayerInfo, TrainConfig, UnfreezeStep } from './types';
import { STOCHASTIC_LAYER_CLASSES } from './layerClasses';

/** Most epochs an auto run on cached features takes (early stopping usually ends it sooner). */
export const AUTO_MAX_EPOCHS = 100;
/** Epochs without a better validation loss after which an auto run stops, unless the user set their own patience. */
export const AUTO_PATIENCE = 10;
/** Epochs an auto run on cached features takes when there is no validation set to stop on. */
export const AUTO_EPOCHS_WITHOUT_VALIDATION = 50;
/** Fewest batches per epoch an auto run on cached features aims for: the batch size is lowered to reach it. */
export const AUTO_MIN_STEPS_PER_EPOCH = 4;

/** What decides whether a run trains on cached features, as the main thread knows it before the run. */
export interface CacheInput {
  /** The transfer rows: pretrained layers up to the cut, then the head (ignored). */
  layers: readonly LayerInfo[];
  plan: FreezePlan;
  batchNormOverrides: BatchNormOverrides;
  /** The unfreezing schedule the run is sent (or the editor's draft steps: only whether there is one matters); empty = none. */
  unfreezeSchedule: readonly Pick<UnfreezeStep, 'epoch'>[];
  augmentation: TrainConfig['augmentation'];
  /** Per-layer learning-rate multipliers: a layer at 0 is frozen for the run, as the worker applies it (withStillLayers). */
  rateMultipliers?: Readonly<Record<string, number>>;
}

/**
 * Why the run will not train on cached features, in the user's words
 * ("layers below the head train ('conv3' is not frozen)"), or null when it
 * will. Mirrors the worker's featureCacheBlocker on the layer rows; where the
 * rows cannot tell, it answers "not cached", so auto never plans a hundred
 * epochs for a run that goes through the whole model.
 */
export function cachedFeaturesBlocker(input: CacheInput): string | null {
  const plan = withStillLayers(input.plan, input.rateMultipliers);
  const pretrained = input.layers.filter((layer) => layer.origin === 'pretrained');
  if (pretrained.length === 0) return 'no model is loaded';
  if (input.unfreezeSchedule.length > 0) return 'an unfreezing schedule trains layers below the head';
  if (isAugmentationOn(input.augmentation)) return 'augmentation is on (every epoch sees new pixels)';
  for (const layer of pretrained) {
    if (isFrozen(layer, plan)) {
      if (layer.className === 'BatchNormalization' && input.batchNormOverrides[layer.name] === 'train-stats') {
        return `'${layer.name}' trains its BatchNorm statistics`;
      }
    } else if (layer.trainableParams + layer.nonTrainableParams > 0 || STOCHASTIC_LAYER_CLASSES.has(layer.className)) {
      return `layers below the head train ('${layer.name}' is not frozen)`;
    }
  }
  return null;
}

/** Everything auto epochs decides from. */
export interface AutoEpochsInput extends Omit<CacheInput, 'augmentation'> {
  /** The settings as the user set them (Epochs field, batch size, early stopping, augmentation…). */
  config: TrainConfig;
  /** The "Auto" checkbox beside Epochs. */
  auto: boolean;
  /** Images the run trains on (after the split). */
  trainImages: number;
  /** Whether the split holds validation images (early stopping needs them). */
  hasValidation: boolean;
}

/** The settings a run really gets, and why, in one line. */
export interface ResolvedTrainConfig {
  /** `config` with epochs, batch size and early stopping as auto set them (unchanged when auto is off or the cache is not used). */
  config: TrainConfig;
  /** 'off': the Epochs field as typed; 'cached': trained to convergence on cached features; 'not-cached': auto kept the Epochs field. */
  mode: 'off' | 'cached' | 'not-cached';
  /** One line for the hint under Epochs, e.g. "auto: 10 epochs — layers below the head train ('conv3' is not frozen)". */
  explanation: string;
}

const plural = (count: number, one: string, many = `${one}s`) => `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;

/**
 * The concrete TrainConfig of the next run. With auto on and the cache in
 * use: AUTO_MAX_EPOCHS epochs with early stopping (the user's patience if
 * they turned it on, else AUTO_PATIENCE) — AUTO_EPOCHS_WITHOUT_VALIDATION
 * without a validation set — and the batch size lowered so that an epoch has
 * at least AUTO_MIN_STEPS_PER_EPOCH steps (20 images → batch 5). Otherwise
 * the config as set.
 */
export function resolveTrainConfig(input: AutoEpochsInput): ResolvedTrainConfig {
  const { config } = input;
  if (!input.auto) return { config, mode: 'off', explanation: `Auto off: ${plural(config.epochs, 'epoch')} as set.` };
  const blocker = cachedFeaturesBlocker({ ...input, augmentation: config.augmentation });
  if (blocker !== null) return { config, mode: 'not-cached', explanation: `auto: ${plural(config.epochs, 'epoch')} — ${blocker}.` };
  const batchSize = Math.max(1, Math.min(config.batchSize, Math.floor(input.trainImages / AUTO_MIN_STEPS_PER_EPOCH)));
  const steps = Math.ceil(input.trainImages / batchSize);
  const batchNote = batchSize < config.batchSize ? `, batch ${batchSize} (${plural(steps, 'step')} per epoch)` : '';
  if (!input.hasValidation) {
    return {
      config: { ...config, epochs: AUTO_EPOCHS_WITHOUT_VALIDATION, batchSize, epochsWithoutCache: config.epochs },
      mode: 'cached',
      explanation: `auto: ${AUTO_EPOCHS_WITHOUT_VALIDATION} epochs on cached features${batchNote}; no validation images to stop early on.`,
    };
  }
  const patience = config.earlyStopping?.patience ?? AUTO_PATIENCE;
  return {
    config: { ...config, epochs: AUTO_MAX_EPOCHS, batchSize, earlyStopping: { patience }, epochsWithoutCache: config.epochs },
    mode: 'cached',
    explanation:
      `auto: up to ${AUTO_MAX_EPOCHS} epochs on cached features${batchNote}, ` +
      `stops when the validation loss has not improved for ${plural(patience, 'epoch')} and keeps the best weights.`,
  };
}
