/** app/importPytorchRun: a train.py result folder recognised on Import model, added to Compare runs and audited against the source. */
import { describe, expect, it, vi } from 'vitest';
import { createStudioStore } from '../store/store';
import { describedModel, layerRow } from '../store/testing/modelDescription';
import { importPytorchRun } from './importPytorchRun';

const rows = [layerRow('conv1', 'Conv2D', [8, 8, 4], 2), layerRow('conv2', 'Conv2D', [8, 8, 4], 2), layerRow('gap', 'GlobalAveragePooling2D', [4])];
const specs = (names: string[]) => names.map((name) => ({ name, shape: [2], dtype: 'float32' as const }));

/** out/ as train.py writes it: model.json naming weights.bin, the bytes, and metadata.json. */
function outFiles(conv1: number[], sourceHash = 'ab', extra: Record<string, unknown> = {}): File[] {
  const names = ['conv1/kernel', 'conv2/kernel', 'head_dense/kernel'];
  const modelJson = { format: 'layers-model', modelTopology: {}, weightsManifest: [{ paths: ['weights.bin'], weights: specs(names) }] };
  const metadata = {
    sourceModel: { name: 'tiny' },
    freezePlan: { conv1: true, conv2: false, gap: true },
    training: { config: { epochs: 1, learningRate: 0.01 }, backend: 'pytorch-cpu', dataset: { name: 'PyTorch data folder', images: 10 } },
    epochs: [{ epoch: 0, trainLoss: 1, trainAccuracy: 0.5, validationLoss: 0.9, validationAccuracy: 0.75, millis: 5 }],
    trainedWith: { framework: 'pytorch', torch: '2.1.0', processes: 2, recipe: { sourceHash } },
    ...extra,
  };
  return [
    new File([JSON.stringify(modelJson)], 'model.json'),
    new File([new Float32Array([...conv1, 5, 6, 7, 8])], 'weights.bin'),
    new File([JSON.stringify(metadata)], 'metadata.json'),
  ];
}

function setup() {
  const store = createStudioStore();
  store
    .getState()
    .modelLoaded(describedModel('tiny', rows, { sourceHash: 'ab', defaultCutLayer: 'gap' }), { conv1: true }, { kind: 'builtin', id: 'tiny', label: 'Tiny' });
  const source = { weightSpecs: specs(['conv1/kernel', 'conv2/kernel']), weightData: new Float32Array([1, 2, 3, 4]).buffer };
  const client = { readSourceWeights: vi.fn(async () => ({ sourceHash: 'ab', weights: source })) };
  return { store, client, loadAsModel: vi.fn(async () => true) };
}

describe('importPytorchRun', () => {
  it('keeps the source model, adds the run to Compare runs as PyTorch, and passes the audit when the frozen layers are bit for bit the source', async () => {
    const { store, client, loadAsModel } = setup();
    const model = store.getState().model;
    expect(await importPytorchRun(outFiles([1, 2]), client, store, loadAsModel)).toBe(true);
    expect(loadAsModel).not.toHaveBeenCalled();
    const state = store.getState();
    expect(state.model).toBe(model);
    expect(state.runs.map((r) => [r.runId, r.name.split(' · ').slice(0, 2).join(' · '), r.backend, r.bestValidationAccuracy])).toEqual([
      [1, 'Run 1 · PyTorch', 'pytorch-cpu · torch 2.1.0 · 2 processes', 0.75],
    ]);
    expect(state.pytorchRun).toMatchObject({ runId: 1, torch: '2.1.0', processes: 2, audit: { failed: [], frozenLayers: 1 } });
    expect(state.pytorchRun!.audit!.layers.map((l) => [l.layer, l.frozen, l.maxAbsChange])).toEqual([
      ['conv1', true, 0],
      ['conv2', false, 2],
    ]);
  });

  it('fails the audit naming a frozen layer that moved', async () => {
    const { store, client, loadAsModel } = setup();
    await importPytorchRun(outFiles([1, 2.5]), client, store, loadAsModel);
    expect(store.getState().pytorchRun!.audit!.failed).toEqual(['conv1']);
  });

  it('loads out/ as the model when it was exported from another one, and says which model to load for the audit', async () => {
    const { store, client, loadAsModel } = setup();
    expect(await importPytorchRun(outFiles([1, 2], 'cd'.repeat(32)), client, store, loadAsModel)).toBe(true);
    expect(loadAsModel).toHaveBeenCalledOnce();
    expect(client.readSourceWeights).not.toHaveBeenCalled();
    expect(store.getState().pytorchRun).toMatchObject({ audit: null, note: expect.stringContaining("exported from ('tiny', SHA-256 cdcdcdcdcdcd…)") });
  });

  it('leaves other files to the model loader, and names a bad PyTorch metadata.json', async () => {
    const { store, client, loadAsModel } = setup();
    const [modelJson, weights] = outFiles([1, 2]);
    expect(await importPytorchRun([modelJson, weights], client, store, loadAsModel)).toBe(false);
    expect(await importPytorchRun([modelJson, weights, new File(['{"format":"transfer-studio-export"}'], 'metadata.json')], client, store, loadAsModel)).toBe(
      false,
    );
    expect(await importPytorchRun(outFiles([1, 2], 'ab', { epochs: 'none' }), client, store, loadAsModel)).toBe(true);
    expect(store.getState().modelError).toMatch(/'metadata.json' says it was trained with PyTorch, but its epochs is missing/);
    expect(await importPytorchRun([outFiles([1, 2])[0], outFiles([1, 2])[2]], client, store, loadAsModel)).toBe(true);
    expect(store.getState().modelError).toMatch(/names the weight file 'weights.bin', which was not picked/);
    expect(store.getState().runs).toEqual([]);
  });

  it('names a damaged result instead of throwing: weights.bin cut short or of another model, model.json not JSON, a source that cannot be read', async () => {
    const { store, client, loadAsModel } = setup();
    const [modelJson, weights, metadata] = outFiles([1, 2]);
    const cut = new File([(await weights.arrayBuffer()).slice(0, 10)], 'weights.bin');
    expect(await importPytorchRun([modelJson, cut, metadata], client, store, loadAsModel)).toBe(true);
    expect(store.getState().modelError).toBe(
      "'weights.bin' holds 10 bytes, but the 3 weights its model.json lists take 24: the file is damaged or from another model. Copy out/ again.",
    );
    expect(await importPytorchRun([new File(['{"weightsManifest": ['], 'model.json'), weights, metadata], client, store, loadAsModel)).toBe(true);
    expect(store.getState().modelError).toMatch(/^'model.json' of the PyTorch result is not valid JSON/);
    client.readSourceWeights.mockRejectedValueOnce(new Error('The training worker crashed: out of memory.'));
    expect(await importPytorchRun(outFiles([1, 2]), client, store, loadAsModel)).toBe(true);
    expect(store.getState().modelError).toBe("The PyTorch run could not be audited against 'tiny': The training worker crashed: out of memory.");
    expect(store.getState().runs).toEqual([]);
  });
});
