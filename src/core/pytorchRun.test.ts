import { describe, expect, it } from 'vitest';
import type { WeightSpec } from './exportModelFiles';
import { auditPytorchRun, isPytorchRunMetadata, pytorchRunRecord, readPytorchRun, type PytorchRun } from './pytorchRun';
import type { LayerInfo } from './types';

/** metadata.json as train.py writes it (pytorch/transfer_studio_torch/outputs.py), trimmed to what the studio reads. */
function metadata(patch: Record<string, unknown> = {}) {
  return {
    format: 'transfer-studio-export',
    formatVersion: 2,
    sourceModel: { name: 'digits_cnn', label: 'Built-in: Digits', sourceHash: 'ab' },
    freezePlan: { conv1: true, bn1: true, conv2: false },
    freezePlanAtEnd: { conv1: true, bn1: true, conv2: false },
    batchNormModes: {},
    training: {
      config: { epochs: 2, learningRate: 0.001, optimizer: 'adam', schedule: 'constant' },
      backend: 'pytorch-cpu',
      dataset: { name: 'PyTorch data folder', images: 40 },
    },
    epochs: [
      { epoch: 0, trainLoss: 1.2, trainAccuracy: 0.5, validationLoss: 0.9, validationAccuracy: 0.7, millis: 120 },
      { epoch: 1, trainLoss: 0.6, trainAccuracy: 0.8, validationLoss: 0.5, validationAccuracy: 0.9, millis: 100 },
    ],
    trainedWith: { framework: 'pytorch', torch: '1.13.1', processes: 2, recipe: { exportedAt: '2026-12-01T12:00:00.000Z', sourceHash: 'ab' } },
    ...patch,
  };
}

function read(json: unknown): PytorchRun {
  const result = readPytorchRun(json);
  if (!result.ok) throw new Error(result.reason);
  return result.run;
}

const row = (name: string, className: string, trainableParams: number, nonTrainableParams = 0): LayerInfo => ({
  name,
  className,
  outputShape: [2],
  trainableParams,
  nonTrainableParams,
  frozenInSource: false,
  origin: 'pretrained',
  parent: null,
});

/** Weights as bytes: each [name, values]. */
function weights(entries: [string, number[]][]): { weightSpecs: WeightSpec[]; weightData: ArrayBuffer } {
  return {
    weightSpecs: entries.map(([name, values]) => ({ name, shape: [values.length], dtype: 'float32' })),
    weightData: new Float32Array(entries.flatMap(([, values]) => values)).buffer,
  };
}

const source = weights([
  ['conv1/kernel', [1, 2]],
  ['bn1/gamma', [1]],
  ['bn1/moving_mean', [0.5]],
  ['conv2/kernel', [3, 4]],
  ['classifier/kernel', [9]],
]);

describe('readPytorchRun', () => {
  it('recognises a run train.py wrote and reads its plan, config and curves', () => {
    expect(isPytorchRunMetadata(metadata())).toBe(true);
    expect(isPytorchRunMetadata({ ...metadata(), trainedWith: undefined })).toBe(false);
    const run = read(metadata());
    expect(run).toMatchObject({ torch: '1.13.1', processes: 2, sourceHash: 'ab', modelName: 'digits_cnn', backend: 'pytorch-cpu' });
    expect(run.epochs.map((e) => e.validationAccuracy)).toEqual([0.7, 0.9]);
  });

  it.each([
    ['freezePlan', { freezePlan: { conv1: 'yes' } }],
    ['training.config', { training: { backend: 'x' } }],
    ['epochs', { epochs: [{ epoch: 0, loss: 1 }] }],
  ])('names a bad %s', (field, patch) => {
    const result = readPytorchRun(metadata(patch), 'out/metadata.json');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(`'out/metadata.json' says it was trained with PyTorch, but its ${field} is missing`);
  });
});

describe('pytorchRunRecord', () => {
  it('is a PyTorch run in Compare runs: its curves, what it froze, the torch build', () => {
    const layers = [row('conv1', 'Conv2D', 10), row('bn1', 'BatchNormalization', 2, 2), row('conv2', 'Conv2D', 20)];
    const record = pytorchRunRecord(read(metadata()), 4, layers);
    expect(record.name).toMatch(/^Run 4 · PyTorch · /);
    expect(record).toMatchObject({
      runId: 4,
      backend: 'pytorch-cpu · torch 1.13.1 · 2 processes',
      trainableParams: 20,
      bestValidationAccuracy: 0.9,
      epochsPlanned: 2,
    });
    expect(record.millisPerEpoch).toBe(110);
    expect(record.dataset).toBe('PyTorch data folder · 40 images');
  });
});

describe('auditPytorchRun', () => {
  it('passes when every frozen layer is bit for bit the source, BN statistics included, and the trained ones moved', () => {
    const result = weights([
      ['conv1/kernel', [1, 2]],
      ['bn1/gamma', [1]],
      ['bn1/moving_mean', [0.5]],
      ['conv2/kernel', [3.5, 4]],
      ['head_dense/kernel', [7]],
    ]);
    const report = auditPytorchRun(read(metadata()), source, result);
    expect(report.failed).toEqual([]);
    expect(report.frozenLayers).toBe(2);
    expect(report.layers.map((l) => [l.layer, l.frozen, l.maxAbsChange])).toEqual([
      ['conv1', true, 0],
      ['bn1', true, 0],
      ['conv2', false, 0.5],
    ]);
  });

  it('fails a frozen layer whose moving statistics moved, unless train-stats let them', () => {
    const result = weights([
      ['conv1/kernel', [1, 2]],
      ['bn1/gamma', [1]],
      ['bn1/moving_mean', [0.25]],
      ['conv2/kernel', [3, 4]],
    ]);
    expect(auditPytorchRun(read(metadata()), source, result).failed).toEqual(['bn1']);
    expect(auditPytorchRun(read(metadata({ batchNormModes: { bn1: 'train-stats' } })), source, result).failed).toEqual([]);
  });

  it('fails a frozen layer missing from the result, and does not hold a layer an unfreezing step released', () => {
    const result = weights([
      ['bn1/gamma', [2]],
      ['bn1/moving_mean', [0.5]],
      ['conv2/kernel', [3, 4]],
    ]);
    const released = read(metadata({ freezePlanAtEnd: { conv1: true, bn1: false, conv2: false } }));
    expect(auditPytorchRun(released, source, result).failed).toEqual(['conv1']);
  });
});
