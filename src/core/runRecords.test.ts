import { describe, expect, it } from 'vitest';
import { freezeEarlyPlan, fullFineTunePlan, headOnlyPlan, presetBlocks } from './presets';
import { defaultDirection, freezeSummary, makeRunRecord, scheduleLabels, sortRuns, trainedOnWarning, type RunRecord, type RunRecordInput } from './runRecords';
import type { EpochMetrics, LayerInfo, TrainableChange } from './types';

function layer(name: string, className = 'Conv2D', extra: Partial<LayerInfo> = {}): LayerInfo {
  const params = /Activation|Pooling|Flatten|Padding|Add|ReLU/.test(className) ? 0 : 10;
  return {
    name,
    className,
    outputShape: [4, 4, 8],
    trainableParams: params,
    nonTrainableParams: 0,
    frozenInSource: false,
    origin: 'pretrained',
    parent: null,
    ...extra,
  };
}
const head = [layer('head_pool', 'GlobalAveragePooling2D', { origin: 'head' }), layer('head_dense', 'Dense', { origin: 'head' })];

/** A stem and blocks block_1 … block_16 of three layers each, then the head: 17 blocks, 50 pretrained layers. */
function blockModel(): LayerInfo[] {
  const rows = [layer('Conv1'), layer('bn_Conv1', 'BatchNormalization')];
  for (let n = 1; n <= 16; n++) rows.push(layer(`block_${n}_expand`), layer(`block_${n}_project`), layer(`block_${n}_project_BN`, 'BatchNormalization'));
  return [...rows, ...head];
}

const epoch = (n: number, validationLoss: number | null, validationAccuracy: number | null, millis = 100): EpochMetrics => ({
  epoch: n,
  trainLoss: 1,
  trainAccuracy: 0.5,
  validationLoss,
  validationAccuracy,
  millis,
});

describe('freezeSummary', () => {
  const layers = blockModel();
  const blocks = presetBlocks(layers);

  it('names the presets in words and lists the blocks frozen whole', () => {
    expect(blocks).toHaveLength(17);
    const headOnly = freezeSummary(layers, headOnlyPlan(blocks));
    expect(headOnly).toMatchObject({ kind: 'head-only', text: 'head only', frozenBlocks: 17, totalBlocks: 17, frozenLayers: 50, totalLayers: 50 });
    expect(freezeSummary(layers, fullFineTunePlan(blocks))).toMatchObject({ kind: 'none', text: 'nothing frozen', frozenBlocks: 0, frozenBlockLabels: [] });
    const early = freezeSummary(layers, freezeEarlyPlan(blocks, 8));
    expect(early).toMatchObject({ kind: 'prefix', text: 'first 8 of 17 blocks', frozenBlocks: 8, frozenLayers: 2 + 7 * 3 });
    expect(early.frozenBlockLabels).toEqual(['stem', ...Array.from({ length: 7 }, (_, i) => `block_${i + 1}`)]);
  });

  it('a plan that is no prefix of whole blocks is custom and counts layers', () => {
    // block_2 frozen alone, and one layer of block_5: 3 + 1 layers.
    const plan = { block_2_expand: true, block_2_project: true, block_2_project_BN: true, block_5_expand: true };
    const summary = freezeSummary(layers, plan);
    expect(summary).toMatchObject({ kind: 'custom', text: 'custom: 4 of 50 layers', frozenBlocks: 1, frozenBlockLabels: ['block_2'] });
  });

  it('a model without blocks (no pretrained layers) reads as nothing frozen', () => {
    expect(freezeSummary(head, {})).toMatchObject({ kind: 'none', totalBlocks: 0, totalLayers: 0 });
  });
});

describe('makeRunRecord', () => {
  const layers = blockModel();
  const input = (overrides: Partial<RunRecordInput> = {}): RunRecordInput => ({
    runId: 3,
    freeze: freezeSummary(layers, headOnlyPlan(presetBlocks(layers))),
    trainableParams: 20,
    config: { epochs: 4, learningRate: 0.001, optimizer: 'momentum', schedule: 'cosine' },
    unfreezeSchedule: [],
    dataset: { name: 'digits', images: 1000 },
    setup: { backend: 'cpu', trainableParams: 22, featureCache: { millis: 1500 } },
    outcome: { stopped: false },
    epochs: [epoch(0, 0.9, 0.6, 100), epoch(1, 0.4, 0.8, 300), epoch(2, 0.5, 0.85, 200)],
    trainableChanges: [],
    ...overrides,
  });

  it('keeps the best validation accuracy and loss of any epoch, the mean epoch time and the worker’s parameter count', () => {
    const record = makeRunRecord(input());
    expect(record).toMatchObject({
      runId: 3,
      name: 'Run 3 · head only',
      trainableParams: 22,
      finalTrainableParams: null,
      optimizer: 'momentum',
      learningRate: 0.001,
      learningRateSchedule: 'cosine',
      backend: 'cpu',
      millisPerEpoch: 200,
      cacheMillis: 1500,
      bestValidationAccuracy: 0.85,
      bestValidationLoss: 0.4,
      epochsPlanned: 4,
      stopped: false,
      fromPretrained: true,
      dataset: 'digits · 1,000 images',
    });
    expect(record.epochs).toHaveLength(3);
  });

  it('without a setup or validation it falls back to the main thread’s count and leaves the best values empty', () => {
    const record = makeRunRecord(input({ setup: null, epochs: [epoch(0, null, null)], config: { epochs: 1, learningRate: 0.01, fromPretrained: false } }));
    expect(record).toMatchObject({
      trainableParams: 20,
      backend: null,
      bestValidationAccuracy: null,
      bestValidationLoss: null,
      optimizer: 'adam',
      learningRateSchedule: 'constant',
      fromPretrained: false,
    });
    expect(makeRunRecord(input({ epochs: [] })).millisPerEpoch).toBeNull();
  });

  it('records the schedule with epochs from 1 and the trainable count after the last change', () => {
    const change = {
      step: 10,
      epoch: 2,
      batch: 0,
      cause: 'schedule',
      label: 'unfreeze block_15–16',
      trainableParams: 99,
      learningRateFactor: 0.1,
      optimizerVariables: [],
    } satisfies TrainableChange;
    const record = makeRunRecord(
      input({
        unfreezeSchedule: [{ epoch: 2, unfreeze: ['block_15_expand'], label: 'unfreeze block_15–16', learningRateFactor: 0.1 }],
        trainableChanges: [change],
      }),
    );
    expect(record.schedule).toEqual(['epoch 3: unfreeze block_15–16 (LR × 0.1)']);
    expect(record.finalTrainableParams).toBe(99);
    expect(scheduleLabels([{ epoch: 1, unfreeze: [], label: 'unfreeze all' }])).toEqual(['epoch 2: unfreeze all']);
  });

  it('records how many validation images the starting weights were trained on, and says what that means', () => {
    expect(makeRunRecord(input()).validationTrainedOn).toBe(0);
    expect(makeRunRecord(input({ validationTrainedOn: 3, config: { epochs: 4, learningRate: 0.001, fromPretrained: false } })).validationTrainedOn).toBe(3);
    expect(trainedOnWarning(0)).toBeNull();
    expect(trainedOnWarning(1)).toBe('1 validation image was trained on by an earlier run: the validation accuracy is optimistic');
    expect(trainedOnWarning(1200)).toBe('1,200 validation images were trained on by an earlier run: the validation accuracy is optimistic');
  });
});

describe('sortRuns', () => {
  const run = (runId: number, patch: Partial<RunRecord>): RunRecord => ({
    ...makeRunRecord({
      runId,
      freeze: freezeSummary(blockModel(), {}),
      trainableParams: 0,
      config: { epochs: 1, learningRate: 0.001 },
      unfreezeSchedule: [],
      dataset: { name: 'd', images: 1 },
      setup: null,
      outcome: { stopped: false },
      epochs: [],
      trainableChanges: [],
    }),
    ...patch,
  });
  const runs = [
    run(1, { bestValidationAccuracy: 0.9, trainableParams: 500, bestValidationLoss: 0.3 }),
    run(2, { bestValidationAccuracy: null, trainableParams: 100, bestValidationLoss: null }),
    run(3, { bestValidationAccuracy: 0.95, trainableParams: 100, bestValidationLoss: 0.2 }),
    run(4, { bestValidationAccuracy: 0.9, trainableParams: 2000, bestValidationLoss: 0.25 }),
  ];
  const ids = (sorted: RunRecord[]) => sorted.map((r) => r.runId);

  it.each([
    ['bestValidationAccuracy', 'descending', [3, 4, 1, 2]],
    ['bestValidationAccuracy', 'ascending', [1, 4, 3, 2]],
    ['bestValidationLoss', 'ascending', [3, 4, 1, 2]],
    ['trainableParams', 'ascending', [2, 3, 1, 4]],
    ['trainableParams', 'descending', [4, 1, 3, 2]],
    ['run', 'descending', [4, 3, 2, 1]],
  ] as const)('by %s %s: ties by run number in the same direction, empty values last', (key, direction, expected) => {
    expect(ids(sortRuns(runs, key, direction))).toEqual(expected);
  });

  it('does not change its input, and flipping the direction reverses runs that all have values', () => {
    const before = ids(runs);
    const withValues = runs.filter((r) => r.bestValidationAccuracy !== null);
    expect(ids(sortRuns(withValues, 'bestValidationAccuracy', 'ascending'))).toEqual(
      ids(sortRuns(withValues, 'bestValidationAccuracy', 'descending')).reverse(),
    );
    expect(ids(runs)).toEqual(before);
  });

  it('sorts accuracy best first on the first click, everything else ascending', () => {
    expect(defaultDirection('bestValidationAccuracy')).toBe('descending');
    expect(defaultDirection('bestValidationLoss')).toBe('ascending');
    expect(defaultDirection('millisPerEpoch')).toBe('ascending');
  });
});

describe('the run record’s backend', () => {
  it('names the backend the worker measured fastest and every figure it measured (issue 15)', () => {
    const record = makeRunRecord({
      runId: 1,
      freeze: freezeSummary(blockModel(), {}),
      trainableParams: 20,
      config: { epochs: 1, learningRate: 0.001 },
      unfreezeSchedule: [],
      dataset: { name: 'digits', images: 1000 },
      setup: {
        backend: 'wasm',
        trainableParams: 20,
        backendProbes: [
          { backend: 'webgl', msPerStep: 4_560 },
          { backend: 'wasm', msPerStep: 512.3 },
        ],
      },
      outcome: { stopped: false },
      epochs: [],
      trainableChanges: [],
    });
    expect(record.backend).toBe('wasm (measured: wasm 512 · webgl 4,560 ms/step)');
  });
});
