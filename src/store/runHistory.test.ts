import { describe, expect, it } from 'vitest';
import { createStudioStore } from './store';
import { describedModel, GAP_AND_OUT, layerRow } from './testing/modelDescription';

const model = (name: string) =>
  describedModel(
    name,
    [
      layerRow('conv1', 'Conv2D', [4, 4, 8], 80, { frozenInSource: true }),
      layerRow('bn1', 'BatchNormalization', [4, 4, 8], 16, { nonTrainableParams: 16, frozenInSource: true }),
      layerRow('conv2', 'Conv2D', [4, 4, 8], 584),
      ...GAP_AND_OUT,
    ],
    { cutCandidates: ['gap', 'out'] },
  );

const epoch = (n: number, accuracy: number) => ({
  epoch: n,
  trainLoss: 1,
  trainAccuracy: 0.5,
  validationLoss: 1 - accuracy,
  validationAccuracy: accuracy,
  millis: 50,
});

describe('run history in the store', () => {
  it('records each ended or stopped run with its freeze plan, keeps them across runs, and clears them on a model load', () => {
    const store = createStudioStore();
    const s = () => store.getState();
    s().modelLoaded(model('m'), { conv1: true, bn1: true, conv2: true, gap: true }, { kind: 'builtin', id: 'm', label: 'M' });
    s().loadSample('digits', []);

    s().runRequested(1, 3);
    expect(s().runSettings).toMatchObject({ freeze: { kind: 'head-only', text: 'head only' }, trainableParams: 18 }); // 2 classes: 8 × 2 + 2
    s().runStarted({ backend: 'cpu', optimizerVariables: [], trainableParams: 18 });
    s().epochArrived(epoch(0, 0.5));
    s().epochArrived(epoch(1, 0.75));
    s().runEnded({ stopped: false, epochsCompleted: 2, batches: 6, validationLoss: 0.25, validationAccuracy: 0.75 });
    expect(s().runs).toHaveLength(1);
    expect(s().runs[0]).toMatchObject({ runId: 1, name: 'Run 1 · head only', trainableParams: 18, bestValidationAccuracy: 0.75, backend: 'cpu' });
    expect(s().runs[0].epochs).toHaveLength(2);

    // A plan edited after the run does not rewrite its record; a second run (stopped) is added, not substituted.
    s().setAllFrozen(false);
    s().setConfig({ fromPretrained: false, learningRate: 0.01 });
    s().runRequested(2, 3);
    expect(s().runs).toHaveLength(1);
    s().epochArrived(epoch(0, 0.25));
    s().runEnded({ stopped: true, epochsCompleted: 1, batches: 3, validationLoss: 0.75, validationAccuracy: 0.25 });
    // The same end reported twice records the run once.
    s().runEnded({ stopped: true, epochsCompleted: 1, batches: 3, validationLoss: 0.75, validationAccuracy: 0.25 });
    expect(s().runs.map((r) => [r.runId, r.freeze.text, r.stopped, r.fromPretrained, r.learningRate, r.trainableParams])).toEqual([
      [1, 'head only', false, true, 0.001, 18],
      [2, 'nothing frozen', true, false, 0.01, 80 + 16 + 584 + 18],
    ]);

    // A failed run is not recorded.
    s().runRequested(3, 3);
    s().runFailed('Training failed: out of memory');
    expect(s().runs).toHaveLength(2);

    s().modelLoaded(model('other'), {}, { kind: 'url', url: 'https://x/model.json' });
    expect(s().runs).toEqual([]);
  });
});
