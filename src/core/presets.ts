/**
 * Freeze presets from the transfer-learning playbook, and which one the
 * studio recommends for a dataset. Pure data in, data out: no tfjs, no React.
 *
 * Presets act on the model's *blocks*, the top-level units of the grouped
 * layer tree (see `presetBlocks`), and every preset plan is "freeze a prefix
 * of the blocks": head only freezes all of them, full fine-tune none,
 * "freeze early layers" the first n, "fine-tune top blocks" all but the last k.
 */
import { AUTO_MAX_EPOCHS } from './autoEpochs';
import { groupLayers } from './layerGroups';
import { isFrozen } from './params';
import type { FreezePlan, LayerInfo } from './types';

/** One unit presets freeze or train whole: a block, a nested model, or the stem. */
export interface PresetBlock {
  /** What the slider shows: the group label ("block_8"), "stem", or the first layer's name. */
  label: string;
  /** The pretrained layer names of the unit, in model order. */
  layers: string[];
}

/**
 * The blocks of `layers` (the transfer rows: pretrained layers up to the cut,
 * then the head, which is left out) in model order:
 * - each group of `groupLayers` (a repeated block or a nested model) is a block;
 * - the lone layers before the first group are one block labelled "stem";
 * - lone layers after a group join it (a transition layer, or the top conv after
 *   the last block), so "the last k blocks" includes everything above them.
 * A model with no groups at all (a plain conv stack) gets one block per layer
 * with trainable parameters; normalization layers and parameter-free layers
 * join the block before them (the first block takes any leading ones).
 */
export function presetBlocks(layers: readonly LayerInfo[]): PresetBlock[] {
  const pretrained = layers.filter((layer) => layer.origin === 'pretrained');
  const nodes = groupLayers(pretrained);
  const blocks: PresetBlock[] = [];
  if (nodes.some((node) => node.kind === 'group')) {
    for (const node of nodes) {
      if (node.kind === 'group') blocks.push({ label: node.group.label, layers: node.group.layers.map((l) => l.name) });
      else if (blocks.length) blocks[blocks.length - 1].layers.push(node.layer.name);
      else blocks.push({ label: 'stem', layers: [node.layer.name] });
    }
    return blocks;
  }
  let leading: string[] = [];
  for (const layer of pretrained) {
    const starts = layer.trainableParams > 0 && !/Normalization$/.test(layer.className);
    if (starts) {
      blocks.push({ label: layer.name, layers: [...leading, layer.name] });
      leading = [];
    } else if (blocks.length) blocks[blocks.length - 1].layers.push(layer.name);
    else leading.push(layer.name);
  }
  if (leading.length) blocks.push({ label: leading[0], layers: leading });
  return blocks;
}

/** The four presets. */
export type PresetId = 'head-only' | 'freeze-early' | 'fine-tune-top' | 'full';

/** A preset with its parameter: n frozen blocks for 'freeze-early', k trained blocks for 'fine-tune-top', 0 otherwise. */
export interface PresetChoice {
  preset: PresetId;
  param: number;
}

/** The presets in the order the UI lists them, with their labels. */
export const PRESETS: readonly { id: PresetId; label: string; parametric: boolean }[] = [
  { id: 'head-only', label: 'Train head only', parametric: false },
  { id: 'freeze-early', label: 'Freeze early layers', parametric: true },
  { id: 'fine-tune-top', label: 'Fine-tune top blocks', parametric: true },
  { id: 'full', label: 'Full fine-tune', parametric: false },
];

/** The plan that freezes the first `frozen` blocks and trains the rest (the head always trains). */
function prefixPlan(blocks: readonly PresetBlock[], frozen: number): FreezePlan {
  const plan: FreezePlan = {};
  blocks.forEach((block, i) => {
    for (const name of block.layers) plan[name] = i < frozen;
  });
  return plan;
}

/** The valid range of the parametric presets' parameter: 1 to blocks − 1 (0 and all are the other two presets). */
export function paramRange(blocks: readonly PresetBlock[]): { min: number; max: number } | null {
  return blocks.length >= 2 ? { min: 1, max: blocks.length - 1 } : null;
}

function checkParam(blocks: readonly PresetBlock[], value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1 || value > blocks.length - 1) {
    const range = blocks.length >= 2 ? `a whole number from 1 to ${blocks.length - 1}` : 'a model with at least two blocks';
    throw new RangeError(`${what} is ${value}, but this model has ${blocks.length} block(s); use ${range}.`);
  }
}

/** "Train head only" (feature extraction): every pretrained layer frozen. */
export function headOnlyPlan(blocks: readonly PresetBlock[]): FreezePlan {
  return prefixPlan(blocks, blocks.length);
}

/** "Freeze early layers": the first `n` blocks frozen, the rest fine-tuned. Throws unless 1 ≤ n ≤ blocks − 1. */
export function freezeEarlyPlan(blocks: readonly PresetBlock[], n: number): FreezePlan {
  checkParam(blocks, n, 'The number of frozen early blocks');
  return prefixPlan(blocks, n);
}

/** "Fine-tune top blocks": only the last `k` blocks and the head train. Throws unless 1 ≤ k ≤ blocks − 1. */
export function fineTuneTopPlan(blocks: readonly PresetBlock[], k: number): FreezePlan {
  checkParam(blocks, k, 'The number of trained top blocks');
  return prefixPlan(blocks, blocks.length - k);
}

/** "Full fine-tune": nothing frozen. */
export function fullFineTunePlan(blocks: readonly PresetBlock[]): FreezePlan {
  return prefixPlan(blocks, 0);
}

/** The plan of a preset choice (see the four plan functions). */
export function presetPlan(blocks: readonly PresetBlock[], choice: PresetChoice): FreezePlan {
  switch (choice.preset) {
    case 'head-only':
      return headOnlyPlan(blocks);
    case 'freeze-early':
      return freezeEarlyPlan(blocks, choice.param);
    case 'fine-tune-top':
      return fineTuneTopPlan(blocks, choice.param);
    case 'full':
      return fullFineTunePlan(blocks);
  }
}

/**
 * Which preset `plan` equals over `blocks`, or 'custom' when none does (a block
 * partly frozen, or a trained block before a frozen one). A plan freezing the
 * first n of B blocks (0 < n < B) is both "freeze early n" and "fine-tune top
 * B − n": `prefer` picks between them (the radio the user last chose); without
 * it, 'fine-tune-top' when more than half the blocks are frozen, else 'freeze-early'.
 * With fewer than two blocks only head only and full fine-tune can match.
 */
export function matchPreset(
  plan: FreezePlan,
  layers: readonly LayerInfo[],
  blocks: readonly PresetBlock[] = presetBlocks(layers),
  prefer?: PresetId,
): PresetChoice | 'custom' {
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  const frozenName = (name: string) => {
    const layer = byName.get(name);
    return layer ? isFrozen(layer, plan) : plan[name] === true;
  };
  let frozen = 0;
  for (const [i, block] of blocks.entries()) {
    const count = block.layers.filter(frozenName).length;
    if (count === block.layers.length && frozen === i) frozen++;
    else if (count !== 0) return 'custom';
  }
  if (frozen === blocks.length) return { preset: 'head-only', param: 0 };
  if (frozen === 0) return { preset: 'full', param: 0 };
  const early: PresetChoice = { preset: 'freeze-early', param: frozen };
  const top: PresetChoice = { preset: 'fine-tune-top', param: blocks.length - frozen };
  if (prefer === 'freeze-early') return early;
  if (prefer === 'fine-tune-top') return top;
  return frozen > blocks.length / 2 ? top : early;
}

/** Images per class below which the backbone stays frozen. */
export const HEAD_ONLY_BELOW = 100;
/** Images per class from which early layers are the only ones frozen (below: fine-tune top blocks). */
export const FREEZE_EARLY_FROM = 1000;
/** Images per class from which a full fine-tune is recommended. */
export const FULL_FROM = 10_000;

/** What the studio recommends and why, in one sentence that quotes the numbers. */
export interface Recommendation extends PresetChoice {
  reason: string;
}

/** The median of `counts` (the mean of the middle two for an even count), 0 when empty. */
export function median(counts: readonly number[]): number {
  if (!counts.length) return 0;
  const sorted = [...counts].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const plural = (count: number, one: string, many = `${one}s`) => `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;

/**
 * The preset for a dataset, by the median images per class (one small class
 * does not decide for all; the imbalance notice warns about it):
 * - below 100: train the head only;
 * - 100 to 999: fine-tune the top quarter of the blocks (at least one);
 * - 1,000 to 9,999: freeze the first third of the blocks, fine-tune the rest;
 * - 10,000 and more: full fine-tune.
 * A model with fewer than two blocks gets head only below 10,000, full from there.
 * With fewer than two classes it recommends head only and says to add classes.
 * A "head only" reason also says how the head gets trained enough, from
 * `training` (the "Auto" checkbox beside Epochs, the Epochs field, and why a
 * head-only run would not use the feature cache, e.g. augmentation; absent =
 * auto on, cache used): on cached features to convergence, or what to change.
 */
export function recommendPreset(input: {
  imagesPerClass: number;
  classCount: number;
  blockCount: number;
  training?: { auto: boolean; epochs: number; cacheBlocker?: string | null };
}): Recommendation {
  const { classCount, blockCount } = input;
  const perClass = Math.round(input.imagesPerClass);
  if (classCount < 2 || perClass < 1) {
    return {
      preset: 'head-only',
      param: 0,
      reason: `${plural(classCount, 'class', 'classes')} with images so far: train the head only until there are at least two classes to tell apart.`,
    };
  }
  const lead = `${plural(perClass, 'image')} per class (${plural(classCount, 'class', 'classes')})`;
  const training = input.training ?? { auto: true, epochs: 10 };
  // Head only is what succeeds on little data only if the head then trains enough: say how it does.
  const converges = training.cacheBlocker
    ? ` The feature cache is off: ${training.cacheBlocker}; the ${plural(training.epochs, 'epoch')} as set run the whole model, so raise Epochs if the head has not converged.`
    : training.auto
      ? ` With “Auto” beside Epochs (the default) the head is trained to convergence on cached features: up to ${AUTO_MAX_EPOCHS} epochs, stopping when the validation loss stops improving.`
      : ` Tick “Auto” beside Epochs to train the head to convergence on cached features: ${plural(training.epochs, 'epoch')} can be too few steps on little data.`;
  const headOnly = {
    preset: 'head-only' as const,
    param: 0,
    reason: `${lead}: train the head only — fine-tuning the backbone on so little data tends to overfit.${converges}`,
  };
  const full = { preset: 'full' as const, param: 0, reason: `${lead}: full fine-tune — with this much data every layer can adapt without overfitting.` };
  if (perClass >= FULL_FROM) return full;
  if (perClass < HEAD_ONLY_BELOW) return headOnly;
  if (blockCount < 2) {
    return {
      ...headOnly,
      reason: `${lead}: train the head only — this model has no blocks to fine-tune separately, and the whole backbone is too much for this data.${converges}`,
    };
  }
  if (perClass < FREEZE_EARLY_FROM) {
    const k = Math.min(blockCount - 1, Math.max(1, Math.ceil(blockCount / 4)));
    return {
      preset: 'fine-tune-top',
      param: k,
      reason: `${lead}: fine-tune the top ${plural(k, 'block')} of ${blockCount} — enough data to adapt the last, most task-specific features, too little to retrain the early ones.`,
    };
  }
  const n = Math.min(blockCount - 1, Math.max(1, Math.floor(blockCount / 3)));
  return {
    preset: 'freeze-early',
    param: n,
    reason: `${lead}: freeze the first ${plural(n, 'block')} of ${blockCount} and fine-tune the rest — enough data to adapt most of the network, while the early blocks keep their generic edge and texture filters.`,
  };
}
