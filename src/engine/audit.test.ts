import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureWeights, relativeUpdates } from './audit';
import { compareSnapshots, fingerprint, maxAbsChange, relativeChange, snapshotUpdates, type WeightSnapshot } from '../core/auditCompare';
import { createTinyModel } from './testing/tinyModel';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A snapshot of plain arrays: conv (kernel, bias), bn (gamma, beta, moving stats), dense (kernel). */
function plainSnapshot(): WeightSnapshot {
  const f = (...v: number[]) => Float32Array.from(v);
  return {
    layers: [
      {
        name: 'conv',
        weights: [
          { name: 'conv/kernel', shape: [2, 2], values: f(1, -2, 3, 4) },
          { name: 'conv/bias', shape: [2], values: f(0.5, 0) },
        ],
      },
      {
        name: 'bn',
        weights: [
          { name: 'bn/gamma', shape: [2], values: f(1, 1) },
          { name: 'bn/beta', shape: [2], values: f(0, 0) },
          { name: 'bn/moving_mean', shape: [2], values: f(0.1, 0.2) },
          { name: 'bn/moving_variance', shape: [2], values: f(0.9, 1.1) },
        ],
      },
      { name: 'relu', weights: [] },
      { name: 'dense', weights: [{ name: 'dense/kernel', shape: [3], values: f(3, 0, -4) }] },
    ],
  };
}

/** A deep copy, so a test can change one value of `after` only. */
function copy(snapshot: WeightSnapshot): WeightSnapshot {
  return {
    layers: snapshot.layers.map((l) => ({ name: l.name, weights: l.weights.map((w) => ({ ...w, shape: [...w.shape], values: Float32Array.from(w.values) })) })),
  };
}

const weight = (s: WeightSnapshot, layer: string, name: string) => s.layers.find((l) => l.name === layer)!.weights.find((w) => w.name === name)!;

describe('fingerprint', () => {
  it('is stable, 16 hex digits, and changes when any one bit of any element flips', () => {
    const values = Float32Array.from({ length: 257 }, (_, i) => Math.sin(i) * 10);
    const print = fingerprint(values);
    expect(print).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(Float32Array.from(values))).toBe(print);
    const bits = new Uint32Array(values.buffer);
    for (const index of [0, 128, 256]) {
      for (let bit = 0; bit < 32; bit++) {
        bits[index] ^= 1 << bit;
        expect(fingerprint(values)).not.toBe(print);
        bits[index] ^= 1 << bit;
      }
    }
    expect(fingerprint(values)).toBe(print);
  });

  it('tells apart arrays of zeros of different lengths and a view from its whole buffer', () => {
    expect(fingerprint(new Float32Array(3))).not.toBe(fingerprint(new Float32Array(4)));
    const whole = Float32Array.from([1, 2, 3, 4]);
    expect(fingerprint(whole.subarray(1, 3))).toBe(fingerprint(Float32Array.from([2, 3])));
  });
});

describe('compareSnapshots', () => {
  it('passes frozen layers that kept every bit, and reports 0 change and 0 relative update for them', () => {
    const before = plainSnapshot();
    const after = copy(before);
    weight(after, 'dense', 'dense/kernel').values[0] = 3.5; // the trained head moved
    const report = compareSnapshots(before, after, new Set(['conv', 'bn']));
    expect(report.failed).toEqual([]);
    expect(report.frozenLayers).toBe(2);
    const conv = report.layers.find((l) => l.layer === 'conv')!;
    expect(conv).toMatchObject({ frozen: true, ok: true, maxAbsChange: 0, relativeUpdate: 0 });
    expect(conv.weights.every((w) => w.before === w.after)).toBe(true);
    const dense = report.layers.find((l) => l.layer === 'dense')!;
    expect(dense).toMatchObject({ frozen: false, ok: true, maxAbsChange: 0.5 });
    expect(dense.weights[0].before).not.toBe(dense.weights[0].after);
  });

  it('flags a deliberately corrupted frozen weight with its layer name, its fingerprints and its change', () => {
    const before = plainSnapshot();
    const after = copy(before);
    weight(after, 'conv', 'conv/bias').values[1] = 1e-7;
    const report = compareSnapshots(before, after, new Set(['conv', 'bn']));
    expect(report.failed).toEqual(['conv']);
    const conv = report.layers.find((l) => l.layer === 'conv')!;
    expect(conv.ok).toBe(false);
    expect(conv.maxAbsChange).toBeCloseTo(1e-7, 12);
    const bias = conv.weights.find((w) => w.name === 'conv/bias')!;
    expect(bias.before).not.toBe(bias.after);
    // The same change in a trained layer is no failure.
    expect(compareSnapshots(before, after, new Set(['bn'])).failed).toEqual([]);
  });

  it('holds the moving statistics of a frozen BatchNorm layer to 0 too, unless its statistics may train', () => {
    const before = plainSnapshot();
    const after = copy(before);
    weight(after, 'bn', 'bn/moving_variance').values[0] = 0.95;
    const report = compareSnapshots(before, after, new Set(['bn']));
    expect(report.failed).toEqual(['bn']);
    const bn = report.layers.find((l) => l.layer === 'bn')!;
    expect(bn.weights.map((w) => [w.name, w.statistic])).toEqual([
      ['bn/gamma', false],
      ['bn/beta', false],
      ['bn/moving_mean', true],
      ['bn/moving_variance', true],
    ]);
    expect(bn.maxAbsChange).toBeCloseTo(0.05, 6);
    // 'train-stats': the statistics may move, gamma and beta may not.
    const allowed = compareSnapshots(before, after, new Set(['bn']), 'verify', new Set(['bn']));
    expect(allowed.failed).toEqual([]);
    expect(allowed.when).toBe('verify');
    weight(after, 'bn', 'bn/gamma').values[1] = 1.0001;
    expect(compareSnapshots(before, after, new Set(['bn']), 'verify', new Set(['bn'])).failed).toEqual(['bn']);
  });

  it('counts a NaN that appeared as an infinite change and a missing weight as changed', () => {
    const before = plainSnapshot();
    const after = copy(before);
    weight(after, 'dense', 'dense/kernel').values[1] = NaN;
    after.layers[0].weights.pop();
    const report = compareSnapshots(before, after, new Set(['conv', 'dense']));
    expect(report.failed).toEqual(['conv', 'dense']);
    expect(report.layers.find((l) => l.layer === 'dense')!.maxAbsChange).toBe(Infinity);
    expect(report.layers.find((l) => l.layer === 'conv')!.weights[1].after).toBe('missing');
  });

  it("computes ‖ΔW‖/‖W‖ over all of a layer's weights as a direct computation does", () => {
    const before = plainSnapshot();
    const after = copy(before);
    const kernel = weight(after, 'conv', 'conv/kernel').values;
    kernel[0] += 0.3;
    kernel[3] -= 0.4;
    weight(after, 'conv', 'conv/bias').values[1] = 1.2;
    // Direct: ΔW = (0.3, 0, 0, -0.4, 0, 1.2), W = (1, -2, 3, 4, 0.5, 0).
    const direct = Math.sqrt(0.3 ** 2 + 0.4 ** 2 + 1.2 ** 2) / Math.sqrt(1 + 4 + 9 + 16 + 0.25);
    const report = compareSnapshots(before, after, new Set());
    expect(report.layers[0].relativeUpdate).toBeCloseTo(direct, 6);
    expect(snapshotUpdates(before, after)).toEqual({ conv: report.layers[0].relativeUpdate, bn: 0, dense: 0 });
    expect(relativeChange([{ before: new Float32Array(2), after: Float32Array.from([0, 1]) }])).toBe(Infinity);
    expect(maxAbsChange(Float32Array.from([0]), Float32Array.from([-0]))).toBeGreaterThan(0);
  });
});

describe('captureWeights', () => {
  it('reads every weight of every layer, BatchNorm moving statistics included, without leaking tensors', async () => {
    const model = createTinyModel();
    const tensors = tf.memory().numTensors;
    const snapshot = await captureWeights(model);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(snapshot.layers.map((l) => l.name)).toEqual(['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'relu2', 'flatten', 'classifier']);
    const bn1 = snapshot.layers[1].weights;
    expect(bn1.map((w) => w.name.replace(/_\d+$/, ''))).toEqual(['bn1/gamma', 'bn1/beta', 'bn1/moving_mean', 'bn1/moving_variance']);
    expect(bn1[3].values).toEqual(Float32Array.from([1, 1, 1]));
    expect(snapshot.layers[0].weights[0].shape).toEqual([3, 3, 1, 3]);
    // A copy: later writes to the model do not reach it.
    const kernel = model.getLayer('conv1').weights[0];
    const old = Float32Array.from(snapshot.layers[0].weights[0].values);
    const zeros = tf.zerosLike(kernel.read());
    kernel.write(zeros);
    zeros.dispose();
    expect(snapshot.layers[0].weights[0].values).toEqual(old);
    const updates = await relativeUpdates(snapshot, model);
    expect(updates.conv1).toBeCloseTo(1, 6); // ‖0 − W‖/‖W‖
    expect(updates.bn1).toBe(0);
    expect(updates.relu1).toBeUndefined();
    model.dispose();
  });

  it('opens a nested model into its layers', async () => {
    const inner = createTinyModel(3);
    const input = tf.input({ shape: [8, 8, 1] });
    const outer = tf.model({ inputs: input, outputs: inner.apply(input) as tf.SymbolicTensor });
    const snapshot = await captureWeights(outer);
    expect(snapshot.layers.map((l) => l.name)).toEqual(['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'relu2', 'flatten', 'classifier']);
    expect(snapshot.layers.reduce((n, l) => n + l.weights.length, 0)).toBe(outer.weights.length);
    outer.dispose();
  });
});
