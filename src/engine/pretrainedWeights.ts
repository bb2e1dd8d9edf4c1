import * as tf from '@tensorflow/tfjs';
import { leafLayers } from './freeze';

/** CPU-side copies of every weight of a loaded model, keyed by its variable: what "Start from the pretrained weights" restores. */
export type PretrainedWeights = Map<tf.Variable, tf.TypedArray>;

/**
 * Copies every weight of `model` (nested models included, BatchNorm moving
 * statistics included, trainable or not) to the CPU with `await data()`,
 * never dataSync (TFJS-FACTS #8). All reads start before the first await.
 * Creates no tensors.
 */
export async function capturePretrained(model: tf.LayersModel): Promise<PretrainedWeights> {
  const variables = [...new Set(model.weights.map((weight) => weight.read() as tf.Variable))];
  const values = await Promise.all(variables.map((variable) => variable.data()));
  // Copies: the cpu backend hands out its own backing arrays.
  return new Map(variables.map((variable, i) => [variable, values[i].slice() as tf.TypedArray]));
}

/** Assigns the captured values back to their variables (inside one tidy: no tensor is left behind). */
export function restorePretrained(weights: PretrainedWeights): void {
  tf.tidy(() => {
    for (const [variable, values] of weights) {
      if (!variable.isDisposed) variable.assign(tf.tensor(values, variable.shape, variable.dtype));
    }
  });
}

/**
 * For each leaf layer of `model` with weights (nested models opened, `skip`
 * left out): whether every one of its weights — BatchNorm moving statistics
 * included — holds exactly the bits captured at load. Layers whose variables
 * were not captured count as not identical. Reads with `await data()`.
 */
export async function layersMatchingPretrained(model: tf.LayersModel, weights: PretrainedWeights, skip: ReadonlySet<string>): Promise<Record<string, boolean>> {
  const layers = leafLayers(model).filter((layer) => !skip.has(layer.name) && layer.weights.length > 0);
  const out: Record<string, boolean> = {};
  await Promise.all(
    layers.map(async (layer) => {
      const checks = await Promise.all(
        layer.weights.map(async (weight) => {
          const variable = weight.read() as tf.Variable;
          const source = weights.get(variable);
          return source !== undefined && sameBits(source, await variable.data());
        }),
      );
      out[layer.name] = checks.every(Boolean);
    }),
  );
  // In model order, for a readable metadata.json.
  return Object.fromEntries(layers.map((layer) => [layer.name, out[layer.name]]));
}

function sameBits(a: tf.TypedArray, b: tf.TypedArray): boolean {
  if (a.length !== b.length || a.byteLength !== b.byteLength) return false;
  const wa = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const wb = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < wa.length; i++) if (wa[i] !== wb[i]) return false;
  return true;
}
