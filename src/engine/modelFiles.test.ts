import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadLayersModelFromFileSet, loadLayersModelFromUrl, ModelFileError } from './modelFiles';
import { createTinyModel } from './testing/tinyModel';

interface Saved {
  json: Record<string, unknown>;
  weights: ArrayBuffer;
}

let saved: Saved;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const model = createTinyModel(5);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = {
        json: {
          format: 'layers-model',
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }],
        },
        weights: artifacts.weightData as ArrayBuffer,
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
});

const encode = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)).buffer as ArrayBuffer;
const modelFile = (json: unknown = saved.json) => ({ name: 'model.json', buffer: encode(json) });
const shard = (buffer: ArrayBuffer = saved.weights, name = 'group1-shard1of1.bin') => ({ name, buffer });

/** Rewrites every InputLayer's batch_input_shape as Keras 3's batch_shape. */
function asKeras3(json: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(json).replace(/"batch_input_shape"/g, '"batch_shape"');
  return JSON.parse(text) as Record<string, unknown>;
}

describe('loadLayersModelFromFileSet', () => {
  it('loads a model.json and its shard, giving the same predictions as the saved model', async () => {
    const loaded = await loadLayersModelFromFileSet([modelFile(), shard()]);
    const x = tf.randomUniform([2, 8, 8, 1], 0, 1, 'float32', 3);
    const original = createTinyModel(5);
    const [a, b] = [loaded.model.predict(x) as tf.Tensor, original.predict(x) as tf.Tensor];
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    expect(loaded.inputShape).toEqual({ height: 8, width: 8, channels: 1 });
    tf.dispose([x, a, b]);
  });

  it('loads a Keras 3 export whose InputLayer says batch_shape', async () => {
    expect(JSON.stringify(asKeras3(saved.json))).toContain('batch_shape');
    const loaded = await loadLayersModelFromFileSet([modelFile(asKeras3(saved.json)), shard()]);
    expect(loaded.model.inputs[0].shape).toEqual([null, 8, 8, 1]);
  });

  it('feeds a model with open height and width at the size its file declares, else 224', async () => {
    const open = async (declared?: [number, number]) => {
      const input = tf.input({ shape: [null, null, 3] as unknown as number[] });
      const output = tf.layers.globalAveragePooling2d({}).apply(tf.layers.conv2d({ filters: 2, kernelSize: 1 }).apply(input)) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: output });
      let files: { name: string; buffer: ArrayBuffer }[] = [];
      await model.save(
        tf.io.withSaveHandler(async (a) => {
          const json = {
            modelTopology: a.modelTopology,
            weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }],
            userDefinedMetadata: declared ? { preprocessing: { inputSize: declared } } : undefined,
          };
          files = [
            { name: 'model.json', buffer: encode(json) },
            { name: 'w.bin', buffer: a.weightData as ArrayBuffer },
          ];
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      model.dispose();
      const loaded = await loadLayersModelFromFileSet(files);
      loaded.model.dispose();
      return loaded.inputShape;
    };
    expect(await open()).toEqual({ height: 224, width: 224, channels: 3 });
    expect(await open([96, 128])).toEqual({ height: 96, width: 128, channels: 3 });
  });

  it('refuses a model that does not take images, saying what it takes', async () => {
    const input = tf.input({ shape: [784] });
    const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor });
    let files: { name: string; buffer: ArrayBuffer }[] = [];
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        files = [
          { name: 'mlp.json', buffer: encode({ modelTopology: a.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }] }) },
          { name: 'w.bin', buffer: a.weightData as ArrayBuffer },
        ];
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    model.dispose();
    await expect(loadLayersModelFromFileSet(files)).rejects.toMatchObject({
      code: 'not-image-input',
      message: "'mlp.json' takes input of shape [784]; the studio trains on one image input of height × width × 1 (grey) or 3 (RGB) channels.",
    });
  });

  it('sets aside the metadata.json of a studio export picked along with the model', async () => {
    const loaded = await loadLayersModelFromFileSet([modelFile(), shard(), { name: 'metadata.json', buffer: encode({ format: 'transfer-studio-export' }) }]);
    expect(loaded.model.layers.length).toBeGreaterThan(1);
    loaded.model.dispose();
  });

  it.each([
    [
      'model.json that is not JSON',
      () => [{ name: 'model.json', buffer: encode('{"format": "layers-model", oops') }, shard()],
      'not-json',
      /^'model\.json' is not valid JSON \(.+\)\. Pick the model\.json/,
    ],
    [
      'graph model',
      () => [modelFile({ format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [] })],
      'graph-model',
      /^'model\.json' is a graph model .* no layers to freeze or train/,
    ],
    [
      'missing shard',
      () => [modelFile()],
      'missing-shard',
      /^Weight file 'group1-shard1of1\.bin' listed in 'model\.json' is missing\. Add it together with model\.json\.$/,
    ],
    ['extra file', () => [modelFile(), shard(), shard(new ArrayBuffer(4), 'notes.bin')], 'extra-file', /^'notes\.bin' is not listed in 'model\.json'\./],
    [
      'shard of the wrong size',
      () => [modelFile(), shard(saved.weights.slice(0, 100))],
      'bad-shard-size',
      /^Weight files 'group1-shard1of1\.bin' hold 100 bytes but 'model\.json' describes [\d,]+\. They belong to another model or were cut short\.$/,
    ],
    [
      'unknown layer class',
      () => [modelFile(JSON.parse(JSON.stringify(saved.json).replace('"class_name":"Flatten"', '"class_name":"MyFancyLayer"'))), shard()],
      'unknown-layer',
      /^'model\.json' uses the layer class 'MyFancyLayer', which tfjs does not provide/,
    ],
    ['no model.json', () => [shard()], 'no-model-json', /^No model\.json among the picked files/],
  ])('refuses a %s with a specific message', async (_case, files, code, message) => {
    const attempt = loadLayersModelFromFileSet(files());
    await expect(attempt).rejects.toBeInstanceOf(ModelFileError);
    await expect(attempt).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });
});

describe('loadLayersModelFromUrl', () => {
  afterEach(() => vi.unstubAllGlobals());

  /** A fetch that serves `files` by URL, and fails like a CORS refusal for anything under http://elsewhere/. */
  function serve(files: Record<string, ArrayBuffer>) {
    vi.stubGlobal('fetch', async (url: string) => {
      if (url.startsWith('http://elsewhere/')) throw new TypeError('Failed to fetch');
      const body = files[url];
      return body ? new Response(body) : new Response('no', { status: url.endsWith('teapot') ? 418 : 404, statusText: 'Nope' });
    });
  }

  it('loads model.json and the shard beside it, and hashes what it read', async () => {
    serve({ 'http://host/m/model.json': encode(saved.json), 'http://host/m/group1-shard1of1.bin': saved.weights });
    const a = await loadLayersModelFromUrl('http://host/m/model.json');
    const b = await loadLayersModelFromFileSet([modelFile(), shard()]);
    expect(a.sourceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.sourceHash).toBe(b.sourceHash);
    a.model.dispose();
    b.model.dispose();
  });

  it.each([
    [
      'a CORS refusal or unreachable host',
      'http://elsewhere/model.json',
      'unreachable',
      /^Could not read the model 'http:\/\/elsewhere\/model\.json'\. .*CORS.*Import model instead\.$/,
    ],
    ['a missing file', 'http://host/none.json', 'http-status', /^There is no file at 'http:\/\/host\/none\.json' \(HTTP 404\)/],
    ['an HTTP error', 'http://host/teapot', 'http-status', /^The server answered HTTP 418 Nope for the model 'http:\/\/host\/teapot'/],
  ])('explains %s', async (_case, url, code, message) => {
    serve({});
    const attempt = loadLayersModelFromUrl(url);
    await expect(attempt).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('names a shard the server does not have', async () => {
    serve({ 'http://host/m/model.json': encode(saved.json) });
    await expect(loadLayersModelFromUrl('http://host/m/model.json')).rejects.toMatchObject({ code: 'missing-shard' });
  });
});
