/**
 * Discriminative learning rates: a multiplier of the base rate per block
 * (presets.ts' PresetBlock), like fastai's `slice(lo, hi)`, resolved to the
 * per-layer map the trainer reads (TrainConfig.rateMultipliers). Pure.
 */
import type { PresetBlock } from './presets';
import type { FreezePlan } from './types';

/** The lowest multiplier of the default spread: the first block learns 10× slower than the head. */
export const DEFAULT_LOWEST_MULTIPLIER = 0.1;

/**
 * fastai's spread: multipliers rising geometrically from `lowest` on the
 * first block to 1 on the last (the head always gets 1), by block label.
 * A single block gets 1.
 */
export function sliceMultipliers(blocks: readonly PresetBlock[], lowest = DEFAULT_LOWEST_MULTIPLIER): Record<string, number> {
  if (!(lowest > 0 && lowest <= 1)) throw new RangeError(`The lowest learning-rate multiplier is ${lowest}; use a number above 0 and at most 1.`);
  const out: Record<string, number> = {};
  const n = blocks.length;
  blocks.forEach((block, i) => {
    out[block.label] = n === 1 ? 1 : Number((lowest ** ((n - 1 - i) / (n - 1))).toPrecision(4));
  });
  return out;
}

/** The per-layer multipliers of per-block ones (blocks left out get 1 and are not listed). */
export function layerMultipliers(blocks: readonly PresetBlock[], byBlock: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const block of blocks) {
    const multiplier = byBlock[block.label];
    if (multiplier === undefined || multiplier === 1) continue;
    for (const name of block.layers) out[name] = multiplier;
  }
  return out;
}

/** The first invalid multiplier, named with its block, or null. */
export function checkMultipliers(byBlock: Readonly<Record<string, number>>): string | null {
  for (const [label, multiplier] of Object.entries(byBlock)) {
    if (!(Number.isFinite(multiplier) && multiplier >= 0)) {
      return `The learning-rate multiplier of block '${label}' is ${multiplier}; use a number ≥ 0 (0 keeps the block still, 1 is the base rate).`;
    }
  }
  return null;
}

/**
 * `plan` with every layer whose multiplier is 0 frozen. A layer at
 * multiplier 0 must behave exactly like a frozen one — inference mode
 * (BatchNorm keeps its moving statistics, Dropout passes through), no
 * gradient, no optimizer slot — so the run applies this plan, not `plan`.
 */
export function withStillLayers(plan: FreezePlan, multipliers: Readonly<Record<string, number>> | undefined): FreezePlan {
  const still = Object.keys(multipliers ?? {}).filter((name) => multipliers![name] === 0);
  if (still.length === 0) return plan;
  const out = { ...plan };
  for (const name of still) out[name] = true;
  return out;
}
