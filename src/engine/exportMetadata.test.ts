/** metadata.json states the plan the run applied, its changes and what is bit for bit the source (issue 11). */
import { describe, expect, it } from 'vitest';
import { buildExportMetadata, type ExportContext, type KerasLayerJson, type KerasModelTopology } from '../core/exportModelFiles';
import type { TrainableChange } from '../core/types';

const layer = (name: string, className: string, inbound: string | null, config: Record<string, unknown> = {}): KerasLayerJson => ({
  name,
  class_name: className,
  config: { name, ...config },
  inbound_nodes: inbound ? [[[inbound, 0, 0, {}]]] : [],
});

/** A transfer model whose backbone is one nested model ('mobilenet'), as the saved topology shows it: one entry. */
const topology: KerasModelTopology = {
  class_name: 'Model',
  config: {
    name: 'nested_transfer',
    layers: [
      layer('input', 'InputLayer', null),
      layer('mobilenet', 'Functional', 'input', { trainable: true }),
      layer('head_pool', 'GlobalAveragePooling2D', 'mobilenet'),
      layer('head_dense', 'Dense', 'head_pool', { units: 2, activation: 'softmax' }),
    ],
  },
};

const change = (over: Partial<TrainableChange>): TrainableChange => ({
  step: 0,
  epoch: 0,
  batch: 0,
  cause: 'schedule',
  label: '',
  trainableParams: 0,
  learningRateFactor: 1,
  optimizerVariables: [],
  ...over,
});

const context: ExportContext = {
  studio: { name: 'Transfer Studio', version: '1.0.0' },
  exportedAt: new Date('2026-12-01T00:00:00Z'),
  classNames: ['a', 'b'],
  inputShape: { height: 8, width: 8, channels: 3 },
  preprocessing: { range: [0, 1], resize: 'stretch' },
  sourceModel: { name: 'nested', label: 'Imported: model.json', sourceHash: 'f'.repeat(64), provenance: null },
  head: { pooling: 'avg', hiddenUnits: 0, dropout: 0 },
  config: {
    epochs: 4,
    batchSize: 8,
    learningRate: 0.001,
    seed: 1,
    rateMultipliers: { block_1_conv: 0 },
    unfreezeSchedule: [{ epoch: 2, unfreeze: ['block_2_conv', 'block_2_bn'], label: 'unfreeze block_2', learningRateFactor: 0.1 }],
    augmentation: { flip: true, crop: 0, rotation: 0, brightness: 0, contrast: 0 },
  },
  backend: 'cpu',
  dataset: { name: 'd', images: 20, validationFraction: 0.15, splitSeed: 42 },
  outcome: { stopped: false, epochsCompleted: 4, batches: 8, validationLoss: 0.1, validationAccuracy: 1 },
  epochs: [],
  appliedPlan: { stem_conv: true, stem_bn: true, block_1_conv: true, block_2_conv: true, block_2_bn: true },
  changes: [
    change({ step: 4, epoch: 2, batch: 0, label: 'unfreeze block_2', unfrozen: ['block_2_conv', 'block_2_bn'], frozen: [], learningRateFactor: 0.1 }),
    change({ step: 6, epoch: 3, batch: 0, cause: 'live', label: 'freeze block_2_conv', unfrozen: [], frozen: ['block_2_conv'], learningRateFactor: 0.1 }),
  ],
  batchNormOverrides: { stem_bn: 'train-stats' },
  identicalToSource: { stem_conv: true, stem_bn: false, block_1_conv: true, block_2_conv: false, block_2_bn: false },
};

describe('metadata.json provenance', () => {
  it('lists the plan per layer as applied (nested model opened), each change with its epoch and batch from 1, and the plan at the end', () => {
    const meta = buildExportMetadata(topology, context);
    expect(meta.formatVersion).toBe(2);
    expect(meta.freezePlan).toEqual(context.appliedPlan);
    expect(Object.keys(meta.freezePlan)).not.toContain('mobilenet');
    expect(meta.planChanges).toEqual([
      {
        step: 4,
        epoch: 3,
        batch: 1,
        cause: 'schedule',
        label: 'unfreeze block_2',
        unfrozen: ['block_2_conv', 'block_2_bn'],
        frozen: [],
        learningRateFactor: 0.1,
      },
      { step: 6, epoch: 4, batch: 1, cause: 'live', label: 'freeze block_2_conv', unfrozen: [], frozen: ['block_2_conv'], learningRateFactor: 0.1 },
    ]);
    expect(meta.freezePlanAtEnd).toEqual({ stem_conv: true, stem_bn: true, block_1_conv: true, block_2_conv: true, block_2_bn: false });
  });

  it('keeps everything the run was started with: BN modes, multipliers, the schedule, augmentation', () => {
    const meta = buildExportMetadata(topology, context);
    expect(meta.batchNormModes).toEqual({ stem_bn: 'train-stats' });
    expect(meta.training.config).toEqual(context.config);
  });

  it('claims bit-identity with the source only where it was measured: a frozen layer whose statistics trained, or one unfrozen and refrozen, is not', () => {
    const meta = buildExportMetadata(topology, context);
    expect(meta.freezePlanAtEnd.block_2_conv).toBe(true);
    expect(meta.identicalToSource).toEqual({ stem_conv: true, stem_bn: false, block_1_conv: true, block_2_conv: false, block_2_bn: false });
    // Without a measurement nothing is claimed.
    expect(buildExportMetadata(topology, { ...context, identicalToSource: undefined }).identicalToSource).toEqual({});
  });
});
