import type * as tf from '@tensorflow/tfjs';
import { snapshotWeights } from './tinyModel';

/** The weights of the head layers of `model`, by layer and weight kind (tfjs suffixes variable names across models: bias_4, bias_5). */
export async function headWeights(model: tf.LayersModel, headLayers: ReadonlySet<string>): Promise<Map<string, Float32Array>> {
  const all = await snapshotWeights(model);
  return new Map([...all].filter(([name]) => headLayers.has(name.split('/')[0])).map(([name, v]) => [name.replace(/_\d+$/, ''), v]));
}

/** Largest |a[i] − b[i]|. */
export function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
