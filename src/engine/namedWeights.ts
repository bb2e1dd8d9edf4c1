import * as tf from '@tensorflow/tfjs';
import type { WeightSpec } from '../core/exportModelFiles';

/*
 * Weights by their original names ("block_16_project/kernel"), packed as a
 * tfjs weights manifest + one buffer: how a checkpoint leaves the worker and
 * how saved weights (a project's, a checkpoint's) are written back into a
 * model. Engine-unique variable names ("…/kernel_1") never appear.
 */

/** Weights as a manifest and their bytes (float32 / int32 little-endian, in spec order). */
export interface NamedWeights {
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
}

/** Variable → original weight name, for every weight of `model` (nested models included). */
export function originalNames(model: tf.LayersModel): Map<tf.Variable, string> {
  const names = new Map<tf.Variable, string>();
  for (const weight of model.weights) names.set(weight.read() as tf.Variable, weight.originalName);
  return names;
}

/** Packs CPU copies of variables under their original names (`names`); a variable without a name there is a programmer error. */
export function packWeights(values: ReadonlyMap<tf.Variable, tf.TypedArray>, names: ReadonlyMap<tf.Variable, string>): NamedWeights {
  const weightSpecs: WeightSpec[] = [];
  let bytes = 0;
  for (const data of values.values()) bytes += data.byteLength;
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const [variable, data] of values) {
    const name = names.get(variable);
    if (name === undefined) throw new Error(`Variable '${variable.name}' is not a weight of the model being packed.`);
    if (variable.dtype !== 'float32' && variable.dtype !== 'int32')
      throw new Error(`Weight '${name}' has dtype ${variable.dtype}; only float32 and int32 are packed.`);
    weightSpecs.push({ name, shape: [...variable.shape], dtype: variable.dtype });
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    offset += data.byteLength;
  }
  return { weightSpecs, weightData: out.buffer };
}

/** A weight that cannot be written back, named with the reason (the model is left unchanged). */
export class WeightsMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsMismatchError';
  }
}

function elements(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/**
 * Writes `weights` into `model`'s variables by original name, all or nothing: every spec must name a weight
 * of the model with the same shape and dtype, the bytes must add up exactly, and with `complete` every weight
 * of the model must be given. Otherwise WeightsMismatchError names the first problem and nothing is written.
 * Creates no lasting tensors.
 */
export function assignNamedWeights(model: tf.LayersModel, weights: NamedWeights, complete: boolean): void {
  const byName = new Map(model.weights.map((weight) => [weight.originalName, weight.read() as tf.Variable]));
  const writes: { variable: tf.Variable; values: Float32Array | Int32Array }[] = [];
  let offset = 0;
  for (const spec of weights.weightSpecs) {
    const variable = byName.get(spec.name);
    if (!variable) throw new WeightsMismatchError(`The saved weight '${spec.name}' is not a weight of model '${model.name}'.`);
    if (spec.quantization)
      throw new WeightsMismatchError(`The saved weight '${spec.name}' is quantized (${spec.quantization.dtype}); only float32 weights are reopened.`);
    if (spec.dtype !== variable.dtype || spec.shape.join('×') !== variable.shape.join('×'))
      throw new WeightsMismatchError(
        `The saved weight '${spec.name}' is ${spec.dtype} [${spec.shape.join(', ')}], but the model's is ${variable.dtype} [${variable.shape.join(', ')}].`,
      );
    const count = elements(spec.shape);
    if (offset + count * 4 > weights.weightData.byteLength)
      throw new WeightsMismatchError(`The saved weights end before '${spec.name}' (${weights.weightData.byteLength} bytes in all).`);
    const values = spec.dtype === 'int32' ? new Int32Array(weights.weightData, offset, count) : new Float32Array(weights.weightData, offset, count);
    writes.push({ variable, values });
    offset += count * 4;
  }
  if (offset !== weights.weightData.byteLength)
    throw new WeightsMismatchError(`The saved weights hold ${weights.weightData.byteLength} bytes, but their manifest describes ${offset}.`);
  if (complete) {
    const given = new Set(weights.weightSpecs.map((spec) => spec.name));
    const missing = [...byName.keys()].find((name) => !given.has(name));
    if (missing !== undefined) throw new WeightsMismatchError(`The saved weights lack '${missing}', a weight of model '${model.name}'.`);
  }
  tf.tidy(() => {
    for (const { variable, values } of writes) variable.assign(tf.tensor(values, variable.shape, variable.dtype));
  });
}
