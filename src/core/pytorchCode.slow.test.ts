/**
 * The *PyTorch code* view's text, run by Python with torch: on a stand-in for the bundle's model (one torch module
 * per layer name, as `leaf_layers()` gives them) every parameter's requires_grad, every layer's train/eval mode after
 * `set_modes()` and the optimizer's groups are what the studio's rules say for the plan.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pytorchCode, type PytorchCodeInput } from './pytorchCode';
import type { LayerInfo } from './types';

const PYTHON = '/usr/bin/python3';

function layer(name: string, className: string, origin: LayerInfo['origin'] = 'pretrained'): LayerInfo {
  return { name, className, outputShape: [2, 2, 2], trainableParams: 1, nonTrainableParams: 0, frozenInSource: false, origin, parent: null };
}

const layers: LayerInfo[] = [
  layer('Conv1', 'Conv2D'),
  layer('bn_Conv1', 'BatchNormalization'),
  ...[1, 2, 3, 10].flatMap((n) => [layer(`block_${n}_conv`, 'Conv2D'), layer(`block_${n}_BN`, 'BatchNormalization'), layer(`block_${n}_relu`, 'ReLU')]),
  layer('head_pool', 'GlobalAveragePooling2D', 'head'),
  layer('head_dense', 'Dense', 'head'),
];

/** A fake transfer_studio_torch: load_model gives a module whose leaf_layers() maps each layer name to a torch module. */
const FAKE_PACKAGE = `
import torch
from torch import nn
NAMES = __NAMES__
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.mods = nn.ModuleDict({
            n.replace('.', '_'): (nn.BatchNorm2d(2) if c == 'BatchNormalization' else nn.Conv2d(2, 2, 1) if c in ('Conv2D', 'Dense') else nn.ReLU())
            for n, c in NAMES})
    def leaf_layers(self):
        return {n: self.mods[n] for n, _ in NAMES}
def load_model(path):
    return Model()
`;

const REPORT = `
import json
names = {id(p): n for n, l in layers.items() for p in l.parameters()}
set_modes()
print(json.dumps({
    "requiresGrad": {n: [p.requires_grad for p in l.parameters()] for n, l in layers.items()},
    "training": {n: l.training for n, l in layers.items()},
    "groups": [[g["lr"], sorted({names[id(p)] for p in g["params"]})] for g in optimizer.param_groups],
}))
`;

function run(input: PytorchCodeInput): { requiresGrad: Record<string, boolean[]>; training: Record<string, boolean>; groups: [number, string[]][] } {
  const dir = mkdtempSync(join(tmpdir(), 'pytorch-code-'));
  const names = JSON.stringify(layers.map((l) => [l.name, l.className]));
  writeFileSync(join(dir, 'transfer_studio_torch.py'), FAKE_PACKAGE.replace('__NAMES__', names));
  writeFileSync(join(dir, 'plan.py'), pytorchCode(input) + REPORT);
  const out = execFileSync(PYTHON, ['plan.py'], { cwd: dir, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('the PyTorch code, run by torch', () => {
  it('freezes, sets modes and groups the optimizer as the studio does', () => {
    const input: PytorchCodeInput = {
      modelName: 'm',
      cutLayer: 'block_10_relu',
      layers,
      freezePlan: { Conv1: true, bn_Conv1: true, block_1_conv: true, block_1_BN: true, block_1_relu: true, block_2_conv: true, block_2_BN: false },
      batchNormOverrides: { bn_Conv1: 'train-stats', block_3_BN: 'inference', block_1_BN: 'inference' },
      config: {
        learningRate: 0.01,
        optimizer: 'adam',
        rateMultipliers: { block_10_conv: 0, block_3_conv: 0.1, block_3_BN: 0.1, block_3_relu: 0.1, block_2_BN: 0.5 },
      },
    };
    const result = run(input);
    const frozen = new Set(['Conv1', 'bn_Conv1', 'block_1_conv', 'block_1_BN', 'block_1_relu', 'block_2_conv', 'block_10_conv']);
    for (const l of layers) {
      if (l.className === 'ReLU' || l.className === 'GlobalAveragePooling2D') continue;
      expect(result.requiresGrad[l.name], l.name).toEqual([!frozen.has(l.name), !frozen.has(l.name)]);
    }
    // Frozen layers in eval(), trainable in train(); 'train-stats' trains a frozen BN's statistics, 'inference' keeps a trainable one's.
    expect(result.training).toMatchObject({
      Conv1: false,
      bn_Conv1: true,
      block_1_BN: false,
      block_2_BN: true,
      block_3_BN: false,
      block_10_BN: true,
      head_dense: true,
    });
    const groups = [...result.groups].sort((a, b) => a[0] - b[0]);
    expect(groups.map((g) => g[1])).toEqual([['block_3_BN', 'block_3_conv'], ['block_2_BN'], ['block_10_BN', 'head_dense']]);
    [0.001, 0.005, 0.01].forEach((lr, i) => expect(groups[i][0]).toBeCloseTo(lr, 12));
  });
});
