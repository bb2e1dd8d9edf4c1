import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from './errors';
import { classImbalance, DEFAULT_VALIDATION_FRACTION, stratifiedSplit, testCountFor, validationCountFor, type ClassSplitCount, type Split } from './split';

/** Per-class train/validation/test counts of a split, in ascending label order. */
function splitCounts(labels: ArrayLike<number>, split: Split): ClassSplitCount[] {
  const counts = new Map<number, ClassSplitCount>();
  const tally = (indices: Int32Array, side: 'train' | 'validation' | 'test') => {
    for (const index of indices) {
      const label = labels[index];
      let count = counts.get(label);
      if (!count) {
        count = { label, train: 0, validation: 0, test: 0 };
        counts.set(label, count);
      }
      count[side]++;
    }
  };
  tally(split.train, 'train');
  tally(split.validation, 'validation');
  tally(split.test ?? new Int32Array(0), 'test');
  return [...counts.values()].sort((a, b) => a.label - b.label);
}

/** Labels with `sizes[k]` items of class k, interleaved so classes are not contiguous. */
function labelsFor(sizes: number[]): Int32Array {
  const labels: number[] = [];
  const left = [...sizes];
  while (left.some((n) => n > 0)) {
    left.forEach((n, label) => {
      if (n > 0) {
        labels.push(label);
        left[label]--;
      }
    });
  }
  return Int32Array.from(labels);
}

function expectPartition(split: { train: Int32Array; validation: Int32Array; test: Int32Array }, length: number) {
  const all = [...split.train, ...split.validation, ...split.test].sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length }, (_, i) => i));
}

describe('validationCountFor', () => {
  it.each<[number, number, number]>([
    [0, 0.15, 0],
    [1, 0.15, 0],
    [1, 0.9, 0],
    [2, 0.15, 1],
    [3, 0.15, 1],
    [10, 0.15, 2],
    [20, 0.15, 3],
    [100, 0.15, 15],
    [2, 0.9, 1],
    [10, 0.99, 9],
    [10, 0.5, 5],
    [10, 0, 0],
  ])('class of %i at fraction %f → %i for validation', (size, fraction, expected) => {
    expect(validationCountFor(size, fraction)).toBe(expected);
  });

  it.each([[-0.1], [1], [1.5], [Number.NaN]])('throws a DataError for fraction %f', (fraction) => {
    expect(() => validationCountFor(10, fraction)).toThrow(DataError);
  });
});

describe('stratifiedSplit', () => {
  it.each<[string, number[], number]>([
    ['balanced classes', [20, 20, 20], 0.15],
    ['unbalanced classes', [100, 7, 2, 1], 0.15],
    ['big fraction', [10, 5, 3], 0.5],
    ['tiny classes', [1, 2, 3], 0.2],
    ['one class', [13], 0.3],
  ])('%s: each class gives round(n×f) to validation, at least 1 from 2 items, never all', (_name, sizes, fraction) => {
    const labels = labelsFor(sizes);
    const split = stratifiedSplit(labels, { validationFraction: fraction, seed: 7 });
    expectPartition(split, labels.length);
    const counts = splitCounts(labels, split);
    sizes.forEach((n, label) => {
      const expected = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
      expect(counts[label]).toEqual({ label, train: n - expected, validation: expected, test: 0 });
    });
  });

  it('defaults to 15% for validation', () => {
    const labels = labelsFor([40, 40]);
    const split = stratifiedSplit(labels, { seed: 1 });
    expect(DEFAULT_VALIDATION_FRACTION).toBe(0.15);
    expect(split.validation).toHaveLength(2 * Math.round(40 * 0.15));
  });

  it('returns sorted Int32Arrays', () => {
    const split = stratifiedSplit(labelsFor([30, 30]), { seed: 3 });
    expect(split.train).toBeInstanceOf(Int32Array);
    expect(split.validation).toBeInstanceOf(Int32Array);
    for (const side of [split.train, split.validation]) {
      expect([...side]).toEqual([...side].sort((a, b) => a - b));
    }
  });

  it('is deterministic by seed and changes with the seed', () => {
    const labels = labelsFor([50, 50, 50]);
    const a = stratifiedSplit(labels, { seed: 42 });
    const b = stratifiedSplit(labels, { seed: 42 });
    const c = stratifiedSplit(labels, { seed: 43 });
    expect(b).toEqual(a);
    expect([...c.validation]).not.toEqual([...a.validation]);
  });

  it('handles sparse labels and empty input', () => {
    const labels = [5, 5, 0, 5, 0, 9];
    const split = stratifiedSplit(labels, { seed: 0, validationFraction: 0.5 });
    expectPartition(split, labels.length);
    expect(splitCounts(labels, split)).toEqual([
      { label: 0, train: 1, validation: 1, test: 0 },
      { label: 5, train: 1, validation: 2, test: 0 },
      { label: 9, train: 1, validation: 0, test: 0 },
    ]);
    expect(stratifiedSplit([], { seed: 0 })).toEqual({ train: new Int32Array(0), validation: new Int32Array(0), test: new Int32Array(0) });
  });

  it('puts nothing in validation at fraction 0', () => {
    const split = stratifiedSplit(labelsFor([5, 5]), { seed: 0, validationFraction: 0 });
    expect(split.validation).toHaveLength(0);
    expect(split.train).toHaveLength(10);
  });

  it.each<[string, number[]]>([
    ['negative', [0, -1]],
    ['fractional', [0, 1.5]],
    ['NaN', [0, Number.NaN]],
  ])('throws a DataError with code bad-label for a %s label', (_name, labels) => {
    expect(() => stratifiedSplit(labels, { seed: 0 })).toThrow(expect.objectContaining({ code: 'bad-label' }));
  });

  it('never loses or duplicates an index (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 200 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.integer(),
        (labels, fraction, seed) => {
          const split = stratifiedSplit(labels, { validationFraction: fraction, seed });
          expectPartition(split, labels.length);
          expect(split.test).toHaveLength(0);
          for (const { label, train, validation } of splitCounts(labels, split)) {
            const n = train + validation;
            expect(validation).toBe(validationCountFor(n, fraction));
            expect(labels.filter((l) => l === label)).toHaveLength(n);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('testCountFor', () => {
  it.each<[number, number, number, number]>([
    [1, 0.15, 0.15, 0],
    [2, 0.15, 0.15, 0], // 1 validation, 1 train: nothing left for test
    [3, 0.15, 0.15, 1],
    [10, 0.15, 0.15, 2],
    [100, 0.15, 0.1, 10],
    [100, 0.15, 0, 0],
    [4, 0.5, 0.4, 1], // 2 validation, 2 left: 1 test, 1 train
    [10, 0, 0.3, 3],
    [10, 0.45, 0.5, 4], // 5 validation (4.5 rounds up), 5 left: test takes 4, never the last training item
  ])('class of %i at validation %f, test %f → %i for test', (size, validationFraction, testFraction, expected) => {
    expect(testCountFor(size, testFraction, validationFraction)).toBe(expected);
  });

  it.each<[number, number, string]>([
    [0.15, -0.1, 'testFraction must be in [0, 1), got -0.1.'],
    [0.15, 1, 'testFraction must be in [0, 1), got 1.'],
    [0.5, 0.5, 'validationFraction + testFraction must be below 1, got 0.5 + 0.5.'],
    [0.6, 0.45, 'validationFraction + testFraction must be below 1, got 0.6 + 0.45.'],
  ])('throws a DataError for validation %f and test %f', (validationFraction, testFraction, message) => {
    expect(() => testCountFor(10, testFraction, validationFraction)).toThrow(expect.objectContaining({ code: 'bad-fraction', message }));
    expect(() => stratifiedSplit([0, 1], { validationFraction, testFraction, seed: 0 })).toThrow(DataError);
  });
});

describe('stratifiedSplit with a test set', () => {
  it('is empty by default', () => {
    expect(stratifiedSplit(labelsFor([10, 10]), { seed: 1 }).test).toEqual(new Int32Array(0));
  });

  it.each<[string, number[], number, number]>([
    ['balanced', [20, 20, 20], 0.15, 0.15],
    ['unbalanced with tiny classes', [100, 7, 3, 2, 1], 0.15, 0.1],
    ['big fractions', [10, 9, 8], 0.4, 0.4],
  ])('%s: stratified per class and at least one training item per class', (_name, sizes, validationFraction, testFraction) => {
    const labels = labelsFor(sizes);
    const split = stratifiedSplit(labels, { validationFraction, testFraction, seed: 11 });
    expectPartition(split, labels.length);
    const counts = splitCounts(labels, split);
    sizes.forEach((n, label) => {
      const validation = validationCountFor(n, validationFraction);
      const test = testCountFor(n, testFraction, validationFraction);
      expect(counts[label]).toEqual({ label, train: n - validation - test, validation, test });
      expect(counts[label].train).toBeGreaterThanOrEqual(1);
    });
  });

  it('keeps the same validation set when a test set is added, and is deterministic by seed', () => {
    const labels = labelsFor([40, 30, 5]);
    const without = stratifiedSplit(labels, { seed: 9 });
    const withTest = stratifiedSplit(labels, { seed: 9, testFraction: 0.2 });
    expect(withTest.validation).toEqual(without.validation);
    expect(withTest.test.length).toBe(8 + 6 + 1);
    expect(stratifiedSplit(labels, { seed: 9, testFraction: 0.2 })).toEqual(withTest);
    expect([...stratifiedSplit(labels, { seed: 10, testFraction: 0.2 }).test]).not.toEqual([...withTest.test]);
    for (const side of [withTest.train, withTest.validation, withTest.test]) expect([...side]).toEqual([...side].sort((a, b) => a - b));
  });

  it('never loses or duplicates an index and always leaves a training item (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 150 }),
        fc.double({ min: 0, max: 0.49, noNaN: true }),
        fc.double({ min: 0, max: 0.49, noNaN: true }),
        fc.integer(),
        (labels, validationFraction, testFraction, seed) => {
          const split = stratifiedSplit(labels, { validationFraction, testFraction, seed });
          expectPartition(split, labels.length);
          for (const { train, validation, test } of splitCounts(labels, split)) {
            const n = train + validation + test;
            expect(train).toBeGreaterThanOrEqual(1);
            expect(validation).toBe(validationCountFor(n, validationFraction));
            expect(test).toBe(testCountFor(n, testFraction, validationFraction));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('classImbalance', () => {
  it.each<[string, Map<string, number> | Record<string, number>, string | null]>([
    ['900 against 120', { cat: 900, dog: 120 }, `'cat' has 900 images, 'dog' 120: training will favour 'cat'. Add images to 'dog' or remove some from 'cat'.`],
    [
      'exactly 3×',
      new Map([
        ['a', 30],
        ['b', 10],
      ]),
      `'a' has 30 images, 'b' 10: training will favour 'a'. Add images to 'b' or remove some from 'a'.`,
    ],
    ['just under 3×', { a: 29, b: 10 }, null],
    [
      'thousands grouped, Unicode names',
      { 猫: 12000, café: 1 },
      `'猫' has 12,000 images, 'café' 1: training will favour '猫'. Add images to 'café' or remove some from '猫'.`,
    ],
    [
      'largest and smallest among many',
      { b: 50, a: 10, c: 5, d: 20 },
      `'b' has 50 images, 'c' 5: training will favour 'b'. Add images to 'c' or remove some from 'b'.`,
    ],
    ['empty classes are left to checkClasses', { a: 10, b: 0, c: 9 }, null],
    ['one class', { a: 10 }, null],
    ['no classes', {}, null],
    ['all equal', { a: 1, b: 1 }, null],
  ])('%s', (_name, counts, message) => {
    expect(classImbalance(counts)).toEqual(message === null ? null : { level: 'warning', message });
  });

  it('takes another ratio', () => {
    expect(classImbalance({ a: 20, b: 10 }, 2)?.message).toMatch(/^'a' has 20 images, 'b' 10/);
    expect(classImbalance({ a: 19, b: 10 }, 2)).toBeNull();
  });
});
