/**
 * Unfreezing schedules over the model's blocks (presets.ts' PresetBlock):
 * what the schedule editor holds (block labels, epochs counted from 1), the
 * two recipes one click away, and the resolution into the layer names the
 * trainer applies (UnfreezeStep). Pure: no tfjs, no React.
 */
import type { PresetBlock } from './presets';
import type { BatchNormOverrides, LayerInfo, UnfreezeStep } from './types';

/** One row of the schedule editor: "at epoch `epoch`, unfreeze from block `fromBlock` to the top, learning rate × factor". */
export interface ScheduleDraftStep {
  /** The epoch the step starts, counted from 1 as the user reads it; at least 2, so the first phase is never empty. */
  epoch: number;
  /** Label of the lowest block unfrozen: it and every block above it train from this epoch on. */
  fromBlock: string;
  /** Base learning rate × this from the step on; null keeps the factor in force. */
  learningRateFactor: number | null;
}

/** The learning-rate factor of the Keras two-phase recipe: "divide by 10". */
export const TWO_PHASE_RATE_FACTOR = 0.1;

/** How many top blocks the two-phase recipe unfreezes: a quarter of them, at least one (the 100–999 images-per-class preset). */
export function twoPhaseTopBlocks(blockCount: number): number {
  return Math.min(Math.max(blockCount - 1, 1), Math.max(1, Math.ceil(blockCount / 4)));
}

/**
 * The Keras transfer-learning guide's recipe: train the head for the first
 * half of the run (the plan must freeze the backbone), then unfreeze the top
 * blocks with the learning rate divided by 10. Empty when the run has fewer
 * than 2 epochs or the model no blocks.
 */
export function twoPhaseRecipe(blocks: readonly PresetBlock[], epochs: number): ScheduleDraftStep[] {
  if (epochs < 2 || blocks.length === 0) return [];
  const top = twoPhaseTopBlocks(blocks.length);
  return [{ epoch: Math.floor(epochs / 2) + 1, fromBlock: blocks[blocks.length - top].label, learningRateFactor: TWO_PHASE_RATE_FACTOR }];
}

/**
 * The Keras fine-tuning guide keeps BatchNormalization layers in inference
 * mode when their block is unfrozen (small batches wreck batch statistics):
 * 'inference' for every BN layer of the blocks `steps` unfreeze.
 */
export function inferenceModeForUnfrozen(
  blocks: readonly PresetBlock[],
  layers: readonly LayerInfo[],
  steps: readonly ScheduleDraftStep[],
): BatchNormOverrides {
  const batchNorms = new Set(layers.filter((l) => l.className === 'BatchNormalization').map((l) => l.name));
  const lowest = Math.min(...steps.map((step) => blocks.findIndex((b) => b.label === step.fromBlock)).filter((i) => i >= 0));
  const modes: BatchNormOverrides = {};
  for (const block of blocks.slice(Number.isFinite(lowest) ? lowest : blocks.length)) {
    for (const name of block.layers) if (batchNorms.has(name)) modes[name] = 'inference';
  }
  return modes;
}

/**
 * ULMFiT's gradual unfreezing: after a first epoch on the head, one more
 * block group is unfrozen from the top at the start of every epoch, as long
 * as there are epochs and blocks left.
 */
export function gradualRecipe(blocks: readonly PresetBlock[], epochs: number): ScheduleDraftStep[] {
  const steps: ScheduleDraftStep[] = [];
  for (let epoch = 2, k = 1; epoch <= epochs && k <= blocks.length; epoch++, k++) {
    steps.push({ epoch, fromBlock: blocks[blocks.length - k].label, learningRateFactor: null });
  }
  return steps;
}

/** "× 0.1" with at most 3 significant digits. */
export function formatFactor(factor: number): string {
  return `×${Number(factor.toPrecision(3))}`;
}

/** A schedule ready for the trainer, or the first problem with it, naming the step and the value. */
export type ResolvedSchedule = { steps: UnfreezeStep[]; error: null } | { steps: null; error: string };

/**
 * Checks `drafts` against the model's blocks and the run's length, and turns
 * each into the layers it unfreezes (its block and every block above it) and
 * a label for the chart marker ("unfreeze block_15 and up · lr ×0.1"). Steps
 * come out in epoch order.
 */
export function resolveSchedule(blocks: readonly PresetBlock[], drafts: readonly ScheduleDraftStep[], epochs: number): ResolvedSchedule {
  const steps: UnfreezeStep[] = [];
  for (const [i, draft] of drafts.entries()) {
    const which = `Schedule step ${i + 1}`;
    if (!Number.isInteger(draft.epoch) || draft.epoch < 2 || draft.epoch > epochs) {
      const range = epochs >= 2 ? `use an epoch from 2 to ${epochs}` : 'raise the number of epochs to 2 or more';
      return {
        steps: null,
        error: `${which} starts at epoch ${draft.epoch}, but the run has ${epochs} epoch${epochs === 1 ? '' : 's'}: ${range} (epoch 1 trains with the plan as set).`,
      };
    }
    const index = blocks.findIndex((b) => b.label === draft.fromBlock);
    if (index < 0)
      return { steps: null, error: `${which} names block '${draft.fromBlock}', which this model (as cut) does not have; pick a block from the list.` };
    if (draft.learningRateFactor !== null && !(Number.isFinite(draft.learningRateFactor) && draft.learningRateFactor > 0)) {
      return {
        steps: null,
        error: `${which} sets the learning-rate factor to ${draft.learningRateFactor}; use a number above 0 (0.1 divides the rate by 10).`,
      };
    }
    const from = blocks[index];
    const top = index === blocks.length - 1 ? `unfreeze ${from.label}` : `unfreeze ${from.label} and up`;
    const label = draft.learningRateFactor === null ? top : `${top} · lr ${formatFactor(draft.learningRateFactor)}`;
    steps.push({
      epoch: draft.epoch - 1,
      unfreeze: blocks.slice(index).flatMap((b) => b.layers),
      ...(draft.learningRateFactor === null ? {} : { learningRateFactor: draft.learningRateFactor }),
      label,
    });
  }
  steps.sort((a, b) => a.epoch - b.epoch);
  return { steps, error: null };
}
