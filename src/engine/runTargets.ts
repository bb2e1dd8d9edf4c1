import type * as tf from '@tensorflow/tfjs';
import { augmentedImageSource } from './augmentedSource';
import { isAugmentationOn } from '../core/augment';
import { imageSource } from './batchSource';
import type { ImageSet } from './batches';
import { featureCacheBlocker, featureSource, headOnlyModel } from './featureCache';
import type { RunFeatures } from './featureCacheStore';
import type { RunTarget } from './trainTypes';
import type { Preprocessing, TrainConfig } from '../core/types';

/** What a run trains on, as the trainer asks at every change of the trainable set. */
export interface RunTargets {
  /** The head alone on cached features while everything below the head is frozen and nothing pretrained trained yet; the full model otherwise. */
  currentTarget(): RunTarget;
  /** Whether pretrained layers trained (or BN statistics moved) during the run: cached features no longer describe the model. */
  trainedPretrained(): boolean;
}

/**
 * The run's two targets — the full transfer model on (augmented) images, and
 * the head-only model on cached features when there are any — and the rule
 * that moves between them at batch boundaries: once a schedule step or live
 * plan trains a pretrained layer, the run stays on the full model.
 */
export function createRunTargets(args: {
  model: tf.LayersModel;
  headLayers: ReadonlySet<string>;
  train: ImageSet;
  validation: ImageSet | null;
  numClasses: number;
  preprocessing: Preprocessing;
  config: TrainConfig;
  features: RunFeatures | null;
}): RunTargets {
  const { model, headLayers, train, validation, numClasses, preprocessing, config, features } = args;
  const full: RunTarget = {
    model,
    train: isAugmentationOn(config.augmentation)
      ? augmentedImageSource(train, numClasses, preprocessing, config.augmentation!, config.seed)
      : imageSource(train, numClasses, preprocessing),
    validation: validation ? imageSource(validation, numClasses, preprocessing) : null,
  };
  const headOnly: RunTarget | null = features
    ? {
        model: headOnlyModel(model, headLayers),
        train: featureSource(features.train, numClasses),
        validation: features.validation ? featureSource(features.validation, numClasses) : null,
      }
    : null;
  let trained = false;
  return {
    currentTarget() {
      if (featureCacheBlocker(model, headLayers) !== null) trained = true;
      return headOnly && !trained ? headOnly : full;
    },
    trainedPretrained: () => trained,
  };
}
