import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_CONFIG } from '../core/trainDefaults';
import { DEFAULT_SPLIT_SEED, DEFAULT_VALIDATION_FRACTION } from '../data/split';
import { modelSourceLabel, transferLayers } from './selectors';
import { createStudioStore, describeOrigin } from './store';
import { describedModel, GAP_AND_OUT, layerRow } from './testing/modelDescription';

const model = (name: string) =>
  describedModel(
    name,
    [
      layerRow('inner_conv', 'Conv2D', [4, 4, 8], 80, { parent: 'backbone' }),
      layerRow('inner_bn', 'BatchNormalization', [4, 4, 8], 16, { nonTrainableParams: 16, frozenInSource: true, parent: 'backbone' }),
      ...GAP_AND_OUT,
    ],
    { cutCandidates: ['backbone', 'gap', 'out'] },
  );

describe('store', () => {
  it('records what a run was started with, so later edits do not rewrite it', () => {
    const store = createStudioStore();
    store.getState().modelLoaded(model('m'), {}, { kind: 'builtin', id: 'm', label: 'M' });
    store.getState().runRequested(1, 3);
    store.getState().setConfig({ epochs: 99 });
    store.getState().setHead({ hiddenUnits: 64 });
    store.getState().setPreprocessing({ range: [0, 1] });
    const run = store.getState().runSettings!;
    expect(run.config.epochs).toBe(10);
    expect(run.head.hiddenUnits).toBe(0);
    expect(run.preprocessing).toEqual({ range: [-1, 1], resize: 'center-crop' });
  });

  it('starts a new model with its own preprocessing, default cut and head, and no run record of the previous model', () => {
    const store = createStudioStore();
    store.getState().modelLoaded(model('first'), {}, { kind: 'files', fileName: 'model.json' });
    store.getState().setHead({ dropout: 0.5 });
    store.getState().runRequested(1, 3);
    store.getState().runEnded({ stopped: false, epochsCompleted: 1, batches: 3, validationLoss: 1, validationAccuracy: 0.5 });
    store.getState().modelLoaded(model('second'), {}, { kind: 'url', url: 'https://x/model.json' });
    const s = store.getState();
    expect([s.runStatus, s.runOutcome, s.runSettings, s.epochs.length]).toEqual(['idle', null, null, 0]);
    expect([s.cutLayer, s.head.dropout, s.preprocessing?.resize, modelSourceLabel(s)]).toEqual(['gap', 0, 'center-crop', 'From https://x/model.json']);
  });

  it('cuts at a nested model by keeping all of its inner layers', () => {
    const state = { model: model('m'), cutLayer: 'backbone', classNames: ['a', 'b'], head: { pooling: 'max' as const, hiddenUnits: 0, dropout: 0 } };
    expect(transferLayers(state).map((l) => l.name)).toEqual(['inner_conv', 'inner_bn', 'head_pool', 'head_dense']);
    expect(transferLayers(state)[2].className).toBe('GlobalMaxPooling2D');
  });

  it('orders the classes of a drop by name, whatever order their images arrive in, after the classes already there', () => {
    const store = createStudioStore();
    const image = (path: string, className: string) => ({ path, className, pixels: new Uint8Array(1) });
    store.getState().addUserImages('zoo', [image('zoo/fox/1', 'fox'), image('zoo/cat/1', 'cat'), image('zoo/dog/1', 'dog')], [], []);
    expect(store.getState().classNames).toEqual(['cat', 'dog', 'fox']);
    store.getState().addUserImages('more', [image('more/emu/1', 'emu'), image('more/ant/1', 'ant'), image('more/cat/2', 'cat')], [], []);
    expect(store.getState().classNames).toEqual(['cat', 'dog', 'fox', 'ant', 'emu']);
  });

  it.each([
    [{ kind: 'builtin', id: 'mobilenet_v2', label: 'MobileNetV2' }, 'Built-in: MobileNetV2'],
    [{ kind: 'files', fileName: 'model.json' }, 'Imported: model.json'],
  ] as const)('describes %j', (origin, text) => expect(describeOrigin(origin)).toBe(text));
});

describe('the defaults', () => {
  it('start from the constants engine tests read as "the studio defaults"', () => {
    const s = createStudioStore().getState();
    expect(s.config).toEqual(DEFAULT_TRAIN_CONFIG);
    expect([s.validationFraction, s.splitSeed, s.autoEpochs]).toEqual([DEFAULT_VALIDATION_FRACTION, DEFAULT_SPLIT_SEED, true]);
  });
});
