/**
 * What changes the trainable set at a batch boundary: the unfreezing
 * schedule's steps due there and a live plan from the user. Pure: the
 * trainer applies the result to the model.
 */
import type { BatchNormOverrides, FreezePlan, TrainableChange, UnfreezeStep } from './types';

/** A live plan handed to the run: the layers the user changed (and the BN modes now). */
export interface LivePlan {
  plan: FreezePlan;
  batchNormOverrides?: BatchNormOverrides;
}

/** The plan a boundary leads to, with its chart label and the learning-rate factor from then on. */
export interface PlanChange {
  plan: FreezePlan;
  label: string;
  cause: TrainableChange['cause'];
  learningRateFactor: number;
  /** BN modes to set (a live plan's), or undefined to keep them. */
  batchNormOverrides?: BatchNormOverrides;
}

/** "a, b and 2 more" for a change's label. */
function nameList(names: readonly string[]): string {
  if (names.length <= 2) return names.join(' and ');
  return `${names[0]}, ${names[1]} and ${names.length - 2} more`;
}

/**
 * The change at the boundary before batch `batch` of epoch `epoch` (both
 * from 0): every schedule step of that epoch (first batch only) unfreezes
 * its layers and may set the rate factor, then the live plan's layers take
 * their flags. Null when nothing is due.
 */
export function planChangeAt(
  current: FreezePlan,
  steps: readonly UnfreezeStep[],
  epoch: number,
  batch: number,
  live: LivePlan | null,
  factor: number,
): PlanChange | null {
  const due = batch === 0 ? steps.filter((s) => s.epoch === epoch) : [];
  if (due.length === 0 && live === null) return null;
  const plan = { ...current };
  const labels: string[] = [];
  let learningRateFactor = factor;
  for (const s of due) {
    for (const name of s.unfreeze) plan[name] = false;
    if (s.learningRateFactor !== undefined) learningRateFactor = s.learningRateFactor;
    labels.push(s.label);
  }
  if (live) {
    const before = { ...plan };
    Object.assign(plan, live.plan);
    const unfrozen = Object.keys(live.plan).filter((n) => live.plan[n] === false && before[n] === true);
    const frozen = Object.keys(live.plan).filter((n) => live.plan[n] === true && before[n] === false);
    const parts = [unfrozen.length ? `unfreeze ${nameList(unfrozen)}` : '', frozen.length ? `freeze ${nameList(frozen)}` : ''].filter(Boolean);
    labels.push(parts.length ? parts.join(', ') : 'BatchNorm modes changed');
  }
  return { plan, label: labels.join('; '), cause: live ? 'live' : 'schedule', learningRateFactor, batchNormOverrides: live?.batchNormOverrides };
}
