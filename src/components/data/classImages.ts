import { addFiles } from '../../app/studio';
import type { DroppedFile } from '../../data/dropWalk';
import { testCountFor, validationCountFor } from '../../data/split';
import { useStudio } from '../../store/store';

/**
 * Top folder of the paths that single images are added under: `single images/<class>/<file>`,
 * which the folder layout reads as class `<class>`. It is also the name the additions get in
 * the dataset's name ("shapes + single images").
 */
export const SINGLE_IMAGES_ROOT = 'single images';

/** The path a file added to `className` is ingested under; a dropped folder's own path is kept below the class. */
export function pathInClass(className: string, relativePath: string): string {
  return `${SINGLE_IMAGES_ROOT}/${className}/${relativePath.replace(/^\/+/, '')}`;
}

/**
 * Adds files to one class through the normal ingest path (type sniffing, decoding at the model's
 * input, Rejected files). When the dataset is still the built-in sample it first becomes the
 * user's own, so that the images join the sample's classes instead of replacing them.
 */
export async function addImagesToClass(className: string, files: readonly DroppedFile[]): Promise<void> {
  if (files.length === 0) return;
  useStudio.getState().adoptSample();
  await addFiles(files.map((file) => ({ path: pathInClass(className, file.path), blob: file.blob })));
}

/** Pasted images carry generic names ("image.png"); each gets a unique one so the Rejected files list can tell them apart. */
export function pastedFileName(type: string, index: number, now = Date.now()): string {
  const ext = type.split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'png';
  return `pasted-${now}-${index + 1}.${ext}`;
}

/** A class's images on each side of the split, for its card. */
export type ClassSplit = { train: number; validation: number; test: number };

/** How many of a class's `count` images go to train, validation and test, as the train client splits them. */
export function classSplit(count: number, validationFraction: number, testFraction: number): ClassSplit {
  const validation = validationCountFor(count, validationFraction);
  const test = testCountFor(count, testFraction, validationFraction);
  return { train: count - validation - test, validation, test };
}
