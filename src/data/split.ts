/**
 * Train/validation split that keeps every class's share: each class gives
 * round(n × fraction) of its items to validation, shuffled by a seed so a run
 * can be repeated exactly in the worker, in Node and in scripts.
 */
import { createRandom, shuffleInPlace } from '../engine/random';
import { DataError } from './errors';

/** Options for `stratifiedSplit`: `validationFraction` in [0, 1) (default 0.15), and a 32-bit integer `seed`. */
export type SplitOptions = { validationFraction?: number; seed: number };

/** Indices into the label array, each sorted ascending; together they hold every index exactly once. */
export type Split = { train: Int32Array; validation: Int32Array };

/** Items of one class on each side of a split. */
export type ClassSplitCount = { label: number; train: number; validation: number };

/** Default share of each class kept for validation. */
export const DEFAULT_VALIDATION_FRACTION = 0.15;

function checkFraction(fraction: number): void {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new DataError('bad-fraction', `validationFraction must be in [0, 1), got ${fraction}.`);
  }
}

/**
 * How many of a class's `classSize` items go to validation: round(n × fraction), but at least 1
 * when the class has 2 or more items and never all of them; a 1-item class stays in training.
 * A fraction of 0 means no validation at all.
 */
export function validationCountFor(classSize: number, validationFraction: number): number {
  checkFraction(validationFraction);
  if (validationFraction === 0 || classSize < 2) return 0;
  const wanted = Math.round(classSize * validationFraction);
  return Math.min(Math.max(wanted, 1), classSize - 1);
}

/** Groups item indices by label; labels must be non-negative integers. */
function indicesByLabel(labels: ArrayLike<number>): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0) {
      throw new DataError('bad-label', `Label at index ${i} must be a non-negative integer, got ${label}.`);
    }
    const group = groups.get(label);
    if (group) group.push(i);
    else groups.set(label, [i]);
  }
  return groups;
}

/**
 * Splits item indices per class: each class's indices are shuffled with `createRandom(seed)`
 * (classes taken in ascending label order, one generator for all) and the first
 * `validationCountFor(n, fraction)` go to validation. Same labels and seed give the same split.
 * Both outputs are sorted ascending. Throws `DataError` for a fraction outside [0, 1) or a bad label.
 */
export function stratifiedSplit(labels: ArrayLike<number>, options: SplitOptions): Split {
  const fraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  checkFraction(fraction);
  const groups = indicesByLabel(labels);
  const random = createRandom(options.seed);
  const train: number[] = [];
  const validation: number[] = [];
  for (const label of [...groups.keys()].sort((a, b) => a - b)) {
    const indices = groups.get(label)!;
    shuffleInPlace(indices, random);
    const validationCount = validationCountFor(indices.length, fraction);
    // A loop, not push(...spread): a class can hold more items than a call may take arguments.
    for (let k = 0; k < indices.length; k++) (k < validationCount ? validation : train).push(indices[k]);
  }
  return {
    train: Int32Array.from(train).sort(),
    validation: Int32Array.from(validation).sort(),
  };
}

/** Per-class train/validation counts of a split, in ascending label order, for display. */
export function splitCounts(labels: ArrayLike<number>, split: Split): ClassSplitCount[] {
  const counts = new Map<number, ClassSplitCount>();
  const tally = (indices: Int32Array, side: 'train' | 'validation') => {
    for (const index of indices) {
      const label = labels[index];
      let count = counts.get(label);
      if (!count) {
        count = { label, train: 0, validation: 0 };
        counts.set(label, count);
      }
      count[side]++;
    }
  };
  tally(split.train, 'train');
  tally(split.validation, 'validation');
  return [...counts.values()].sort((a, b) => a.label - b.label);
}
