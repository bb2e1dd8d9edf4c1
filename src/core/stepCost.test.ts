import { describe, expect, it } from 'vitest';
import {
  cheaperOn,
  costModelOf,
  estimateStepCost,
  estimateStepTime,
  FLOPS_ONLY,
  formatBytes,
  formatFlops,
  fullFineTuneWork,
  layerMacs,
  scheduleStepCosts,
  timedStepOfRun,
  weightedWork,
} from './stepCost';
import type { LayerInfo } from './types';

const row = (
  name: string,
  className: string,
  outputShape: number[],
  trainableParams: number,
  extra: Partial<LayerInfo> = {},
  origin: LayerInfo['origin'] = 'pretrained',
): LayerInfo => ({ name, className, outputShape, trainableParams, nonTrainableParams: 0, frozenInSource: false, origin, parent: null, ...extra });

/**
 * 8×8×1 → conv 3×3 (1→4, same) → BN → ReLU → depthwise 3×3 stride 2 → flatten → the head's Dense (64→2).
 * Hand counts per image: conv 64 positions × 36 = 2,304 MACs; depthwise 16 × 36 = 576; Dense 64 × 2 = 128; BN/ReLU 256 elements.
 */
const layers: LayerInfo[] = [
  row('conv', 'Conv2D', [8, 8, 4], 40, { inputShape: [8, 8, 1], kernelShape: [3, 3, 1, 4] }),
  row('bn', 'BatchNormalization', [8, 8, 4], 8, { nonTrainableParams: 8, inputShape: [8, 8, 4] }),
  row('relu', 'ReLU', [8, 8, 4], 0, { inputShape: [8, 8, 4] }),
  row('dw', 'DepthwiseConv2D', [4, 4, 4], 40, { inputShape: [8, 8, 4], kernelShape: [3, 3, 4, 1] }),
  row('flat', 'Flatten', [64], 0, { inputShape: [4, 4, 4] }),
  // The head's rows carry neither shape: the input is the row above's output, the kernel its parameters less the biases.
  row('head_dense', 'Dense', [2], 130, {}, 'head'),
];
const headOnly = { conv: true, bn: true, relu: true, dw: true, flat: true };

describe('layerMacs', () => {
  it('is output positions × kernel volume, from kernelShape or else from the parameters less one bias per channel', () => {
    expect(layerMacs(layers[0])).toBe(2304);
    expect(layerMacs(layers[3])).toBe(576);
    expect(layerMacs(layers[5])).toBe(128);
    // A 1×1 conv without bias (MobileNetV2's pointwise convs): 32 kernel weights at 16 positions.
    expect(layerMacs(row('pw', 'Conv2D', [4, 4, 8], 32, { kernelShape: [1, 1, 4, 8] }))).toBe(16 * 32);
  });
});

describe('estimateStepCost', () => {
  it('a full fine-tune: every layer forward and backward, no input gradient below the first conv, BN with batch statistics', () => {
    const cost = estimateStepCost({ layers, plan: {}, batchSize: 2, optimizer: 'adam' });
    // forward: conv 4,608 + BN 8×256 + ReLU 256 + depthwise 1,152 + Dense 256
    expect(cost.forwardFlops).toBe(8320);
    // backward: conv dW 4,608; BN dX 2,048 + dW 512; ReLU 256; depthwise dX + dW 2 × 1,152; Dense dX + dW 2 × 256
    expect(cost.backwardFlops).toBe(10240);
    expect(cost.lowestTrainable).toBe('conv');
    expect(cost.cheaperBy).toBe(1);
    // floats read and written by the backward kernels: conv dW 64 + 256; BN dX and dW 2 × 512; ReLU 512; depthwise 2 × (256 + 64); Dense 2 × (64 + 2)
    expect(fullFineTuneWork(layers)).toEqual({ forwardFlops: 8320, backwardFlops: 10240, backwardFloats: 320 + 1024 + 512 + 640 + 132 });
    expect(cost.backwardFloats).toBe(2628);
    // kept: conv's input 64, BN's 256, ReLU's 256, depthwise's input 256, Dense's input 64 = 896 floats × 2 images × 4 bytes
    expect(cost.activationBytes).toBe(896 * 2 * 4);
    expect(cost.trainableParams).toBe(218);
    expect(cost.optimizerStateBytes).toBe(218 * 2 * 4);
    expect(cost.cached).toBe(false);
    expect(cost.cacheBuildFlops).toBe(0);
  });

  it('head only through the model: everything forward (frozen BN in inference mode), only the head backward', () => {
    const cost = estimateStepCost({ layers, plan: headOnly, batchSize: 1 });
    expect(cost.forwardFlops).toBe(4608 + 512 + 256 + 1152 + 256);
    expect(cost.backwardFlops).toBe(256);
    expect(cost.lowestTrainable).toBe('head_dense');
    expect(cost.cheaperBy).toBeCloseTo(18560 / 7040, 10);
    expect(cost.activationBytes).toBe(64 * 4);
    expect(cost.trainableParams).toBe(130);
  });

  it('head only on cached features: the step is the head alone, the frozen part is the one-off cache build', () => {
    const cost = estimateStepCost({ layers, plan: headOnly, batchSize: 1, cached: true });
    expect(cost.forwardFlops).toBe(256);
    expect(cost.backwardFlops).toBe(256);
    expect(cost.cacheBuildFlops).toBe(4608 + 512 + 256 + 1152);
    expect(cost.cheaperBy).toBeCloseTo(18560 / 512, 10);
    expect(cost.layers.map((l) => l.name)).toEqual(['head_dense']);
  });

  it('prunes backprop below the lowest trainable layer: conv and BN frozen, the depthwise conv trains', () => {
    const cost = estimateStepCost({ layers, plan: { conv: true, bn: true }, batchSize: 1 });
    expect(cost.lowestTrainable).toBe('dw');
    expect(cost.forwardFlops).toBe(4608 + 512 + 256 + 1152 + 256);
    // depthwise dW only (no input gradient at the lowest trainable layer), Dense dX + dW
    expect(cost.backwardFlops).toBe(1152 + 256 + 256);
    expect(cost.activationBytes).toBe((256 + 64) * 4);
    const byName = Object.fromEntries(cost.layers.map((l) => [l.name, l]));
    expect(byName.relu).toEqual({ name: 'relu', forwardFlops: 256, inputGradFlops: 0, weightGradFlops: 0, keptFloats: 0, backwardFloats: 0 });
  });

  it('a frozen conv above a trainable BN still passes the gradient down, without a weight gradient', () => {
    const cost = estimateStepCost({ layers, plan: { conv: true, dw: true }, batchSize: 1 });
    expect(cost.lowestTrainable).toBe('bn');
    const dw = cost.layers.find((l) => l.name === 'dw')!;
    expect(dw).toEqual({ name: 'dw', forwardFlops: 1152, inputGradFlops: 1152, weightGradFlops: 0, keptFloats: 0, backwardFloats: 256 + 64 });
    // BN (batch statistics) dW 512, ReLU 256, depthwise dX 1,152, Dense dX + dW 512
    expect(cost.backwardFlops).toBe(512 + 256 + 1152 + 512);
  });

  it("a trained BN layer in 'inference' mode costs 2 FLOPs per element forward; a frozen one in 'train-stats' mode 8", () => {
    const inference = estimateStepCost({ layers, plan: {}, batchNormOverrides: { bn: 'inference' }, batchSize: 1 });
    expect(inference.layers[1]).toEqual({ name: 'bn', forwardFlops: 512, inputGradFlops: 256, weightGradFlops: 512, keptFloats: 256, backwardFloats: 1024 });
    const trainStats = estimateStepCost({ layers, plan: headOnly, batchNormOverrides: { bn: 'train-stats' }, batchSize: 1 });
    expect(trainStats.layers[1].forwardFlops).toBe(2048);
    expect(trainStats.backwardFlops).toBe(256);
  });

  it('a layer at learning-rate multiplier 0 is frozen; optimizer state follows the optimizer (Adam 2, momentum 1, SGD 0)', () => {
    const still = estimateStepCost({ layers, plan: {}, rateMultipliers: { conv: 0, bn: 0 }, batchSize: 1, optimizer: 'momentum' });
    expect(still.lowestTrainable).toBe('dw');
    expect(still.trainableParams).toBe(40 + 130);
    expect(still.optimizerStateBytes).toBe(170 * 4);
    expect(estimateStepCost({ layers, plan: {}, batchSize: 1, optimizer: 'sgd' }).optimizerStateBytes).toBe(0);
  });

  it('a Dense layer on a flattened conv output', () => {
    const dense = [
      row('conv', 'Conv2D', [2, 2, 3], 12, { inputShape: [2, 2, 1], kernelShape: [1, 1, 1, 3] }),
      row('flat', 'Flatten', [12], 0),
      row('fc', 'Dense', [5], 65, { kernelShape: [12, 5] }),
    ];
    const cost = estimateStepCost({ layers: dense, plan: { conv: true }, batchSize: 1 });
    expect(cost.forwardFlops).toBe(2 * 4 * 3 + 2 * 60);
    expect(cost.backwardFlops).toBe(2 * 60);
    expect(cost.activationBytes).toBe(12 * 4);
  });
});

describe('scheduleStepCosts', () => {
  it('costs the step after each unfreezing step in epoch order, each on top of the ones before', () => {
    const steps = [
      { epoch: 4, unfreeze: ['conv', 'bn'], label: 'unfreeze conv, bn' },
      { epoch: 2, unfreeze: ['dw'], label: 'unfreeze dw' },
    ];
    const phases = scheduleStepCosts({ layers, plan: headOnly, batchSize: 1, cached: true }, steps);
    expect(phases.map((p) => p.step.epoch)).toEqual([2, 4]);
    // From epoch 2 the depthwise conv trains: its dW, the Dense dX and dW; never on cached features.
    expect(phases[0].cost).toMatchObject({ lowestTrainable: 'dw', backwardFlops: 1152 + 256 + 256, cached: false });
    // From epoch 4 everything with weights trains: the full fine-tune's step.
    expect(phases[1].cost).toMatchObject({ lowestTrainable: 'conv', forwardFlops: 8320, backwardFlops: 10240, cheaperBy: 1 });
  });
});

describe('cheaperOn', () => {
  it("weights backward FLOPs and the backward pass's floats by a backend's cost model; FLOPS_ONLY is the FLOPs ratio", () => {
    const head = estimateStepCost({ layers, plan: headOnly, batchSize: 1 });
    expect(cheaperOn(head, FLOPS_ONLY)).toBeCloseTo(head.cheaperBy, 10);
    // Head only: backward 256 FLOPs, the Dense dW reads 64 and writes 2 floats.
    expect(head.backwardFloats).toBe(66);
    // A backward FLOP as dear as 10 forward ones, a float 5: (8,320 + 10 × 10,240 + 5 × 2,628) ÷ (6,784 + 10 × 256 + 5 × 66)
    const model = { backwardFlop: 10, backwardFloat: 5 };
    expect(weightedWork(head, model)).toBe(6784 + 2560 + 330);
    expect(cheaperOn(head, model)).toBeCloseTo((8320 + 102400 + 13140) / (6784 + 2560 + 330), 10);
    expect(costModelOf(null)).toBe(FLOPS_ONLY);
    expect(costModelOf('no-such-backend')).toBe(FLOPS_ONLY);
  });
});

describe('estimateStepTime', () => {
  const full = estimateStepCost({ layers, plan: {}, batchSize: 4 });
  const head = estimateStepCost({ layers, plan: headOnly, batchSize: 8 });

  it('scales the timed step by the FLOPs of the whole step (per image × batch)', () => {
    const timed = { msPerStep: 100, work: full, batchSize: 4, cached: false, backend: 'unmeasured' };
    const estimate = estimateStepTime(head, 8, 20, timed);
    expect(estimate.ok).toBe(true);
    if (!estimate.ok) return;
    expect(estimate.msPerStep).toBeCloseTo((100 * (7040 * 8)) / (18560 * 4), 10);
    expect(estimate.stepsPerEpoch).toBe(3);
    expect(estimate.msPerEpoch).toBeCloseTo(estimate.msPerStep * 3, 10);
    expect(estimateStepTime(full, 4, 20, timed)).toMatchObject({ ok: true, msPerStep: 100, stepsPerEpoch: 5 });
  });

  it('says why when nothing was timed, or the timed step and the plan differ in using the cache', () => {
    expect(estimateStepTime(full, 4, 20, null)).toEqual({ ok: false, reason: 'Train once to time a step on this machine.' });
    const cachedRun = { msPerStep: 2, work: head, batchSize: 8, cached: true, backend: 'cpu' };
    expect(estimateStepTime(full, 4, 20, cachedRun)).toMatchObject({ ok: false, reason: expect.stringContaining('cached features') });
  });

  it('timedStepOfRun: the median epoch before the trainable set changed, per batch', () => {
    const epochs = [
      { epoch: 0, millis: 300 },
      { epoch: 1, millis: 100 },
      { epoch: 2, millis: 120 },
      { epoch: 3, millis: 500 },
    ];
    expect(timedStepOfRun(epochs, 10, 3)).toBe(12);
    expect(timedStepOfRun(epochs, 10, null)).toBe(21);
    expect(timedStepOfRun([], 10, null)).toBeNull();
  });
});

describe('formats', () => {
  it('FLOPs and bytes with SI prefixes', () => {
    expect(formatFlops(18560)).toBe('18.6 kFLOPs');
    expect(formatFlops(612_000_000)).toBe('612 MFLOPs');
    expect(formatFlops(12)).toBe('12 FLOPs');
    expect(formatBytes(7168)).toBe('7.17 kB');
    expect(formatBytes(0)).toBe('0 B');
  });
});
