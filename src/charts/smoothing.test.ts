import { describe, expect, it } from 'vitest';
import { smoothed } from './smoothing';

describe('smoothed', () => {
  it('starts at the first value and follows a constant exactly', () => {
    expect(smoothed([2, 2, 2], 0.9)).toEqual([2, 2, 2].map(() => expect.closeTo(2, 10)));
  });
  it('lags behind a step and converges to it', () => {
    const out = smoothed(
      [
        0, 0, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
        10, 10,
      ],
      0.8,
    );
    expect(out[2]).toBeGreaterThan(0);
    expect(out[2]).toBeLessThan(10);
    expect(out[out.length - 1]).toBeCloseTo(10, 1);
  });
  it('with weight 0 returns the input', () => {
    expect(smoothed([3, 1, 4], 0)).toEqual([3, 1, 4]);
  });
});
