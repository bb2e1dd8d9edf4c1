import { describe, expect, it } from 'vitest';
import { WASM_HEAP_LIMIT_BYTES, wasmBatchFit, wasmFitMessage, wasmStepBytes } from './memoryFit';
import type { StepCost } from './stepCost';

/** A step cost whose kept activations grow with the batch (`perImage` bytes each), as the estimate's do. */
const costOf =
  (perImage: number, optimizerStateBytes = 0) =>
  (batch: number) =>
    ({ activationBytes: perImage * batch, optimizerStateBytes }) as StepCost;

const MIB = 2 ** 20;

describe('whether a step fits in the wasm heap', () => {
  it('models the need as four times the kept activations, the weights four times and the optimizer state', () => {
    expect(wasmStepBytes(costOf(75 * MIB, 17 * MIB)(8), 9 * MIB)).toBe(4 * 600 * MIB + 36 * MIB + 17 * MIB);
  });

  it('lets MobileNetV2’s full fine-tune run at batch 8 (measured: 2.2 GiB), refuses 32 and 16 and names 8 (75 MiB of kept activations per image)', () => {
    const cost = costOf(75 * MIB, 17 * MIB);
    expect(wasmBatchFit(cost, 8, 9 * MIB)).toEqual({ fits: true });
    expect(wasmBatchFit(cost, 16, 9 * MIB)).toMatchObject({ fits: false, largestBatch: 8 });
    const refused = wasmBatchFit(cost, 32, 9 * MIB);
    expect(refused).toMatchObject({ fits: false, batchSize: 32, largestBatch: 8 });
    expect(wasmFitMessage(refused as Extract<typeof refused, { fits: false }>)).toBe(
      'Out of memory on wasm at batch size 32: a training step of this plan needs about 9.4 GiB, more than the 4.0 GiB WebAssembly can hold, so the run was not started. Try batch size 8, or freeze more layers (frozen layers keep no activations for the backward pass).',
    );
  });

  it('halves as often as needed, and says when not even one image fits', () => {
    expect(wasmBatchFit(costOf(300 * MIB), 64, 0)).toMatchObject({ fits: false, largestBatch: 2 });
    const none = wasmBatchFit(costOf(WASM_HEAP_LIMIT_BYTES), 2, 0);
    expect(none).toMatchObject({ fits: false, largestBatch: 0 });
    expect(wasmFitMessage(none as Extract<typeof none, { fits: false }>)).toContain('Even batch size 1 does not fit');
  });
});
