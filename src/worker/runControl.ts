import type { LivePlan } from '../core/planChange';
import type { BatchNormOverrides, FreezePlan } from '../core/types';

/**
 * The active run as the main thread steers it between batch boundaries:
 * a stop, a pause (and the resume that wakes it), and live plan edits,
 * reduced to what the user changed. The trainer polls it through
 * shouldStop / pauseGate / takeLivePlan.
 */
export interface RunControl {
  readonly runId: number;
  stop(): void;
  pause(): void;
  resume(): void;
  /** The UI's plan (and BN modes) after an edit; only the layers it changed since the last one wait for the next boundary. */
  setPlan(plan: FreezePlan, batchNormOverrides: BatchNormOverrides): void;
  shouldStop(): boolean;
  /** The edits since the last boundary, handed over once. */
  takeLivePlan(): LivePlan | null;
  /** A promise to wait on while paused (`onPaused(true)` now, `onPaused(false)` when it resolves), or null. */
  pauseGate(onPaused: (paused: boolean) => void): Promise<void> | null;
}

/** Same modes, whatever the key order. */
function sameModes(a: BatchNormOverrides, b: BatchNormOverrides): boolean {
  return JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
}

/** Control of run `runId`, started with the UI's `plan` and BN modes. */
export function createRunControl(runId: number, plan: FreezePlan, batchNormOverrides: BatchNormOverrides): RunControl {
  let stopRequested = false;
  let paused = false;
  let wake: (() => void) | null = null;
  let pending: { plan: FreezePlan; batchNormOverrides: BatchNormOverrides } | null = null;
  // The plan as the UI last sent it: edits are diffed against it, never against what schedule steps did since.
  let uiPlan = plan;
  let uiModes = batchNormOverrides;
  return {
    runId,
    stop() {
      stopRequested = true;
      wake?.();
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      wake?.();
    },
    setPlan(next, modes) {
      // Only what the user changed: the UI's plan does not know what schedule steps unfroze since, and must not undo it.
      const changed: FreezePlan = {};
      for (const [name, frozen] of Object.entries(next)) if ((uiPlan[name] === true) !== frozen) changed[name] = frozen;
      const modesChanged = !sameModes(modes, uiModes);
      uiPlan = next;
      uiModes = modes;
      if (Object.keys(changed).length > 0 || modesChanged) pending = { plan: { ...pending?.plan, ...changed }, batchNormOverrides: modes };
    },
    shouldStop: () => stopRequested,
    takeLivePlan() {
      const live = pending;
      pending = null;
      return live;
    },
    pauseGate(onPaused) {
      if (!paused || stopRequested) return null;
      onPaused(true);
      return new Promise<void>((resolve) => {
        wake = () => {
          wake = null;
          onPaused(false);
          resolve();
        };
      });
    },
  };
}
