/**
 * Issue 14, named errors: the bundle's train.py refuses an unsupported layer class, a model without weights and
 * a recipe whose images are missing, each with a message naming the layer / file and a non-zero exit, before it
 * trains anything; --help documents the stable command line.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, torchrunArgs, requirePythonTorch, writeDigitsBundle } from '../../scripts/torchBundle';

let root = '';
let bundle = '';

function run(args: string[], cwd: string) {
  const result = spawnSync(PYTHON, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A copy of the bundle with `edit` applied to its parsed file `name`. */
function variant(label: string, edit: (dir: string) => void): string {
  const dir = join(root, label);
  cpSync(bundle, dir, { recursive: true });
  edit(dir);
  return dir;
}

function editJson(dir: string, name: string, edit: (json: any) => void): void {
  const json = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  edit(json);
  writeFileSync(join(dir, name), JSON.stringify(json));
}

beforeAll(async () => {
  requirePythonTorch();
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'ts-torch-errors-'));
  bundle = join(root, 'bundle');
  await writeDigitsBundle(bundle, join(root, 'digits'), { plan: { conv1: true } });
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('train.py named errors', () => {
  it('--help states the stable command line', () => {
    const result = run(['train.py', '--help'], bundle);
    expect(result.status).toBe(0);
    for (const text of [
      'python train.py [--data DIR] [--epochs N] [--out DIR]',
      'torchrun --nproc_per_node=4 train.py --data ./images',
      'python train.py --predict DIR_OR_FILES --out probs.json [--weights out/]',
      'python train.py --onnx model.onnx [--weights out/]',
      'python3 -m torch.distributed.run --nproc_per_node=N --redirects 1 --tee 1 train.py',
    ]) {
      expect(result.stdout).toContain(text);
    }
  });

  it('an unsupported layer class is named with its layer, and nothing trains', () => {
    const dir = variant('unsupported', (d) =>
      editJson(d, 'model.json', (json) => {
        json.modelTopology.config.layers.find((l: any) => l.name === 'relu3').class_name = 'LSTM';
      }),
    );
    const result = run(['train.py', '--data', '../digits', '--out', 'out'], dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: Layer 'relu3' is a LSTM, a layer class the PyTorch bundle does not reproduce.");
    expect(result.stdout).not.toContain('epoch 1');
  });

  it('an unsupported setting of a supported class is named too (Conv2D causal padding)', () => {
    const dir = variant('causal', (d) =>
      editJson(d, 'model.json', (json) => {
        json.modelTopology.config.layers.find((l: any) => l.name === 'conv2').config.padding = 'causal';
      }),
    );
    const result = run(['train.py', '--onnx', 'm.onnx'], dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Layer 'conv2' (Conv2D) uses padding 'causal'");
  });

  it.each([
    ['weights.bin missing', (d: string) => rmSync(join(d, 'weights.bin')), "weights.bin' that model.json names is missing"],
    [
      'no weights manifest',
      (d: string) => editJson(d, 'model.json', (json) => delete json.weightsManifest),
      'has no weightsManifest: the model comes without weights',
    ],
    ['an empty weight file', (d: string) => writeFileSync(join(d, 'weights.bin'), new Uint8Array(0)), 'hold 0 bytes but'],
    [
      'a manifest without a layer’s weight',
      (d: string) =>
        editJson(d, 'model.json', (json) => (json.weightsManifest[0].weights.find((w: any) => w.name === 'conv3/kernel').name = 'conv3/kernel_renamed')),
      "layer 'conv3' needs the weight 'conv3/kernel'",
    ],
  ])('a model without weights (%s) is a named error', (label, edit, message) => {
    const dir = variant(`weights-${label.replace(/\W+/g, '-')}`, edit);
    const result = run(['train.py', '--data', '../digits'], dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('a recipe whose images are missing names how many and which, and points at --data', () => {
    const partial = join(root, 'partial');
    cpSync(join(root, 'digits'), partial, { recursive: true });
    rmSync(join(partial, '7'), { recursive: true });
    const result = run(['train.py', '--data', '../partial'], bundle);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/error: 200 of the 1000 images recipe\.json's split names are not in '\.\.\/partial' \(by path or SHA-256\): '7\/0001\.png'/);
    expect(result.stderr).toContain('--allow-missing');
  });

  it('no data at all (no --data and no data/ in the bundle) names the folder', () => {
    const result = run(['train.py'], bundle);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("data' does not exist; pass --data DIR with one folder per class (5, 6, 7, 8, 9)");
  });

  it('images renamed since the export are found by their SHA-256; new ones go to train', () => {
    const moved = join(root, 'renamed');
    cpSync(join(root, 'digits'), moved, { recursive: true });
    cpSync(join(moved, '5/0001.png'), join(moved, '5/renamed.png'));
    rmSync(join(moved, '5/0001.png'));
    mkdirSync(join(moved, '6/extra'), { recursive: true });
    cpSync(join(moved, '6/0001.png'), join(moved, '6/extra/copy.png'));
    const result = run(['train.py', '--data', '../renamed', '--epochs', '1', '--out', 'out-renamed'], bundle);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("1 images in '../renamed' are not in the recipe's split; they were put in train.");
    expect(result.stdout).toContain('Training 801 images');
  });

  it('a plan that freezes everything is refused before a step, naming what to do', () => {
    const dir = variant('all-frozen', (d) =>
      editJson(d, 'recipe.json', (json) => {
        for (const name of Object.keys(json.freezePlan)) json.freezePlan[name] = true;
      }),
    );
    const result = run(['train.py', '--data', '../digits'], dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("error: Nothing to train: every layer of recipe.json's freezePlan is frozen");
  });

  it('the seed check fails loudly, naming the parameter, when the optimizer holds a frozen one — also under python -O', () => {
    const code = [
      'import torch',
      'from transfer_studio_torch import load_model, apply_freeze_plan',
      'from transfer_studio_torch.freeze import seed_checks',
      "m = load_model('.')",
      "apply_freeze_plan(m, {'conv1': True})",
      'groups = [{"params": list(m.parameters())}]',
      'seed_checks(m, groups)',
    ].join('\n');
    for (const flags of [[], ['-O']]) {
      const result = run([...flags, '-c', code], bundle);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/FrozenInOptimizerError: \d+ parameters the optimizer holds have requires_grad = False: conv1\//);
    }
  });

  it('a loss that becomes NaN stops every process with a named error before the step moves a weight (no rank left waiting)', () => {
    const dir = variant('nan', (d) => editJson(d, 'recipe.json', (json) => Object.assign(json.config, { learningRate: 1e30, optimizer: 'sgd', epochs: 3 })));
    const single = run(['train.py', '--data', '../digits', '--out', 'out'], dir);
    expect(single.status).toBe(2);
    expect(single.stderr).toMatch(/The loss became (nan|inf) at step \d+ \(on at least one process\); no weight was changed by that step/);
    const ddp = run([...torchrunArgs(2), 'train.py', '--data', '../digits', '--out', 'out2'], dir);
    expect(ddp.status).not.toBe(0);
    expect(ddp.status).not.toBeNull(); // null: killed by the timeout, a rank hung
    expect(ddp.stdout + ddp.stderr).toMatch(/The loss became (nan|inf)/);
  });

  it('a recipe of another format is refused by name', () => {
    const dir = variant('recipe', (d) => editJson(d, 'recipe.json', (json) => delete json.config));
    const result = run(['train.py', '--data', '../digits'], dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("recipe.json has no 'config'");
  });
});
