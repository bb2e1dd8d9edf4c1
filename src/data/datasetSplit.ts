import { stratifiedSplit, type Split } from './split';

/** What the split of the studio's dataset depends on (the store's data fields). */
export interface DatasetSplitInput {
  images: readonly { className: string }[];
  /** Class names in label order (label = index). */
  classNames: readonly string[];
  validationFraction: number;
  testFraction: number;
  splitSeed: number;
}

/**
 * The studio's train/validation/test split of its images: each image's label (its class's index in
 * `classNames`) and `stratifiedSplit`'s indices into `images`. Training and evaluation both call this,
 * so the images evaluated are exactly those the run held out. Throws for an image whose class is not in `classNames`.
 */
export function splitDataset(input: DatasetSplitInput): { labels: Int32Array; split: Split } {
  const labelOf = new Map(input.classNames.map((name, i) => [name, i]));
  const labels = Int32Array.from(input.images, (image) => {
    const label = labelOf.get(image.className);
    if (label === undefined)
      throw new Error(`An image's class '${image.className}' is not among the classes (${input.classNames.join(', ')}). Reload the dataset.`);
    return label;
  });
  const split = stratifiedSplit(labels, { validationFraction: input.validationFraction, testFraction: input.testFraction, seed: input.splitSeed });
  return { labels, split };
}
