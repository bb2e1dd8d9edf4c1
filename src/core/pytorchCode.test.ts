import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pytorchCode, selectNames, type PytorchCodeInput } from './pytorchCode';
import type { LayerInfo } from './types';

function layer(name: string, className = 'Conv2D', extra: Partial<LayerInfo> = {}): LayerInfo {
  const params = /Activation|ReLU|Pooling/.test(className) ? 0 : 10;
  const stats = className === 'BatchNormalization' ? 4 : 0;
  return {
    name,
    className,
    outputShape: [4, 4, 8],
    trainableParams: params,
    nonTrainableParams: stats,
    frozenInSource: false,
    origin: 'pretrained',
    parent: null,
    ...extra,
  };
}

/** A MobileNetV2-like stem, blocks block_1 … block_12 (expand, expand_BN, relu), and the head. */
function rows(): LayerInfo[] {
  const out = [layer('Conv1'), layer('bn_Conv1', 'BatchNormalization')];
  for (let n = 1; n <= 12; n++)
    out.push(layer(`block_${n}_expand`), layer(`block_${n}_expand_BN`, 'BatchNormalization'), layer(`block_${n}_expand_relu`, 'ReLU'));
  out.push(layer('head_pool', 'GlobalAveragePooling2D', { origin: 'head' }), layer('head_dense', 'Dense', { origin: 'head' }));
  return out;
}

/** Whether `name` is in a selection as the generated Python tests it. */
const inSelection = (s: { names: string[]; prefixes: string[] }, name: string) => s.names.includes(name) || s.prefixes.some((p) => name.startsWith(p));

function input(patch: Partial<PytorchCodeInput> = {}): PytorchCodeInput {
  const layers = rows();
  const freezePlan = Object.fromEntries(layers.filter((l) => l.origin === 'pretrained').map((l) => [l.name, !/^block_(1[0-2]|9)_/.test(l.name)]));
  return { modelName: 'mobilenet_v2', cutLayer: 'block_12_expand_relu', layers, freezePlan, batchNormOverrides: {}, config: { learningRate: 0.001 }, ...patch };
}

describe('selectNames', () => {
  it('uses a block prefix only where every layer of the block is selected, and names the rest', () => {
    const all = rows().map((l) => l.name);
    const selected = new Set(['Conv1', 'block_1_expand', 'block_1_expand_BN', 'block_1_expand_relu', 'block_10_expand']);
    expect(selectNames(all, selected)).toEqual({ names: ['Conv1', 'block_10_expand'], prefixes: ['block_1_'] });
  });

  it('is exact for any selection of any names', () => {
    const name = fc.constantFrom(
      'block_1_a',
      'block_1_b',
      'block_10_a',
      'block_11_b',
      'block_1',
      'conv2_block1_1_conv',
      'conv2_block1_2_conv',
      'x',
      'block2a_se',
      'block2a_x',
    );
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1 }), fc.func(fc.boolean()), (all, pick) => {
        const selected = new Set(all.filter((n) => pick(n)));
        const selection = selectNames(all, selected);
        for (const n of all) expect(inSelection(selection, n)).toBe(selected.has(n));
      }),
    );
  });
});

describe('pytorchCode', () => {
  it('states the frozen layers by block prefix and by name, exactly', () => {
    const code = pytorchCode(input());
    expect(code).toContain(`frozen_names = {"Conv1", "bn_Conv1"}`);
    expect(code).toMatch(/frozen_prefixes = \(\s*"block_1_", "block_2_",[^)]*"block_8_",?\s*\)/);
    expect(code).not.toContain('"block_9_"');
    expect(code).toContain('    return name in frozen_names or name.startswith(frozen_prefixes)');
    expect(code).toContain('        param.requires_grad = not is_frozen(name)');
    expect(code).toContain(`# The freeze plan of 'mobilenet_v2' (cut at 'block_12_expand_relu'): 26 of 38 pretrained layers frozen.`);
    expect(code).toContain('# Parameters: 90 trainable, 232 non-trainable (as Keras counts).');
  });

  it('changes with a toggle', () => {
    const before = pytorchCode(input());
    const after = pytorchCode(input({ freezePlan: { ...input().freezePlan, block_3_expand: false } }));
    expect(after).not.toBe(before);
    expect(after).toContain('"block_3_expand_BN", "block_3_expand_relu"');
    expect(after).not.toContain('"block_3_"');
  });

  it('keeps frozen layers in eval mode and writes the BatchNorm modes that take effect', () => {
    expect(pytorchCode(input())).toContain('        layer.train(not is_frozen(name))');
    const code = pytorchCode(input({ batchNormOverrides: { bn_Conv1: 'train-stats', block_10_expand_BN: 'inference', block_11_expand_BN: 'train-stats' } }));
    expect(code).toContain('train_stats = {"bn_Conv1"}');
    expect(code).toContain('inference = {"block_10_expand_BN"}');
    expect(code).not.toContain('"block_11_expand_BN"}');
    expect(code).toContain('        layer.train(name in train_stats if is_frozen(name) else name not in inference)');
  });

  it('builds the optimizer from trainable parameters, one group per multiplier, multiplier 0 frozen', () => {
    expect(pytorchCode(input())).toContain('optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr, eps=1e-7)');
    const multipliers = {
      block_9_expand: 0,
      block_9_expand_BN: 0,
      block_9_expand_relu: 0,
      block_10_expand: 0.1,
      block_10_expand_BN: 0.1,
      block_10_expand_relu: 0.1,
      block_11_expand: 0.5,
    };
    const code = pytorchCode(input({ config: { learningRate: 0.01, optimizer: 'momentum', rateMultipliers: multipliers } }));
    expect(code).toContain('"block_9_"'); // multiplier 0: frozen, in the frozen prefixes
    expect(code).toContain('lr = 0.01');
    expect(code).toContain('# One parameter group per learning-rate multiplier (3 groups), trainable parameters only.');
    expect(code).toContain('rate1_prefixes = ("block_10_",)');
    expect(code).toContain('rate2_names = {"block_11_expand"}');
    expect(code).toMatch(/if name.startswith\(rate1_prefixes\):\n {8}return 0.1\n {4}if name in rate2_names:\n {8}return 0.5\n {4}return 1.0/);
    expect(code).toContain('optimizer = torch.optim.SGD([{"params": ps, "lr": lr * m} for m, ps in groups.items()], lr=lr, momentum=0.9)');
    expect(code).toContain('assert all(p.requires_grad for group in optimizer.param_groups for p in group["params"])');
  });

  it('writes an empty frozen set for a full fine-tune', () => {
    const code = pytorchCode(input({ freezePlan: {} }));
    expect(code).toContain('    return False');
    expect(code).not.toContain('frozen_names');
  });
});
