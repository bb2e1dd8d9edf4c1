import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openModel } from './modelSources';
import { createTinyModel } from './testing/tinyModel';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The tiny model saved as model.json + one weight file. */
async function savedTiny(): Promise<{ name: string; buffer: ArrayBuffer }[]> {
  let files: { name: string; buffer: ArrayBuffer }[] = [];
  const model = createTinyModel();
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const json = { format: 'layers-model', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: artifacts.weightSpecs }] };
      files = [
        { name: 'model.json', buffer: new TextEncoder().encode(JSON.stringify(json)).buffer as ArrayBuffer },
        { name: 'w.bin', buffer: artifacts.weightData as ArrayBuffer },
      ];
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
  return files;
}

describe('opening a model behind one contract', () => {
  it('opens picked files with the matching format', async () => {
    const opened = await openModel({ kind: 'files', files: await savedTiny() });
    if (!opened.ok) throw new Error(opened.reason);
    expect(opened.loaded.model.name).toBe('tiny');
    opened.loaded.model.dispose();
  });

  it.each([
    [
      'a missing weight file',
      (files: { name: string; buffer: ArrayBuffer }[]) => files.slice(0, 1),
      'missing-shard',
      /'w\.bin' listed in 'model\.json' is missing/,
    ],
    ['no model.json', (files: { name: string; buffer: ArrayBuffer }[]) => files.slice(1), 'no-model-json', /No model\.json/],
    [
      'text that is not JSON',
      () => [{ name: 'model.json', buffer: new TextEncoder().encode('{ nope').buffer as ArrayBuffer }],
      'not-json',
      /'model\.json' is not valid JSON/,
    ],
  ])('answers %s with a result that names it, not a throw', async (_label, pick, code, reason) => {
    const opened = await openModel({ kind: 'files', files: pick(await savedTiny()) });
    expect(opened).toMatchObject({ ok: false, code, reason: expect.stringMatching(reason) });
  });

  it('says so for a source no format matches', async () => {
    const opened = await openModel({ kind: 'camera' } as never);
    expect(opened).toMatchObject({ ok: false, code: 'unsupported-source', reason: expect.stringContaining("'camera'") });
  });
});
