import * as tf from '@tensorflow/tfjs';
import type { InputShape, Preprocessing } from './types';

/** A problem with the user's model files; `code` tells the kind, `message` says what to do. */
export class ModelFileError extends Error {
  constructor(
    readonly code: 'not-json' | 'not-layers-model' | 'missing-shard' | 'bad-shard-size',
    message: string,
  ) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** The parts of a model.json the studio reads. */
interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

/** A loaded Layers model with what its file says about its input. */
export interface LoadedModel {
  model: tf.LayersModel;
  inputShape: InputShape;
  preprocessing: Preprocessing;
  provenance: string | null;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8, string: 0 };

function expectedBytes(weights: tf.io.WeightsManifestEntry[]): number {
  return weights.reduce((sum, w) => {
    const dtype = w.quantization?.dtype ?? w.dtype;
    return sum + w.shape.reduce((p, d) => p * d, 1) * DTYPE_BYTES[dtype];
  }, 0);
}

/**
 * Parses `modelJsonText` itself (tfjs 4.22 hangs on invalid JSON, TFJS-FACTS
 * #14), reads every shard through `readShard` (path as written in the
 * manifest), checks sizes, and loads the Layers model from memory.
 * `fileName` only names the file in error messages.
 */
export async function loadLayersModelFromFiles(
  fileName: string,
  modelJsonText: string,
  readShard: (path: string) => Promise<ArrayBuffer | null>,
): Promise<LoadedModel> {
  let json: ModelJson;
  try {
    json = JSON.parse(modelJsonText) as ModelJson;
  } catch (error) {
    throw new ModelFileError('not-json', `'${fileName}' is not valid JSON (${(error as Error).message}). Pick the model.json a tfjs converter or model.save() wrote.`);
  }
  if (!json || typeof json !== 'object' || !json.modelTopology || json.format === 'graph-model') {
    throw new ModelFileError('not-layers-model', `'${fileName}' is not a tfjs Layers model (format: ${json?.format ?? 'unknown'}). Export the model as a Layers model (tfjs.converters.save_keras_model or model.save()).`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest ?? []) {
    const groupBuffers: ArrayBuffer[] = [];
    for (const path of group.paths) {
      const buffer = await readShard(path);
      if (!buffer) throw new ModelFileError('missing-shard', `Weight file '${path}' listed in '${fileName}' is missing. Add it together with model.json.`);
      groupBuffers.push(buffer);
    }
    const actual = groupBuffers.reduce((sum, b) => sum + b.byteLength, 0);
    const expected = expectedBytes(group.weights);
    if (actual !== expected) {
      throw new ModelFileError('bad-shard-size', `Weight files ${group.paths.map((p) => `'${p}'`).join(', ')} hold ${actual.toLocaleString('en-US')} bytes but '${fileName}' describes ${expected.toLocaleString('en-US')}. They belong to another model or were cut short.`);
    }
    weightSpecs.push(...group.weights);
    buffers.push(...groupBuffers);
  }
  const weightData = concatBuffers(buffers);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology as tf.io.ModelJSON['modelTopology'], weightSpecs, weightData }),
  );
  const [, height, width, channels] = model.inputs[0].shape;
  const meta = (json.userDefinedMetadata ?? {}) as { preprocessing?: { range?: [number, number] }; trainedOn?: string; testAccuracy?: number };
  const range = meta.preprocessing?.range ?? [0, 1];
  const provenance = meta.trainedOn
    ? `${meta.trainedOn}${meta.testAccuracy != null ? `; ${(meta.testAccuracy * 100).toFixed(1)}% test accuracy` : ''}`
    : null;
  return {
    model,
    inputShape: { height: height ?? 0, width: width ?? 0, channels: channels ?? 0 },
    preprocessing: { range: [range[0], range[1]] },
    provenance,
  };
}

function concatBuffers(buffers: ArrayBuffer[]): ArrayBuffer {
  if (buffers.length === 1) return buffers[0];
  const total = buffers.reduce((sum, b) => sum + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out.buffer;
}

/** Loads a model.json and its shards over fetch (relative shard paths resolve against `url`). */
export async function loadLayersModelFromUrl(url: string): Promise<LoadedModel> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Could not fetch '${url}': HTTP ${response.status}.`);
  const text = await response.text();
  return loadLayersModelFromFiles(url, text, async (path) => {
    const shard = await fetch(new URL(path, new URL(url, globalThis.location?.href ?? 'http://localhost/')));
    return shard.ok ? shard.arrayBuffer() : null;
  });
}
