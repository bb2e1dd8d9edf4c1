import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError } from './errors';
import { DEFAULT_VALIDATION_FRACTION, splitCounts, stratifiedSplit, validationCountFor } from './split';

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

function expectPartition(split: { train: Int32Array; validation: Int32Array }, length: number) {
  const all = [...split.train, ...split.validation].sort((a, b) => a - b);
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
      expect(counts[label]).toEqual({ label, train: n - expected, validation: expected });
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
      { label: 0, train: 1, validation: 1 },
      { label: 5, train: 1, validation: 2 },
      { label: 9, train: 1, validation: 0 },
    ]);
    expect(stratifiedSplit([], { seed: 0 })).toEqual({ train: new Int32Array(0), validation: new Int32Array(0) });
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
