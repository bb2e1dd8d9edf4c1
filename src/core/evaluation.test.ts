import { describe, expect, it } from 'vitest';
import { cellMembers, evaluatePredictions, predictedClasses, probabilityRow, topK } from './evaluation';

/*
 * A 3-class example worked out by hand (0 = cat, 1 = dog, 2 = bird):
 *
 *   row label probabilities        arg-max
 *   r0  cat   [0.7, 0.2,  0.1 ]    cat   ✓
 *   r1  cat   [0.2, 0.5,  0.3 ]    dog
 *   r2  dog   [0.1, 0.8,  0.1 ]    dog   ✓
 *   r3  dog   [0.3, 0.6,  0.1 ]    dog   ✓
 *   r4  bird  [0.6, 0.3,  0.1 ]    cat
 *   r5  cat   [0.4, 0.55, 0.05]    dog
 *
 * Confusion (row = true, column = predicted):
 *          cat dog bird
 *   cat     1   2   0     support 3
 *   dog     0   2   0     support 2
 *   bird    1   0   0     support 1
 *   predicted 2 4   0
 * Accuracy = (1 + 2 + 0) / 6 = 0.5.
 * cat:  P = 1/2, R = 1/3, F1 = 2·1/(2·1 + 1 + 2) = 2/5.
 * dog:  P = 2/4, R = 2/2, F1 = 2·2/(2·2 + 2 + 0) = 2/3.
 * bird: never predicted → P = null; R = 0/1 = 0; F1 = 0/(0 + 0 + 1) = 0.
 * Macro: P = (1/2 + 1/2)/2 = 1/2 (bird left out), R = (1/3 + 1 + 0)/3 = 4/9, F1 = (2/5 + 2/3 + 0)/3 = 16/45.
 * Cell cat→dog holds r1 (p(cat) = 0.2) and r5 (p(cat) = 0.4): r1 is the larger mistake, so [1, 5].
 * Cell dog→dog holds r2 (p(dog) = 0.8) and r3 (0.6): least confident first, so [3, 2].
 */
const probabilities = Float32Array.from([0.7, 0.2, 0.1, 0.2, 0.5, 0.3, 0.1, 0.8, 0.1, 0.3, 0.6, 0.1, 0.6, 0.3, 0.1, 0.4, 0.55, 0.05]);
const labels = Int32Array.from([0, 0, 1, 1, 2, 0]);

describe('evaluatePredictions', () => {
  const report = evaluatePredictions(probabilities, labels, 3);

  it('counts accuracy and the confusion matrix (rows true, columns predicted)', () => {
    expect(report.count).toBe(6);
    expect(report.correct).toBe(3);
    expect(report.accuracy).toBe(0.5);
    expect(report.confusion).toEqual([
      [1, 2, 0],
      [0, 2, 0],
      [1, 0, 0],
    ]);
  });

  it('computes per-class precision, recall, F1 and support as worked out by hand', () => {
    const [cat, dog, bird] = report.perClass;
    expect(cat.precision).toBeCloseTo(1 / 2, 12);
    expect(cat.recall).toBeCloseTo(1 / 3, 12);
    expect(cat.f1).toBeCloseTo(2 / 5, 12);
    expect(cat.support).toBe(3);
    expect(cat.predicted).toBe(2);
    expect(dog.precision).toBeCloseTo(1 / 2, 12);
    expect(dog.recall).toBe(1);
    expect(dog.f1).toBeCloseTo(2 / 3, 12);
    expect(dog.predicted).toBe(4);
    expect(bird.precision).toBeNull();
    expect(bird.recall).toBe(0);
    expect(bird.f1).toBe(0);
    expect(bird.support).toBe(1);
  });

  it('macro-averages only the defined values', () => {
    expect(report.macro.precision).toBeCloseTo(1 / 2, 12);
    expect(report.macro.recall).toBeCloseTo(4 / 9, 12);
    expect(report.macro.f1).toBeCloseTo(16 / 45, 12);
  });

  it('gives null recall and F1 for a class neither present nor predicted', () => {
    const r = evaluatePredictions(Float32Array.from([0.9, 0.1, 0, 0.2, 0.8, 0]), [0, 1], 3);
    expect(r.accuracy).toBe(1);
    expect(r.perClass[2]).toEqual({ precision: null, recall: null, f1: null, support: 0, predicted: 0 });
    expect(r.macro).toEqual({ precision: 1, recall: 1, f1: 1 });
  });

  it('gives precision 0 and null recall for a class predicted but absent', () => {
    const r = evaluatePredictions(Float32Array.from([0.1, 0.9]), [0], 2);
    expect(r.perClass[1]).toEqual({ precision: 0, recall: null, f1: 0, support: 0, predicted: 1 });
    expect(r.perClass[0]).toEqual({ precision: null, recall: 0, f1: 0, support: 1, predicted: 0 });
    expect(r.macro).toEqual({ precision: 0, recall: 0, f1: 0 });
  });

  it('reports an empty set as null accuracy and an all-zero matrix', () => {
    const r = evaluatePredictions(new Float32Array(0), [], 2);
    expect(r.accuracy).toBeNull();
    expect(r.confusion).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(r.macro).toEqual({ precision: null, recall: null, f1: null });
  });

  it('refuses mismatched sizes and labels out of range, quoting the value', () => {
    expect(() => evaluatePredictions(new Float32Array(5), [0, 1], 3)).toThrow(/2 × 3 = 6 probabilities.*got 5/);
    expect(() => evaluatePredictions(new Float32Array(4), [0, 2], 2)).toThrow(/Label of row 1 .*\[0, 2\), got 2/);
    expect(() => evaluatePredictions(new Float32Array(0), [], 0)).toThrow(/positive integer, got 0/);
  });
});

describe('predictedClasses', () => {
  it('takes the arg-max per row, ties to the lower index', () => {
    expect(Array.from(predictedClasses(probabilities, 3))).toEqual([0, 1, 1, 1, 0, 1]);
    expect(Array.from(predictedClasses([0.5, 0.5, 0.2, 0.4, 0.4], 5))).toEqual([0]);
  });
});

describe('cellMembers', () => {
  it('lists the largest mistakes first (lowest probability of the true class)', () => {
    expect(cellMembers(probabilities, labels, 3, 0, 1)).toEqual([1, 5]);
    expect(cellMembers(probabilities, labels, 3, 2, 0)).toEqual([4]);
  });

  it('lists the least confident correct answers first on the diagonal', () => {
    expect(cellMembers(probabilities, labels, 3, 1, 1)).toEqual([3, 2]);
  });

  it('is empty for an empty cell', () => {
    expect(cellMembers(probabilities, labels, 3, 1, 2)).toEqual([]);
  });

  it('breaks ties by the probability of the predicted class, then by row', () => {
    // All three rows give the true class 0.1; the wrong class 1 gets 0.6, 0.9, 0.6.
    const probs = Float32Array.from([0.1, 0.6, 0.3, 0.1, 0.9, 0, 0.1, 0.6, 0.3]);
    expect(cellMembers(probs, [0, 0, 0], 3, 0, 1)).toEqual([1, 0, 2]);
  });
});

describe('topK', () => {
  it('returns the k most probable classes, most probable first', () => {
    expect(topK([0.1, 0.6, 0.3], 2)).toEqual([
      { classIndex: 1, probability: 0.6 },
      { classIndex: 2, probability: 0.3 },
    ]);
  });

  it('clamps k to the number of classes and breaks ties by index', () => {
    expect(topK([0.5, 0.5], 3).map((c) => c.classIndex)).toEqual([0, 1]);
    expect(topK([0.5, 0.5], 0)).toEqual([]);
  });

  it('refuses a negative k', () => {
    expect(() => topK([1], -1)).toThrow(/got -1/);
  });

  it('reads one row of a probability matrix', () => {
    expect(topK(probabilityRow(probabilities, 3, 4), 1)).toEqual([{ classIndex: 0, probability: expect.closeTo(0.6, 6) }]);
  });
});
