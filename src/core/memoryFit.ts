import type { StepCost } from './stepCost';

/**
 * Whether a training step fits in the wasm backend's heap, checked before the
 * run's first step (issue 15). WebAssembly memory is at most 4 GiB, and tfjs'
 * threaded wasm build was seen to hang at that ceiling instead of failing: a
 * step that cannot fit must be refused before it runs, with a batch that fits.
 *
 * The need is modelled from the step-cost estimate (core/stepCost.ts): the
 * activations the backward pass keeps, times a factor measured on wasm — a
 * full fine-tune of MobileNetV2 at batch 8 grew the heap to 2,261 MiB for
 * 599 MiB of kept activations (3.8×: the estimate counts a layer's input once,
 * while a conv → BN → ReLU → clip chain keeps each of its outputs, plus the
 * backward pass's own temporaries and the allocator's slack), rounded up to
 * 4 — plus the model's weights four times over (weights, gradients, the
 * pretrained copy, the best copy) and the optimizer's slots.
 */

/** WebAssembly's memory ceiling (wasm32: 65,536 pages of 64 KiB). */
export const WASM_HEAP_LIMIT_BYTES = 4 * 2 ** 30;

/** Heap bytes per kept activation byte, measured (see above). */
export const WASM_BYTES_PER_KEPT_BYTE = 4;

/** A step is refused when its modelled need passes this share of the ceiling (the estimate is not exact). */
const SAFE_SHARE = 0.9;

/** The modelled heap a step needs on wasm: kept activations × the factor (4), the weights four times, the optimizer state. */
export function wasmStepBytes(cost: StepCost, modelWeightBytes: number): number {
  return cost.activationBytes * WASM_BYTES_PER_KEPT_BYTE + 4 * modelWeightBytes + cost.optimizerStateBytes;
}

/** What the check says: fits, or the need and the largest batch (halving from the asked one) that fits, 0 when none does. */
export type WasmFit = { fits: true } | { fits: false; needBytes: number; batchSize: number; largestBatch: number };

/**
 * Checks `batchSize` with `costAt(batch)` (the step-cost estimate at that batch), halving until a batch fits.
 */
export function wasmBatchFit(costAt: (batchSize: number) => StepCost, batchSize: number, modelWeightBytes: number): WasmFit {
  const limit = SAFE_SHARE * WASM_HEAP_LIMIT_BYTES;
  const needBytes = wasmStepBytes(costAt(batchSize), modelWeightBytes);
  if (needBytes <= limit) return { fits: true };
  let largestBatch = Math.floor(batchSize / 2);
  while (largestBatch >= 1 && wasmStepBytes(costAt(largestBatch), modelWeightBytes) > limit) largestBatch = Math.floor(largestBatch / 2);
  return { fits: false, needBytes, batchSize, largestBatch };
}

const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);

/** The refusal in words: the batch, the need, the ceiling, and what to try (the same opening as a failed step's out-of-memory message). */
export function wasmFitMessage(fit: Extract<WasmFit, { fits: false }>): string {
  const next =
    fit.largestBatch >= 1
      ? `Try batch size ${fit.largestBatch}, or freeze more layers (frozen layers keep no activations for the backward pass).`
      : 'Even batch size 1 does not fit: freeze more layers (frozen layers keep no activations for the backward pass) or use a smaller model.';
  return `Out of memory on wasm at batch size ${fit.batchSize}: a training step of this plan needs about ${gib(fit.needBytes)} GiB, more than the ${gib(WASM_HEAP_LIMIT_BYTES)} GiB WebAssembly can hold, so the run was not started. ${next}`;
}
