/**
 * The *PyTorch code* view (issue 14): the few lines of plain PyTorch that express the current freeze plan on the
 * bundle's model — `requires_grad` per layer, the eval-mode rule for frozen layers and the BatchNorm modes, and the
 * optimizer's parameter groups per learning-rate multiplier. Layers are named exactly; where every layer of a block
 * shares the same setting, the block's name prefix stands for them (checked against every layer, so it is exact).
 * Pure: no tfjs, no DOM.
 */
import { blockKey } from './layerGroups';
import { countParams } from './params';
import { withStillLayers } from './rateMultipliers';
import type { BatchNormOverrides, FreezePlan, LayerInfo, TrainConfig } from './types';

/** What the code is written for. */
export interface PytorchCodeInput {
  modelName: string;
  cutLayer: string;
  /** The transfer rows: pretrained layers up to the cut, then the head. */
  layers: readonly LayerInfo[];
  freezePlan: FreezePlan;
  batchNormOverrides: BatchNormOverrides;
  config: Pick<TrainConfig, 'learningRate' | 'optimizer' | 'rateMultipliers'>;
}

/** A set of layer names as exact names plus name prefixes: a layer is in the set when it is named or starts with a prefix. */
export interface NameSelection {
  names: string[];
  prefixes: string[];
}

/**
 * `selected` among `all` (layer names, model order) as names and block prefixes ("block_3_"): a prefix is used
 * when at least two layers start with it and every layer of `all` that starts with it is selected, so the selection
 * is exactly `selected`.
 */
export function selectNames(all: readonly string[], selected: ReadonlySet<string>): NameSelection {
  const prefixes: string[] = [];
  const tried = new Set<string>();
  for (const name of all) {
    if (!selected.has(name)) continue;
    const key = blockKey(name);
    const prefix = key === null ? null : `${key}_`;
    if (prefix === null || !name.startsWith(prefix) || tried.has(prefix)) continue;
    tried.add(prefix);
    const members = all.filter((n) => n.startsWith(prefix));
    if (members.length >= 2 && members.every((n) => selected.has(n))) prefixes.push(prefix);
  }
  const names = all.filter((n) => selected.has(n) && !prefixes.some((p) => n.startsWith(p)));
  return { names, prefixes };
}

/** A Python string literal of `text` (JSON's escapes are Python's). */
const py = (text: string) => JSON.stringify(text);

/** `open` items `close`, wrapped at about 100 characters with a 4-space indent when long. */
function pyList(open: string, items: readonly string[], close: string, indent = ''): string {
  if (items.length === 0) return open === '{' ? 'set()' : `${open}${close}`;
  const single = open === '(' && items.length === 1 ? `(${items[0]},)` : `${open}${items.join(', ')}${close}`;
  if (single.length + indent.length <= 100) return single;
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line && `${line} ${item},`.length + indent.length + 4 > 100) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line} ${item},` : `${item},`;
  }
  lines.push(line);
  return `${open}\n${lines.map((l) => `${indent}    ${l}`).join('\n')}\n${indent}${close}`;
}

/** `name in {…} or name.startswith((…))` for a selection, as a Python expression over `name`. */
function membership(selection: NameSelection, namesVar: string, prefixesVar: string): string {
  const parts = [...(selection.names.length ? [`name in ${namesVar}`] : []), ...(selection.prefixes.length ? [`name.startswith(${prefixesVar})`] : [])];
  return parts.length ? parts.join(' or ') : 'False';
}

/** Python constants for a selection (`<base>_names`, `<base>_prefixes`), and the expression that tests `name`. */
function selectionCode(base: string, selection: NameSelection): { lines: string[]; test: string } {
  const lines: string[] = [];
  if (selection.names.length) lines.push(`${base}_names = ${pyList('{', selection.names.map(py), '}')}`);
  if (selection.prefixes.length) lines.push(`${base}_prefixes = ${pyList('(', selection.prefixes.map(py), ')')}  # every layer of these blocks`);
  return { lines, test: membership(selection, `${base}_names`, `${base}_prefixes`) };
}

const OPTIMIZERS: Record<NonNullable<TrainConfig['optimizer']>, (params: string, lr: string) => string> = {
  adam: (params, lr) => `torch.optim.Adam(${params}, lr=${lr}, eps=1e-7)  # tfjs' Adam: epsilon 1e-7`,
  sgd: (params, lr) => `torch.optim.SGD(${params}, lr=${lr})`,
  momentum: (params, lr) => `torch.optim.SGD(${params}, lr=${lr}, momentum=0.9)`,
};

/** The optimizer lines: one parameter group per distinct multiplier of the trainable layers (multiplier 0 is frozen above). */
function optimizerCode(input: PytorchCodeInput, trainable: readonly string[]): string[] {
  const optimizer = OPTIMIZERS[input.config.optimizer ?? 'adam'];
  const multipliers = input.config.rateMultipliers ?? {};
  const byRate = new Map<number, string[]>();
  for (const name of trainable) {
    const rate = multipliers[name] ?? 1;
    byRate.set(rate, [...(byRate.get(rate) ?? []), name]);
  }
  const lines = [`lr = ${input.config.learningRate}`];
  const others = [...byRate.keys()].filter((rate) => rate !== 1).sort((a, b) => a - b);
  if (others.length === 0) {
    lines.push('# Only the trainable parameters go to the optimizer.');
    lines.push(`optimizer = ${optimizer('[p for p in model.parameters() if p.requires_grad]', 'lr')}`);
  } else {
    const constants: string[] = [];
    const body: string[] = [];
    others.forEach((rate, i) => {
      const selection = selectionCode(`rate${i + 1}`, selectNames(trainable, new Set(byRate.get(rate))));
      constants.push(...selection.lines);
      body.push(`    if ${selection.test}:`, `        return ${rate}`);
    });
    lines.push(`# One parameter group per learning-rate multiplier (${byRate.size} groups), trainable parameters only.`);
    lines.push(...constants, 'def multiplier(name):', ...body);
    lines.push('    return 1.0', '', 'groups = {}');
    lines.push('for name, layer in layers.items():');
    lines.push('    params = [p for p in layer.parameters() if p.requires_grad]');
    lines.push('    if params:');
    lines.push('        groups.setdefault(multiplier(name), []).extend(params)');
    lines.push(`optimizer = ${optimizer('[{"params": ps, "lr": lr * m} for m, ps in groups.items()]', 'lr')}`);
  }
  lines.push('assert all(p.requires_grad for group in optimizer.param_groups for p in group["params"])');
  return lines;
}

/** The BN override sets that take effect: 'train-stats' on a frozen BN layer, 'inference' on a trainable one. */
function effectiveOverrides(input: PytorchCodeInput, frozen: ReadonlySet<string>): { trainStats: string[]; inference: string[] } {
  const bn = input.layers.filter((l) => l.className === 'BatchNormalization');
  return {
    trainStats: bn.filter((l) => frozen.has(l.name) && input.batchNormOverrides[l.name] === 'train-stats').map((l) => l.name),
    inference: bn.filter((l) => !frozen.has(l.name) && input.batchNormOverrides[l.name] === 'inference').map((l) => l.name),
  };
}

/** The modes lines: frozen layers in eval(), trainable in train(), BatchNorm overrides as the studio applies them. */
function modesCode(input: PytorchCodeInput, frozen: ReadonlySet<string>): string[] {
  const { trainStats, inference } = effectiveOverrides(input, frozen);
  const lines = ['# A frozen layer runs in inference mode: BatchNorm on (and keeping) its moving statistics, Dropout off.'];
  if (trainStats.length) lines.push(`train_stats = ${pyList('{', trainStats.map(py), '}')}  # frozen gamma/beta, batch statistics used and updated`);
  if (inference.length) lines.push(`inference = ${pyList('{', inference.map(py), '}')}  # trains gamma/beta on its moving statistics`);
  lines.push(
    'def set_modes():',
    '    """Call instead of model.train() before each training epoch."""',
    '    model.train()',
    '    for name, layer in layers.items():',
  );
  const whenFrozen = trainStats.length ? 'name in train_stats' : 'False';
  const whenTrainable = inference.length ? 'name not in inference' : 'True';
  if (!trainStats.length && !inference.length) lines.push('        layer.train(not is_frozen(name))');
  else lines.push(`        layer.train(${whenFrozen} if is_frozen(name) else ${whenTrainable})`);
  return lines;
}

/** The Python code of the current plan (see the file comment); the same settings give the same text. */
export function pytorchCode(input: PytorchCodeInput): string {
  const plan = withStillLayers(input.freezePlan, input.config.rateMultipliers);
  const names = input.layers.map((l) => l.name);
  const frozen = new Set(input.layers.filter((l) => l.origin === 'pretrained' && plan[l.name] === true).map((l) => l.name));
  const pretrained = input.layers.filter((l) => l.origin === 'pretrained').length;
  const totals = countParams(input.layers, Object.fromEntries(names.map((n) => [n, frozen.has(n)])));
  const frozenCode = selectionCode('frozen', selectNames(names, frozen));
  const lines = [
    `# The freeze plan of '${input.modelName}' (cut at '${input.cutLayer}'): ${frozen.size} of ${pretrained} pretrained layers frozen.`,
    `# Parameters: ${totals.trainable.toLocaleString('en-US')} trainable, ${totals.nonTrainable.toLocaleString('en-US')} non-trainable (as Keras counts).`,
    'import torch',
    'import transfer_studio_torch as ts',
    '',
    'model = ts.load_model(".")  # the bundle\'s model.json + weights.bin',
    'layers = model.leaf_layers()  # Keras layer name -> torch.nn.Module',
    '',
    ...frozenCode.lines,
    'def is_frozen(name):',
    `    return ${frozenCode.test}`,
    '',
    'for name, layer in layers.items():',
    '    for param in layer.parameters():',
    '        param.requires_grad = not is_frozen(name)',
    '',
    ...modesCode(input, frozen),
    '',
    ...optimizerCode(
      input,
      names.filter((n) => !frozen.has(n)),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
