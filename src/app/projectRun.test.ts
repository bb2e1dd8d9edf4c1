/** app/projectRun: the last run saved with its weights and evaluation, and put back on a reopen (worker, store, evaluation on re-added images). */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fixtureArtifacts } from '../core/projectFixture';
import { parseProjectManifest } from '../core/project';
import { useStudio } from '../store/store';
import { describedModel, layerRow } from '../store/testing/modelDescription';
import type { NamedWeightsWire, SetWeightsModel } from '../worker/protocol';
import { exportBlocker } from './export';
import { snapshotOfStudio } from './projectFile';
import { reopenLastRun } from './projectRun';

const setWeights = vi.fn<(model: SetWeightsModel, weights: NamedWeightsWire, complete: boolean) => Promise<void>>(async () => {});
vi.mock('./studio', () => ({
  importModelFiles: vi.fn(),
  loadBuiltInModel: vi.fn(),
  loadModelFromUrl: vi.fn(),
  reloadSample: vi.fn(),
  studioClient: () => ({ setWeights }),
}));

const model = describedModel('tiny', [layerRow('conv1', 'Conv2D', [4, 4, 8], 80), layerRow('conv2', 'Conv2D', [4, 4, 8], 584)], { defaultCutLayer: 'conv2' });
const pixels = () => new Uint8Array(model.inputShape.height * model.inputShape.width * model.inputShape.channels);
const png = (n: number) => new Blob([Uint8Array.of(n, 1, 2, 3)], { type: 'image/png' });

/** The global store with a model, two classes of two images, and run 1 done with its evaluation in. */
function trainedStudio() {
  const s = () => useStudio.getState();
  s().modelLoaded(model, { conv1: true, conv2: false }, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
  s().addUserImages(
    'pets',
    [1, 2, 3, 4].map((n) => ({
      path: `pets/${n % 2 ? 'cat' : 'dog'}/${n}.png`,
      className: n % 2 ? 'cat' : 'dog',
      pixels: pixels(),
      source: png(n),
      hash: String(n).repeat(64),
    })),
    [],
    [],
  );
  s().runRequested(1, 2, { config: { ...s().config, epochs: 1 }, trainImageIds: [s().images[0].id] });
  s().runStarted({
    backend: 'cpu',
    optimizerVariables: [{ name: 'conv2/kernel', shape: [3, 3, 8, 8] }],
    trainableParams: 584,
    appliedPlan: { conv1: true, conv2: false },
  });
  s().epochArrived({ epoch: 0, trainLoss: 0.7, trainAccuracy: 0.5, validationLoss: 0.6, validationAccuracy: 1, millis: 3 });
  const held = [s().images[2], s().images[3]];
  s().evaluationPrepared(1, { images: held, labels: Int32Array.of(0, 1) }, null);
  s().evaluationFinished(1, { validation: Float32Array.of(0.9, 0.1, 0.2, 0.8), test: null });
  s().runEnded({ stopped: false, epochsCompleted: 1, batches: 2, validationLoss: 0.6, validationAccuracy: 1 });
}

beforeEach(() => {
  setWeights.mockClear();
  useStudio.getState().modelLoaded(model, {}, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
});

describe('the last run in a project', () => {
  it('is saved with its settings, setup, outcome and evaluation, and comes back: weights in the worker, Export possible, evaluation on the re-added images', async () => {
    trainedStudio();
    const before = useStudio.getState();
    const { snapshot, parts } = await snapshotOfStudio(before, { weights: fixtureArtifacts(), readFiles: false });
    expect(snapshot.weights?.run?.settings.classNames).toEqual(['cat', 'dog']);
    expect(snapshot.weights?.run?.setup?.appliedPlan).toEqual({ conv1: true, conv2: false });
    expect(snapshot.evaluation).toMatchObject({
      runId: 1,
      status: 'done',
      validation: { labels: [0, 1], probabilities: { part: 'evaluation/validation.f32', bytes: 16 } },
    });
    // Made parts are in `parts` also for the autosave, which does not read the original files.
    expect([...parts.keys()].sort()).toEqual(['evaluation/validation.f32', 'weights/model.json', 'weights/weights.bin']);
    expect(parseProjectManifest(JSON.parse(JSON.stringify(snapshot))).ok).toBe(true);

    // A fresh session: the model loaded again, the images added again (new ids, same files), the runs back.
    const s = () => useStudio.getState();
    s().modelLoaded(model, { conv1: true, conv2: false }, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
    expect(exportBlocker(s())).not.toBeNull();
    s().addUserImages(
      'pets',
      [4, 3, 2, 1].map((n) => ({
        path: `pets/${n % 2 ? 'cat' : 'dog'}/${n}.png`,
        className: n % 2 ? 'cat' : 'dog',
        pixels: pixels(),
        source: png(n),
        hash: String(n).repeat(64),
      })),
      [],
      [],
    );
    s().runsRestored(snapshot.runs);
    const outcome = await reopenLastRun(snapshot, parts);
    expect(outcome).toEqual({ reopened: true, note: ' The trained weights and the evaluation are back.' });
    const [sentModel, sentWeights, complete] = setWeights.mock.calls[0];
    expect(sentModel).toMatchObject({ cutLayer: 'conv2', classNames: ['cat', 'dog'], plan: { conv1: true, conv2: false } });
    expect(sentWeights.weightSpecs).toEqual(fixtureArtifacts().weightSpecs);
    expect(complete).toBe(true);
    expect(exportBlocker(s())).toBeNull();
    expect(s()).toMatchObject({ runStatus: 'done', runId: 1, runOutcome: { epochsCompleted: 1 } });
    expect(s().runs).toHaveLength(1);
    const evaluation = s().evaluation!;
    expect(evaluation.status).toBe('done');
    // The same files as before (by content), under their new ids.
    expect(evaluation.validation!.images.map((image) => image.hash![0])).toEqual(['3', '4']);
    expect(Array.from(evaluation.validation!.probabilities!)).toEqual(Array.from(Float32Array.of(0.9, 0.1, 0.2, 0.8)));
    expect([...s().trainedOnIds]).toEqual([s().images.find((image) => image.hash![0] === '1')!.id]);
  });

  it('leaves the studio untrained, saying why, when the worker refuses the weights or they came from an older schema', async () => {
    trainedStudio();
    const { snapshot, parts } = await snapshotOfStudio(useStudio.getState(), { weights: fixtureArtifacts() });
    useStudio.getState().modelLoaded(model, {}, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
    useStudio.getState().runsRestored(snapshot.runs);
    setWeights.mockRejectedValueOnce(new Error("The saved weights lack 'conv2/bias', a weight of model 'tiny'."));
    const refused = await reopenLastRun(snapshot, parts);
    expect(refused.reopened).toBe(false);
    expect(refused.note).toContain("lack 'conv2/bias'");
    expect(useStudio.getState().runStatus).toBe('idle');
    const older = await reopenLastRun({ ...snapshot, weights: { ...snapshot.weights!, run: null } }, parts);
    expect(older).toMatchObject({ reopened: false, note: expect.stringContaining('older studio') });
  });
});
