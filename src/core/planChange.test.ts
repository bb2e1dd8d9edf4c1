import { describe, expect, it } from 'vitest';
import { planChangeAt } from './planChange';
import type { UnfreezeStep } from './types';

const steps: UnfreezeStep[] = [
  { epoch: 2, unfreeze: ['b', 'c'], learningRateFactor: 0.1, label: 'unfreeze b' },
  { epoch: 3, unfreeze: ['a'], label: 'unfreeze a' },
];
const plan = { a: true, b: true, c: true, head: false };

describe('planChangeAt', () => {
  it('is null when no step is due and no live plan waits', () => {
    expect(planChangeAt(plan, steps, 1, 0, null, 1)).toBeNull();
    // A step applies only at the first batch of its epoch.
    expect(planChangeAt(plan, steps, 2, 1, null, 1)).toBeNull();
  });

  it("unfreezes a step's layers at its epoch and takes its learning-rate factor", () => {
    expect(planChangeAt(plan, steps, 2, 0, null, 1)).toEqual({
      plan: { a: true, b: false, c: false, head: false },
      label: 'unfreeze b',
      cause: 'schedule',
      learningRateFactor: 0.1,
      batchNormOverrides: undefined,
    });
    // A step without a factor keeps the one in force.
    expect(planChangeAt(plan, steps, 3, 0, null, 0.1)?.learningRateFactor).toBe(0.1);
  });

  it('applies a live plan after the due steps and labels what it changed', () => {
    const change = planChangeAt(plan, steps, 2, 0, { plan: { a: false, b: true }, batchNormOverrides: { c: 'train-stats' } }, 1);
    expect(change).toMatchObject({
      plan: { a: false, b: true, c: false },
      cause: 'live',
      label: 'unfreeze b; unfreeze a, freeze b',
      batchNormOverrides: { c: 'train-stats' },
    });
    expect(planChangeAt(plan, [], 0, 4, { plan: {}, batchNormOverrides: {} }, 1)?.label).toBe('BatchNorm modes changed');
    expect(planChangeAt({ a: true, b: true, c: true, d: true }, [], 0, 4, { plan: { a: false, b: false, c: false, d: false } }, 1)?.label).toBe(
      'unfreeze a, b and 2 more',
    );
  });
});
