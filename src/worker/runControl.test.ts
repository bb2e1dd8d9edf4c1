import { describe, expect, it } from 'vitest';
import { createRunControl } from './runControl';

describe('run control', () => {
  it('hands over only what the user changed since the last edit, once', () => {
    const control = createRunControl(1, { a: true, b: true, c: false }, {});
    expect(control.takeLivePlan()).toBeNull();
    control.setPlan({ a: false, b: true, c: false }, {});
    control.setPlan({ a: false, b: true, c: true }, {});
    expect(control.takeLivePlan()).toEqual({ plan: { a: false, c: true }, batchNormOverrides: {} });
    expect(control.takeLivePlan()).toBeNull();
    // The same plan again changes nothing; a change of BN modes alone does.
    control.setPlan({ a: false, b: true, c: true }, {});
    expect(control.takeLivePlan()).toBeNull();
    control.setPlan({ a: false, b: true, c: true }, { b: 'train-stats' });
    expect(control.takeLivePlan()).toEqual({ plan: {}, batchNormOverrides: { b: 'train-stats' } });
  });

  it('holds a paused run until resume, reports both, and a stop wakes it', async () => {
    const control = createRunControl(1, {}, {});
    const seen: boolean[] = [];
    expect(control.pauseGate((p) => seen.push(p))).toBeNull();
    control.pause();
    const gate = control.pauseGate((p) => seen.push(p))!;
    expect(seen).toEqual([true]);
    control.resume();
    await gate;
    expect(seen).toEqual([true, false]);
    control.pause();
    const again = control.pauseGate((p) => seen.push(p))!;
    control.stop();
    await again;
    expect(control.shouldStop()).toBe(true);
    // A stopped run is never held again.
    expect(control.pauseGate(() => {})).toBeNull();
  });
});
