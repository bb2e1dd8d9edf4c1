/**
 * How the layer tree groups a model's layers, and the freeze actions over
 * those groups. Pure data in, data out: no tfjs, no React, no store.
 */
import { isFrozen } from './params';
import type { FreezePlan, LayerInfo } from './types';

/** Consecutive layers shown under one expandable row. */
export interface LayerGroup {
  /** Unique in one tree and stable while its first layer is: the kind and the first layer's name. */
  id: string;
  /** What the row says: the nested model's name or the block prefix ("block_3", "conv2_block1", "mixed5"). */
  label: string;
  /** 'nested': the layers of a model used as one layer; 'block': layers of one repeated block. */
  kind: 'nested' | 'block';
  /** The group's layers in model order (never fewer than two, never a head layer). */
  layers: LayerInfo[];
}

/** A top-level entry of the tree: a lone layer or a group of layers. */
export type TreeNode = { kind: 'layer'; layer: LayerInfo } | { kind: 'group'; group: LayerGroup };

/**
 * Block prefixes of the Keras applications, tried in order; the first capture
 * is the group's label. A layer matching none is not part of a block.
 */
const BLOCK_RULES: { pattern: RegExp; label?: (match: RegExpExecArray) => string }[] = [
  { pattern: /^(block_\d+)_/ }, // MobileNetV2: block_3_expand, block_3_expand_BN
  { pattern: /^(expanded_conv(?:_\d+)?)[_/]/ }, // MobileNetV2's first block, MobileNetV3: expanded_conv_2/expand
  { pattern: /^(block\d+_\d+)(?:_|$)/ }, // InceptionResNetV2: block35_1_conv (before the rule below takes 'block35')
  { pattern: /^(block\d+[a-z]?)_/ }, // EfficientNet block2a_expand_conv, Xception and VGG block4_conv1
  { pattern: /^(conv\d+_block\d+)_/ }, // ResNet and DenseNet: conv3_block2_1_conv
  { pattern: /^(stage\d+_unit\d+)_/ }, // MXNet/Gluon ResNet: stage1_unit1_conv1
  { pattern: /^(.*?stage_?\d+_[a-z]*block_?\d+)_/i }, // ConvNeXt …_stage_0_block_1_, RegNet …_Stage_0_XBlock_1_
  { pattern: /^conv_(?:dw|pw|pad)_(\d+)(?:_|$)/, label: (m) => `conv_dw/pw_${m[1]}` }, // MobileNetV1: conv_dw_3, conv_pw_3
];

/** Inception's blocks end in a Concatenate named mixedN; the layers inside carry generic names (conv2d_12). */
const INCEPTION_BLOCK_END = /^mixed\d+$/;

/** The block a layer name belongs to by its prefix ("block_3_expand_BN" → "block_3"), or null. */
export function blockKey(name: string): string | null {
  for (const rule of BLOCK_RULES) {
    const match = rule.pattern.exec(name);
    if (match) return rule.label ? rule.label(match) : match[1];
  }
  return null;
}

const plainTopLevel = (layer: LayerInfo) => layer.origin === 'pretrained' && layer.parent === null;

/**
 * Groups the tree's rows, keeping their order. A layer whose `parent` is set
 * goes into a group for that nested model. Other pretrained layers form a group
 * when consecutive names share a block prefix (see `blockKey`); unprefixed
 * layers sandwiched between two layers of the same block (Xception's residual
 * conv) join it. Inception-style blocks end at a layer named `mixedN`: the
 * unprefixed layers since the previous `mixedN` join it (before `mixed0`, those
 * after the stem's last MaxPooling2D). Head layers, the stem and the top stay
 * at the top level, and a group of one layer is just that layer.
 */
export function groupLayers(layers: readonly LayerInfo[]): TreeNode[] {
  const nodes: TreeNode[] = [];
  const keys = layers.map((layer) => (plainTopLevel(layer) ? blockKey(layer.name) : null));
  const push = (kind: LayerGroup['kind'], label: string, run: LayerInfo[]) => {
    if (run.length === 1) nodes.push({ kind: 'layer', layer: run[0] });
    else nodes.push({ kind: 'group', group: { id: `${kind}:${run[0].name}`, label, kind, layers: run } });
  };
  let i = 0;
  while (i < layers.length) {
    const layer = layers[i];
    const key = keys[i];
    let end = i + 1;
    if (layer.origin === 'pretrained' && layer.parent !== null) {
      while (end < layers.length && layers[end].origin === 'pretrained' && layers[end].parent === layer.parent) end++;
      push('nested', layer.parent, layers.slice(i, end));
    } else if (key !== null) {
      for (;;) {
        if (end < layers.length && keys[end] === key) {
          end++;
          continue;
        }
        // Unprefixed top-level layers followed by the same block are part of it.
        let next = end;
        while (next < layers.length && keys[next] === null && plainTopLevel(layers[next])) next++;
        if (next > end && next < layers.length && keys[next] === key) {
          end = next;
          continue;
        }
        break;
      }
      push('block', key, layers.slice(i, end));
    } else {
      nodes.push({ kind: 'layer', layer });
    }
    i = end;
  }
  return groupInceptionBlocks(nodes);
}

/** The second pass of `groupLayers`: runs of lone layers ending in `mixedN` become group mixedN. */
function groupInceptionBlocks(nodes: readonly TreeNode[]): TreeNode[] {
  const out: TreeNode[] = [];
  let pending: LayerInfo[] = []; // lone top-level layers since the last group or block end
  let seenBlockEnd = false;
  const flush = (layers: readonly LayerInfo[]) => layers.forEach((layer) => out.push({ kind: 'layer', layer }));
  for (const node of nodes) {
    if (node.kind === 'group' || !plainTopLevel(node.layer)) {
      flush(pending);
      pending = [];
      out.push(node);
    } else if (!INCEPTION_BLOCK_END.test(node.layer.name)) {
      pending.push(node.layer);
    } else {
      let start = 0;
      // Before the first block comes the stem, which ends at its last max pooling.
      if (!seenBlockEnd) for (let j = 0; j < pending.length; j++) if (pending[j].className === 'MaxPooling2D') start = j + 1;
      seenBlockEnd = true;
      flush(pending.slice(0, start));
      const run = [...pending.slice(start), node.layer];
      pending = [];
      if (run.length === 1) out.push(node);
      else out.push({ kind: 'group', group: { id: `block:${run[0].name}`, label: node.layer.name, kind: 'block', layers: run } });
    }
  }
  flush(pending);
  return out;
}

/**
 * "Freeze up to here": the names of every pretrained layer from the first up
 * to and including `name`, in order. Throws when `name` is not among `layers`.
 */
export function freezeUpTo(layers: readonly LayerInfo[], name: string): string[] {
  const index = layers.findIndex((layer) => layer.name === name);
  if (index < 0) throw new RangeError(`Layer '${name}' is not in the tree; pick a layer that is shown.`);
  return layers
    .slice(0, index + 1)
    .filter((layer) => layer.origin === 'pretrained')
    .map((layer) => layer.name);
}

/**
 * The pretrained layers from `from` to `to`, both included, in order whichever
 * comes first (a shift-click range). Empty when either name is not in `layers`.
 */
export function layerRange(layers: readonly LayerInfo[], from: string, to: string): string[] {
  const a = layers.findIndex((layer) => layer.name === from);
  const b = layers.findIndex((layer) => layer.name === to);
  if (a < 0 || b < 0) return [];
  return layers
    .slice(Math.min(a, b), Math.max(a, b) + 1)
    .filter((layer) => layer.origin === 'pretrained')
    .map((layer) => layer.name);
}

/** Whether all, none or some of a group's layers are frozen under `plan`. */
export function groupFrozenState(group: LayerGroup, plan: FreezePlan): 'all' | 'none' | 'mixed' {
  const frozen = group.layers.filter((layer) => isFrozen(layer, plan)).length;
  return frozen === 0 ? 'none' : frozen === group.layers.length ? 'all' : 'mixed';
}

/** A group's parameter count (trainable and never-trained weights together) and its frozen layer count. */
export function groupTotals(group: LayerGroup, plan: FreezePlan): { params: number; frozen: number } {
  let params = 0;
  let frozen = 0;
  for (const layer of group.layers) {
    params += layer.trainableParams + layer.nonTrainableParams;
    if (isFrozen(layer, plan)) frozen++;
  }
  return { params, frozen };
}

/** What a filter text leaves in the tree: the matching layers and the groups to open so they show. */
export interface TreeFilter {
  matches: ReadonlySet<string>;
  /** Ids of the groups holding a match. */
  expand: ReadonlySet<string>;
}

/**
 * Layers whose name, class name or group label contains `text` (trimmed, case
 * ignored). Null for a blank text: everything shows.
 */
export function filterTree(nodes: readonly TreeNode[], text: string): TreeFilter | null {
  const needle = text.trim().toLowerCase();
  if (!needle) return null;
  const hit = (value: string) => value.toLowerCase().includes(needle);
  const matches = new Set<string>();
  const expand = new Set<string>();
  for (const node of nodes) {
    if (node.kind === 'layer') {
      if (hit(node.layer.name) || hit(node.layer.className)) matches.add(node.layer.name);
      continue;
    }
    const labelHit = hit(node.group.label);
    for (const layer of node.group.layers) {
      if (labelHit || hit(layer.name) || hit(layer.className)) {
        matches.add(layer.name);
        expand.add(node.group.id);
      }
    }
  }
  return { matches, expand };
}

/** One row of the flattened tree as drawn, with its WAI-ARIA position among its siblings. */
export type TreeRow =
  | { kind: 'group'; key: string; group: LayerGroup; level: 1; posInSet: number; setSize: number; expanded: boolean }
  | { kind: 'layer'; key: string; layer: LayerInfo; level: 1 | 2; posInSet: number; setSize: number; groupId: string | null };

/** The row key of a group, from its id ("g:block:block_3_expand"), and of a layer ("l:conv1"); they never collide. */
export const groupRowKey = (groupId: string) => `g:${groupId}`;
/** See `groupRowKey`. */
export const layerRowKey = (name: string) => `l:${name}`;

/**
 * The rows to draw, top to bottom: every top-level node, and the children of
 * the groups in `expanded`; with a filter, only matching layers and the groups
 * that hold one.
 */
export function visibleRows(nodes: readonly TreeNode[], expanded: ReadonlySet<string>, filter: TreeFilter | null): TreeRow[] {
  const shows = (layer: LayerInfo) => !filter || filter.matches.has(layer.name);
  const top = nodes.filter((node) => (node.kind === 'layer' ? shows(node.layer) : node.group.layers.some(shows)));
  const rows: TreeRow[] = [];
  top.forEach((node, i) => {
    if (node.kind === 'layer') {
      rows.push({ kind: 'layer', key: layerRowKey(node.layer.name), layer: node.layer, level: 1, posInSet: i + 1, setSize: top.length, groupId: null });
      return;
    }
    const { group } = node;
    const open = expanded.has(group.id);
    rows.push({ kind: 'group', key: groupRowKey(group.id), group, level: 1, posInSet: i + 1, setSize: top.length, expanded: open });
    if (!open) return;
    const children = group.layers.filter(shows);
    children.forEach((layer, j) =>
      rows.push({ kind: 'layer', key: layerRowKey(layer.name), layer, level: 2, posInSet: j + 1, setSize: children.length, groupId: group.id }),
    );
  });
  return rows;
}
