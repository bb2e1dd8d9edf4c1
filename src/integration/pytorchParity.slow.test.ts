/**
 * Issue 14, parity: the PyTorch bundle's interpreter (pytorch/transfer_studio_torch) computes what the studio
 * computes. Every model the studio ships or tests with — the digits CNN, MobileNetV2 (through the studio's cut +
 * head), a nested model, a model of open input size fed at 11×14, and a generated model using every supported
 * layer class at odd sizes and strides — is saved as the studio saves it with 16 seeded inputs and the tfjs `cpu`
 * backend's softmax; /usr/bin/python3 loads each with load_model and must agree within 1e-4 with the same argmax. The bundle's ONNX export, run by
 * onnxruntime-web, must agree too. Slow: MobileNetV2 at 224×224 on the cpu backend takes about 1.4 s per image.
 */
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARITY_MODELS, writeParityFixture, type ParityFixture } from '../../scripts/torchFixtures';
import { PARITY_SCRIPT, PYTHON, PYTORCH_DIR, requirePythonTorch } from '../../scripts/torchBundle';
import { MOBILENET_V2_DIR } from '../engine/testing/builtInFiles';

/** What scripts/torchParity.py prints per fixture. */
interface ParityResult {
  name: string;
  count: number;
  maxAbsDiff: number;
  argmaxEqual: boolean;
  argmaxClasses: number[];
  unusedWeights: string[];
}

const TOLERANCE = 1e-4;
let dir = '';
const fixtures: ParityFixture[] = [];
let results: ParityResult[] = [];

function python(args: string[]): string {
  return execFileSync(PYTHON, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
}

function floats(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

beforeAll(async () => {
  requirePythonTorch();
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'ts-torch-parity-'));
  for (const name of PARITY_MODELS) fixtures.push(await writeParityFixture(dir, name, 16));
  const lines = python([PARITY_SCRIPT, '--onnx', ...PARITY_MODELS.map((name) => join(dir, name))]);
  results = lines
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ParityResult);
}, 280_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('PyTorch parity with the studio (tfjs cpu)', () => {
  it.each(PARITY_MODELS)('%s: softmax within 1e-4 on 16 images, same argmax, every weight used', (name) => {
    const result = results.find((r) => r.name === name);
    expect(result, `scripts/torchParity.py printed no result for ${name}`).toBeDefined();
    expect(result!.count).toBe(16);
    expect(result!.maxAbsDiff).toBeLessThanOrEqual(TOLERANCE);
    expect(result!.argmaxEqual).toBe(true);
    expect(result!.unusedWeights).toEqual([]);
  });

  it('the inputs reach more than one class on the digits and every-layer models, so "same argmax" compares decisions', () => {
    const varied = results.filter((r) => r.argmaxClasses.length > 1).map((r) => r.name);
    expect(varied).toEqual(expect.arrayContaining(['digits', 'digits_transfer', 'every_layer']));
  });

  it('the ONNX export (torch.onnx.export, dynamic batch) run by onnxruntime-web matches the studio within 1e-4', async () => {
    ort.env.wasm.numThreads = 1;
    for (const fixture of fixtures) {
      const session = await ort.InferenceSession.create(readFileSync(join(dir, fixture.name, 'model.onnx')));
      const [height, width, channels] = fixture.inputShape;
      const nhwc = floats(join(dir, fixture.name, 'inputs.bin'));
      // The ONNX model takes NCHW; feed two batches of different sizes to prove the batch dimension is dynamic.
      const nchw = new Float32Array(nhwc.length);
      for (let n = 0; n < fixture.count; n++)
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width; x++)
            for (let c = 0; c < channels; c++) {
              nchw[((n * channels + c) * height + y) * width + x] = nhwc[((n * height + y) * width + x) * channels + c];
            }
      const expected = floats(join(dir, fixture.name, 'expected.bin'));
      const per = channels * height * width;
      const got: number[] = [];
      for (const [start, end] of [
        [0, 5],
        [5, fixture.count],
      ]) {
        const input = new ort.Tensor('float32', nchw.slice(start * per, end * per), [end - start, channels, height, width]);
        const output = await session.run({ [session.inputNames[0]]: input });
        got.push(...Array.from(output[session.outputNames[0]].data as Float32Array));
      }
      await session.release();
      expect(got.length, fixture.name).toBe(expected.length);
      const worst = got.reduce((max, v, i) => Math.max(max, Math.abs(v - expected[i])), 0);
      expect(worst, `${fixture.name}: ONNX max abs diff`).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('dequantizes the uint8 MobileNetV2 file exactly as tfjs does (v · scale + min): every weight bit-identical', () => {
    const out = JSON.parse(python([PARITY_SCRIPT, '--compare-weights', MOBILENET_V2_DIR, join(dir, 'mobilenet_v2_transfer')])) as {
      common: number;
      differ: string[];
    };
    expect(out.common).toBeGreaterThan(200);
    expect(out.differ).toEqual([]);
  });

  it('pytorch/bundle-files.json names every Python file of the bundle, and only those', () => {
    const list = JSON.parse(readFileSync(join(PYTORCH_DIR, 'bundle-files.json'), 'utf8')) as { files: string[] };
    const onDisk = readdirSync(PYTORCH_DIR, { recursive: true, encoding: 'utf8' }).filter((path) => path.endsWith('.py') && !path.includes('__pycache__'));
    expect([...list.files].sort()).toEqual(onDisk.map((path) => path.split(sep).join('/')).sort());
  });

  it('pytorch/supported-layers.json lists exactly the classes the interpreter builds', () => {
    const printed = python([
      '-c',
      'import sys, json; sys.path.insert(0, sys.argv[1]); from transfer_studio_torch.layers import SUPPORTED_LAYER_CLASSES as s, ACTIVATIONS as a; print(json.dumps([s, sorted(list(a) + ["hardSigmoid"])]))',
      PYTORCH_DIR,
    ]);
    const file = JSON.parse(readFileSync(join(PYTORCH_DIR, 'supported-layers.json'), 'utf8')) as { SUPPORTED_LAYER_CLASSES: string[]; activations: string[] };
    const [classes, activations] = JSON.parse(printed) as [string[], string[]];
    expect(file.SUPPORTED_LAYER_CLASSES).toEqual(classes);
    expect(file.activations).toEqual(activations);
    const used = new Set<string>();
    const walk = (config: { layers: { class_name: string; config: unknown }[] }) => {
      for (const layer of config.layers) {
        used.add(layer.class_name);
        if (['Model', 'Functional', 'Sequential'].includes(layer.class_name)) walk(layer.config as typeof config);
      }
    };
    for (const name of ['every_layer', 'mobilenet_v2_transfer', 'nested']) {
      walk((JSON.parse(readFileSync(join(dir, name, 'model.json'), 'utf8')) as { modelTopology: { config: Parameters<typeof walk>[0] } }).modelTopology.config);
    }
    // Every supported class (aliases and the 'Functional' spelling aside) appears in a parity model.
    const untested = file.SUPPORTED_LAYER_CLASSES.filter(
      (c) => !used.has(c) && !['Functional', 'MaxPool2D', 'AvgPool2D', 'GlobalAvgPool2D', 'GlobalMaxPool2D'].includes(c),
    );
    expect(untested).toEqual([]);
  });
});
