/**
 * Train/validation/test split that keeps every class's share: each class gives
 * round(n × fraction) of its items to validation and, optionally, to a held-out
 * test set, shuffled by a seed so a run can be repeated exactly in the worker,
 * in Node and in scripts. Every class of 2 or more items keeps at least one for training.
 */
import { createRandom, shuffleInPlace } from '../core/random';
import { DataError } from './errors';
import { compareCodePoints } from './folderLayout';
import type { DatasetNotice } from './types';

/**
 * Options for `stratifiedSplit`: `validationFraction` in [0, 1) (default 0.15), `testFraction` in [0, 1)
 * (default 0, no test set) with the two summing below 1, and a 32-bit integer `seed`.
 */
export type SplitOptions = { validationFraction?: number; testFraction?: number; seed: number };

/** Indices into the label array, each sorted ascending; together they hold every index exactly once. */
export type Split = { train: Int32Array; validation: Int32Array; test: Int32Array };

/** Items of one class on each side of a split. */
export type ClassSplitCount = { label: number; train: number; validation: number; test: number };

/** Default share of each class kept for validation. */
export const DEFAULT_VALIDATION_FRACTION = 0.15;
/** The studio's default split seed. */
export const DEFAULT_SPLIT_SEED = 42;

/** `classImbalance` warns when the largest class holds at least this many times the images of the smallest. */
export const CLASS_IMBALANCE_RATIO = 3;

function checkFraction(fraction: number, name = 'validationFraction'): void {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new DataError('bad-fraction', `${name} must be in [0, 1), got ${fraction}.`);
  }
}

function checkFractions(validationFraction: number, testFraction: number): void {
  checkFraction(validationFraction);
  checkFraction(testFraction, 'testFraction');
  if (!(validationFraction + testFraction < 1)) {
    throw new DataError('bad-fraction', `validationFraction + testFraction must be below 1, got ${validationFraction} + ${testFraction}.`);
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

/**
 * How many of a class's `classSize` items go to the test set, after validation took
 * `validationCountFor(n, validationFraction)`: round(n × testFraction), at least 1 when 2 or more
 * items are left, and never the last training item. A test fraction of 0 means no test set.
 */
export function testCountFor(classSize: number, testFraction: number, validationFraction = DEFAULT_VALIDATION_FRACTION): number {
  checkFractions(validationFraction, testFraction);
  const left = classSize - validationCountFor(classSize, validationFraction);
  if (testFraction === 0 || left < 2) return 0;
  const wanted = Math.round(classSize * testFraction);
  return Math.min(Math.max(wanted, 1), left - 1);
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
 * (classes taken in ascending label order, one generator for all); the first
 * `validationCountFor(n, validationFraction)` go to validation, the next `testCountFor(n, …)` to test,
 * the rest to training. Same labels and seed give the same split, and adding a test set leaves the
 * validation set as it was. All outputs are sorted ascending. Throws `DataError` for fractions
 * outside [0, 1) or summing to 1 or more, or a bad label.
 */
export function stratifiedSplit(labels: ArrayLike<number>, options: SplitOptions): Split {
  const validationFraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  const testFraction = options.testFraction ?? 0;
  checkFractions(validationFraction, testFraction);
  const groups = indicesByLabel(labels);
  const random = createRandom(options.seed);
  const train: number[] = [];
  const validation: number[] = [];
  const test: number[] = [];
  for (const label of [...groups.keys()].sort((a, b) => a - b)) {
    const indices = groups.get(label)!;
    shuffleInPlace(indices, random);
    const validationCount = validationCountFor(indices.length, validationFraction);
    const testEnd = validationCount + testCountFor(indices.length, testFraction, validationFraction);
    // A loop, not push(...spread): a class can hold more items than a call may take arguments.
    for (let k = 0; k < indices.length; k++) (k < validationCount ? validation : k < testEnd ? test : train).push(indices[k]);
  }
  return {
    train: Int32Array.from(train).sort(),
    validation: Int32Array.from(validation).sort(),
    test: Int32Array.from(test).sort(),
  };
}

function images(count: number): string {
  return `${count.toLocaleString('en-US')} image${count === 1 ? '' : 's'}`;
}

/**
 * A warning when the largest class (by usable images) holds at least `ratio` times the images of
 * the smallest non-empty one, naming both with their counts; null when the classes are balanced
 * enough or fewer than two are non-empty. Ties go to the name first in code-point order.
 */
export function classImbalance(counts: ReadonlyMap<string, number> | Readonly<Record<string, number>>, ratio = CLASS_IMBALANCE_RATIO): DatasetNotice | null {
  const entries = (counts instanceof Map ? [...counts.entries()] : Object.entries(counts))
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => compareCodePoints(a, b));
  if (entries.length < 2) return null;
  let [largest, smallest] = [entries[0], entries[0]];
  for (const entry of entries) {
    if (entry[1] > largest[1]) largest = entry;
    if (entry[1] < smallest[1]) smallest = entry;
  }
  if (largest === smallest || largest[1] < ratio * smallest[1]) return null;
  const [big, many] = largest;
  const [small, few] = smallest;
  return {
    level: 'warning',
    message: `'${big}' has ${images(many)}, '${small}' ${few.toLocaleString('en-US')}: training will favour '${big}'. Add images to '${small}' or remove some from '${big}'.`,
  };
}
