import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blockKey,
  filterTree,
  freezeUpTo,
  groupFrozenState,
  groupLayers,
  groupTotals,
  layerRange,
  visibleRows,
  type LayerGroup,
  type TreeNode,
} from './layerGroups';
import type { LayerInfo } from './types';

/** Every layer of the tree in tree order (which is model order). */
function treeLayers(nodes: readonly TreeNode[]): LayerInfo[] {
  return nodes.flatMap((node) => (node.kind === 'layer' ? [node.layer] : node.group.layers));
}

function layer(name: string, extra: Partial<LayerInfo> = {}): LayerInfo {
  return {
    name,
    className: 'Conv2D',
    outputShape: [4, 4, 8],
    trainableParams: 10,
    nonTrainableParams: 0,
    frozenInSource: false,
    origin: 'pretrained',
    parent: null,
    ...extra,
  };
}

const head = (name: string) => layer(name, { origin: 'head', className: 'Dense' });

/** The tree as labels: "name" for a lone layer, "label[a b c]" for a group. */
function shape(nodes: readonly TreeNode[]): string[] {
  return nodes.map((n) => (n.kind === 'layer' ? n.layer.name : `${n.group.label}[${n.group.layers.map((l) => l.name).join(' ')}]`));
}

const groupOf = (nodes: readonly TreeNode[], label: string): LayerGroup => {
  const found = nodes.find((n) => n.kind === 'group' && n.group.label === label);
  if (!found || found.kind !== 'group') throw new Error(`no group '${label}'`);
  return found.group;
};

describe('blockKey', () => {
  it.each([
    ['block_3_expand', 'block_3'],
    ['block_16_project_BN', 'block_16'],
    ['expanded_conv_depthwise', 'expanded_conv'],
    ['expanded_conv_2/expand', 'expanded_conv_2'],
    ['block2a_expand_conv', 'block2a'],
    ['block4_sepconv1_bn', 'block4'],
    ['block35_1_conv', 'block35_1'],
    ['block17_10', 'block17_10'],
    ['conv3_block2_1_conv', 'conv3_block2'],
    ['stage1_unit2_conv1', 'stage1_unit2'],
    ['convnext_tiny_stage_0_block_1_depthwise_conv', 'convnext_tiny_stage_0_block_1'],
    ['regnetx002_Stage_0_XBlock_0_conv_1x1_1', 'regnetx002_Stage_0_XBlock_0'],
    ['conv_dw_3_bn', 'conv_dw/pw_3'],
    ['conv_pw_3', 'conv_dw/pw_3'],
    ['conv_pad_4', 'conv_dw/pw_4'],
    // Not blocks: stems, tops, generic names, the digits model.
    ['Conv1', null],
    ['bn_Conv1', null],
    ['Conv_1_bn', null],
    ['conv1_conv', null],
    ['stem_conv', null],
    ['conv2d_12', null],
    ['mixed5', null],
    ['block_3', null],
    ['predictions', null],
  ])('%s → %s', (name, key) => {
    expect(blockKey(name)).toBe(key);
  });
});

describe('groupLayers', () => {
  it('groups a MobileNetV2 by block and leaves the stem, the top and the head alone', () => {
    const names = [
      'Conv1',
      'bn_Conv1',
      'Conv1_relu',
      'expanded_conv_depthwise',
      'expanded_conv_depthwise_BN',
      'expanded_conv_project',
      'block_1_expand',
      'block_1_expand_BN',
      'block_1_depthwise',
      'block_2_expand',
      'block_2_project_BN',
      'block_2_add',
      'Conv_1',
      'Conv_1_bn',
      'out_relu',
    ];
    const tree = groupLayers([...names.map((n) => layer(n)), head('head_pool'), head('head_dense')]);
    expect(shape(tree)).toEqual([
      'Conv1',
      'bn_Conv1',
      'Conv1_relu',
      'expanded_conv[expanded_conv_depthwise expanded_conv_depthwise_BN expanded_conv_project]',
      'block_1[block_1_expand block_1_expand_BN block_1_depthwise]',
      'block_2[block_2_expand block_2_project_BN block_2_add]',
      'Conv_1',
      'Conv_1_bn',
      'out_relu',
      'head_pool',
      'head_dense',
    ]);
  });

  it('puts the layers of a nested model under one group named after it, whatever their names', () => {
    const tree = groupLayers([
      layer('input_scale'),
      layer('Conv1', { parent: 'mobilenetv2_1.00_224' }),
      layer('block_1_expand', { parent: 'mobilenetv2_1.00_224' }),
      layer('block_1_project', { parent: 'mobilenetv2_1.00_224' }),
      layer('pool'),
      head('head_dense'),
    ]);
    expect(shape(tree)).toEqual(['input_scale', 'mobilenetv2_1.00_224[Conv1 block_1_expand block_1_project]', 'pool', 'head_dense']);
    expect(groupOf(tree, 'mobilenetv2_1.00_224').kind).toBe('nested');
  });

  it('does not make a group of one layer', () => {
    const tree = groupLayers([layer('stem'), layer('block_1_expand'), layer('block_2_expand'), layer('x', { parent: 'inner' }), layer('top')]);
    expect(shape(tree)).toEqual(['stem', 'block_1_expand', 'block_2_expand', 'x', 'top']);
  });

  it('takes an unprefixed layer sandwiched inside a block into it (Xception residual conv), not one between blocks', () => {
    const tree = groupLayers(
      ['block2_sepconv1', 'block2_sepconv2_bn', 'conv2d', 'block2_pool', 'batch_normalization', 'add', 'block3_sepconv1_act', 'block3_sepconv1'].map((n) =>
        layer(n),
      ),
    );
    expect(shape(tree)).toEqual([
      'block2[block2_sepconv1 block2_sepconv2_bn conv2d block2_pool]',
      'batch_normalization',
      'add',
      'block3[block3_sepconv1_act block3_sepconv1]',
    ]);
  });

  it('ends Inception blocks at mixedN; the stem up to its last max pooling stays top level', () => {
    const rows = [
      layer('conv2d'),
      layer('max_pooling2d', { className: 'MaxPooling2D' }),
      layer('conv2d_1'),
      layer('max_pooling2d_1', { className: 'MaxPooling2D' }),
      layer('conv2d_5'),
      layer('average_pooling2d', { className: 'AveragePooling2D' }),
      layer('mixed0', { className: 'Concatenate' }),
      layer('conv2d_12'),
      layer('max_pooling2d_2', { className: 'MaxPooling2D' }),
      layer('mixed1', { className: 'Concatenate' }),
      layer('avg_pool'),
      head('head_dense'),
    ];
    expect(shape(groupLayers(rows))).toEqual([
      'conv2d',
      'max_pooling2d',
      'conv2d_1',
      'max_pooling2d_1',
      'mixed0[conv2d_5 average_pooling2d mixed0]',
      'mixed1[conv2d_12 max_pooling2d_2 mixed1]',
      'avg_pool',
      'head_dense',
    ]);
  });

  it('gives every group a distinct id even when a block label repeats', () => {
    const tree = groupLayers(['block_1_a', 'block_1_b', 'other', 'top', 'block_1_c', 'block_1_d'].map((n) => layer(n)));
    // 'other' and 'top' sit between two runs of block_1, so the sandwich rule joins them all.
    expect(shape(tree)).toEqual(['block_1[block_1_a block_1_b other top block_1_c block_1_d]']);
    const split = groupLayers([layer('block_1_a'), layer('block_1_b'), layer('x', { parent: 'm' }), layer('block_1_c'), layer('block_1_d')]);
    const ids = split.filter((n) => n.kind === 'group').map((n) => (n as { group: LayerGroup }).group.id);
    expect(ids).toEqual(['block:block_1_a', 'block:block_1_c']);
  });

  it('keeps order, makes groups of two or more, and never groups a head layer (property)', () => {
    const name = fc.tuple(
      fc.constantFrom('block_1_', 'block_2_', 'conv2_block1_', 'mixed', 'Conv', 'bn_', 'block3a_'),
      fc.constantFrom('a', 'b', '0', '1', 'x_bn'),
    );
    const row = fc.record({
      name,
      parent: fc.constantFrom(null, null, null, 'inner', 'other'),
      className: fc.constantFrom('Conv2D', 'MaxPooling2D', 'Concatenate'),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), fc.integer({ min: 0, max: 2 }), (specs, heads) => {
        const layers = [
          ...specs.map((s, i) => layer(`${s.name[0]}${s.name[1]}_${i}`, { parent: s.parent, className: s.className })),
          ...Array.from({ length: heads }, (_, i) => head(`head_${i}`)),
        ];
        const tree = groupLayers(layers);
        expect(treeLayers(tree)).toEqual(layers);
        const ids = new Set<string>();
        for (const node of tree) {
          if (node.kind === 'layer') continue;
          const { group } = node;
          expect(group.layers.length).toBeGreaterThanOrEqual(2);
          expect(group.layers.every((l) => l.origin === 'pretrained')).toBe(true);
          if (group.kind === 'nested') expect(group.layers.every((l) => l.parent === group.label)).toBe(true);
          else expect(group.layers.every((l) => l.parent === null)).toBe(true);
          expect(ids.has(group.id)).toBe(false);
          ids.add(group.id);
        }
        // Nothing at the top level could have joined a neighbour of its own nested model.
        tree.forEach((node, i) => {
          const next = tree[i + 1];
          if (node.kind === 'layer' && node.layer.parent && next?.kind === 'layer') expect(next.layer.parent).not.toBe(node.layer.parent);
        });
      }),
    );
  });
});

describe('freeze actions', () => {
  const rows = [layer('stem'), layer('block_1_a'), layer('block_1_b'), layer('block_2_a'), layer('block_2_b'), head('head_dense')];

  it('"Freeze up to here" names every pretrained layer from the first to the given one', () => {
    expect(freezeUpTo(rows, 'block_1_b')).toEqual(['stem', 'block_1_a', 'block_1_b']);
    expect(freezeUpTo(rows, 'stem')).toEqual(['stem']);
    expect(freezeUpTo(rows, 'head_dense')).toEqual(['stem', 'block_1_a', 'block_1_b', 'block_2_a', 'block_2_b']);
    expect(() => freezeUpTo(rows, 'nope')).toThrow("Layer 'nope' is not in the tree");
  });

  it.each([
    ['block_1_b', 'block_2_b', ['block_1_b', 'block_2_a', 'block_2_b']],
    ['block_2_b', 'block_1_b', ['block_1_b', 'block_2_a', 'block_2_b']],
    ['stem', 'stem', ['stem']],
    ['block_2_a', 'head_dense', ['block_2_a', 'block_2_b']],
    ['gone', 'stem', []],
  ])('range %s → %s', (from, to, expected) => {
    expect(layerRange(rows, from, to)).toEqual(expected);
  });

  it('a range is the same set both ways and a prefix of "up to" from the first layer (property)', () => {
    const names = rows.map((r) => r.name);
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.constantFrom(...names), (a, b) => {
        expect(layerRange(rows, a, b)).toEqual(layerRange(rows, b, a));
        expect(layerRange(rows, 'stem', b)).toEqual(freezeUpTo(rows, b));
      }),
    );
  });

  it('a group is frozen all, none or mixed, and sums its parameters', () => {
    const group = groupOf(groupLayers(rows), 'block_1');
    expect(groupFrozenState(group, {})).toBe('none');
    expect(groupFrozenState(group, { block_1_a: true })).toBe('mixed');
    expect(groupFrozenState(group, { block_1_a: true, block_1_b: true })).toBe('all');
    expect(groupFrozenState(group, { block_1_a: true, block_1_b: false })).toBe('mixed');
    expect(groupTotals({ ...group, layers: [layer('a', { trainableParams: 5, nonTrainableParams: 2 }), layer('b')] }, { b: true })).toEqual({
      params: 17,
      frozen: 1,
    });
  });
});

describe('filter and visible rows', () => {
  const tree = groupLayers([
    layer('stem'),
    layer('block_1_expand'),
    layer('block_1_expand_BN', { className: 'BatchNormalization' }),
    layer('block_2_expand'),
    layer('block_2_project'),
    layer('c1', { parent: 'backbone' }),
    layer('c2', { parent: 'backbone' }),
    head('head_dense'),
  ]);
  const ids = (filter: ReturnType<typeof filterTree>) => [...(filter?.expand ?? [])];

  it('matches names and class names, case ignored, and opens the groups holding a match', () => {
    const filter = filterTree(tree, '  BN ');
    expect([...filter!.matches]).toEqual(['block_1_expand_BN']);
    expect(ids(filter)).toEqual(['block:block_1_expand']);
    expect([...filterTree(tree, 'batchnorm')!.matches]).toEqual(['block_1_expand_BN']);
    expect([...filterTree(tree, 'DENSE')!.matches]).toEqual(['head_dense']);
    expect(filterTree(tree, '   ')).toBeNull();
  });

  it('a group label match shows the whole group', () => {
    const filter = filterTree(tree, 'backbone');
    expect([...filter!.matches]).toEqual(['c1', 'c2']);
    expect(ids(filter)).toEqual(['nested:c1']);
  });

  it('flattens only open groups and states each row’s level and position among its siblings', () => {
    const closed = visibleRows(tree, new Set(), null);
    expect(closed.map((r) => r.key)).toEqual(['l:stem', 'g:block:block_1_expand', 'g:block:block_2_expand', 'g:nested:c1', 'l:head_dense']);
    expect(closed.map((r) => `${r.level}:${r.posInSet}/${r.setSize}`)).toEqual(['1:1/5', '1:2/5', '1:3/5', '1:4/5', '1:5/5']);
    const open = visibleRows(tree, new Set(['block:block_2_expand']), null);
    expect(open.map((r) => `${r.key} ${r.level}:${r.posInSet}/${r.setSize}`)).toEqual([
      'l:stem 1:1/5',
      'g:block:block_1_expand 1:2/5',
      'g:block:block_2_expand 1:3/5',
      'l:block_2_expand 2:1/2',
      'l:block_2_project 2:2/2',
      'g:nested:c1 1:4/5',
      'l:head_dense 1:5/5',
    ]);
  });

  it('with a filter, hides what does not match and counts only what shows', () => {
    const filter = filterTree(tree, 'expand');
    const rows = visibleRows(tree, new Set(filter!.expand), filter);
    expect(rows.map((r) => `${r.key} ${r.level}:${r.posInSet}/${r.setSize}`)).toEqual([
      'g:block:block_1_expand 1:1/2',
      'l:block_1_expand 2:1/2',
      'l:block_1_expand_BN 2:2/2',
      'g:block:block_2_expand 1:2/2',
      'l:block_2_expand 2:1/1',
    ]);
  });

  it('with every group open and no filter, the rows are every layer in order plus one per group (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('block_1_a', 'block_2_b', 'stem', 'conv3_block1_x', 'mixed2'), { maxLength: 30 }), (prefixes) => {
        const layers = prefixes.map((p, i) => layer(`${p}_${i}`));
        const nodes = groupLayers(layers);
        const all = new Set(nodes.flatMap((n) => (n.kind === 'group' ? [n.group.id] : [])));
        const rows = visibleRows(nodes, all, null);
        expect(rows.filter((r) => r.kind === 'layer').map((r) => (r as { layer: LayerInfo }).layer)).toEqual(layers);
        expect(rows.length).toBe(layers.length + all.size);
      }),
    );
  });
});
