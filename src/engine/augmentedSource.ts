/**
 * The training batch source with augmentation. Kept apart from augment.ts,
 * which the main thread imports for the preview and validation, because
 * makeBatch pulls in tfjs.
 */
import { augmentImage } from '../core/augment';
import { imageCount, makeBatch, type ImageSet } from './batches';
import { createRandom } from '../core/random';
import type { BatchSource } from './batchSource';
import type { AugmentationConfig, Preprocessing } from '../core/types';

/**
 * A BatchSource over uint8 images that augments every picked image with
 * fresh draws on each `batch` call (one generator seeded with `seed`, so the
 * same seed and sequence of calls give the same batches), then maps it to
 * `preprocessing.range` like makeBatch. For training sets only: validation
 * and test images are never augmented.
 */
export function augmentedImageSource(
  set: ImageSet,
  numClasses: number,
  preprocessing: Preprocessing,
  augmentation: AugmentationConfig,
  seed: number,
): BatchSource {
  const random = createRandom(seed);
  const transform = (pixels: Uint8Array) => augmentImage(pixels, set.shape, augmentation, random);
  return { count: imageCount(set), batch: (indices) => makeBatch(set, indices, numClasses, preprocessing, transform) };
}
