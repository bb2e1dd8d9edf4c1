import { describe, expect, it } from 'vitest';
import { learningRateAt } from './schedules';

describe('learningRateAt', () => {
  it.each([
    // schedule, step, totalSteps, expected (learningRate 0.1)
    ['constant', 0, 100, 0.1],
    ['constant', 99, 100, 0.1],
    ['cosine', 0, 100, 0.1],
    ['cosine', 50, 100, 0.05],
    ['cosine', 25, 100, 0.1 * (0.5 + 0.5 * Math.SQRT1_2)],
    ['cosine', 100, 100, 0],
    ['one-cycle', 0, 100, 0.004],
    ['one-cycle', 15, 100, 0.004 + (0.1 - 0.004) * 0.5],
    ['one-cycle', 30, 100, 0.1],
    ['one-cycle', 65, 100, 0.00001 + (0.1 - 0.00001) * 0.5],
    ['one-cycle', 100, 100, 0.00001],
  ] as const)('%s at step %i of %i is %f', (schedule, step, total, expected) => {
    expect(learningRateAt({ learningRate: 0.1, schedule }, step, total)).toBeCloseTo(expected, 10);
  });

  it('defaults to constant when no schedule is set', () => {
    expect(learningRateAt({ learningRate: 0.02 }, 7, 10)).toBe(0.02);
  });

  it('decreases monotonically under cosine and after the one-cycle peak', () => {
    for (const schedule of ['cosine', 'one-cycle'] as const) {
      const rates = Array.from({ length: 50 }, (_, s) => learningRateAt({ learningRate: 1, schedule }, s, 50));
      const from = schedule === 'cosine' ? 0 : 15;
      for (let s = from + 1; s < rates.length; s++) expect(rates[s]).toBeLessThan(rates[s - 1]);
      expect(Math.max(...rates)).toBeLessThanOrEqual(1);
    }
  });
});
