import * as tf from '@tensorflow/tfjs';
import { sha256Hex } from '../core/hash';
import type { InputShape, Preprocessing } from '../core/types';

/** The kinds of problem a user's model files can have. */
export type ModelFileErrorCode =
  | 'not-json'
  | 'not-layers-model'
  | 'graph-model'
  | 'missing-shard'
  | 'extra-file'
  | 'bad-shard-size'
  | 'unknown-layer'
  | 'no-model-json'
  | 'unreachable'
  | 'http-status'
  | 'not-image-input';

/** A problem with the user's model files; `code` tells the kind, `message` says what to do (modelSources.ts turns it into a result). */
export class ModelFileError extends Error {
  constructor(
    readonly code: ModelFileErrorCode,
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
  /** Hex SHA-256 of the model.json text followed by the weight bytes in manifest order. */
  sourceHash: string;
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
    throw new ModelFileError(
      'not-json',
      `'${fileName}' is not valid JSON (${(error as Error).message}). Pick the model.json a tfjs converter or model.save() wrote.`,
    );
  }
  if (json && typeof json === 'object' && (json.format === 'graph-model' || isGraphTopology(json.modelTopology))) {
    throw new ModelFileError(
      'graph-model',
      `'${fileName}' is a graph model (a converted SavedModel or frozen graph): it has no layers to freeze or train. Convert the Keras model instead: tensorflowjs_converter --input_format=keras model.h5 out/ (or tfjs.converters.save_keras_model in Python).`,
    );
  }
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new ModelFileError(
      'not-layers-model',
      `'${fileName}' is not a tfjs Layers model (format: ${json?.format ?? 'unknown'}). Export the model as a Layers model (tfjs.converters.save_keras_model or model.save()).`,
    );
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
      throw new ModelFileError(
        'bad-shard-size',
        `Weight files ${group.paths.map((p) => `'${p}'`).join(', ')} hold ${actual.toLocaleString('en-US')} bytes but '${fileName}' describes ${expected.toLocaleString('en-US')}. They belong to another model or were cut short.`,
      );
    }
    weightSpecs.push(...group.weights);
    buffers.push(...groupBuffers);
  }
  const weightData = concatBuffers(buffers);
  const sourceHash = await sha256Hex([new TextEncoder().encode(modelJsonText), weightData]);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: acceptKeras3InputShapes(json.modelTopology) as tf.io.ModelJSON['modelTopology'], weightSpecs, weightData }),
    );
  } catch (error) {
    const unknown = /Unknown layer: ([\w.]*\w)/.exec((error as Error).message);
    if (unknown) {
      throw new ModelFileError(
        'unknown-layer',
        `'${fileName}' uses the layer class '${unknown[1]}', which tfjs does not provide, so the model cannot be rebuilt here. Replace that layer in Keras before exporting, or export only the layers before it.`,
      );
    }
    throw error;
  }
  const meta = (json.userDefinedMetadata ?? {}) as {
    preprocessing?: { range?: [number, number]; resize?: Preprocessing['resize']; inputSize?: [number, number] };
    trainedOn?: string;
    testAccuracy?: number;
  };
  const inputShape = imageInputShape(fileName, model, meta.preprocessing?.inputSize);
  const range = meta.preprocessing?.range ?? [0, 1];
  const provenance = meta.trainedOn ? `${meta.trainedOn}${meta.testAccuracy != null ? `; ${(meta.testAccuracy * 100).toFixed(1)}% test accuracy` : ''}` : null;
  return {
    model,
    inputShape,
    preprocessing: { range: [range[0], range[1]], resize: meta.preprocessing?.resize ?? 'stretch' },
    provenance,
    sourceHash,
  };
}

/** The size images are fed at when a model leaves height and width open ([null, null, null, 3]), unless its file says otherwise. */
export const FLEXIBLE_INPUT_SIZE = 224;

/**
 * The image input the studio feeds `model`: [H, W, C] with C 1 or 3. Open
 * height/width take the file's `preprocessing.inputSize` or 224. A model that
 * does not take images is refused (and disposed) with a message that says so.
 */
function imageInputShape(fileName: string, model: tf.LayersModel, declared?: [number, number]): InputShape {
  const shape = model.inputs[0].shape;
  const [, height, width, channels] = shape;
  if (model.inputs.length !== 1 || shape.length !== 4 || (channels !== 1 && channels !== 3)) {
    model.dispose();
    const described = model.inputs
      .map(
        (input) =>
          `[${input.shape
            .slice(1)
            .map((d) => d ?? '?')
            .join(', ')}]`,
      )
      .join(' and ');
    throw new ModelFileError(
      'not-image-input',
      `'${fileName}' takes input of shape ${described}; the studio trains on one image input of height × width × 1 (grey) or 3 (RGB) channels.`,
    );
  }
  return { height: height ?? declared?.[0] ?? FLEXIBLE_INPUT_SIZE, width: width ?? declared?.[1] ?? FLEXIBLE_INPUT_SIZE, channels };
}

/** A converted SavedModel's topology is a GraphDef (`node` list), not a Keras config. */
function isGraphTopology(topology: unknown): boolean {
  return !!topology && typeof topology === 'object' && Array.isArray((topology as { node?: unknown }).node);
}

/**
 * Keras 3 writes an InputLayer's shape as `batch_shape`; tfjs 4.22 only reads
 * `batch_input_shape` and refuses the file (TFJS-FACTS #17). Returns a copy of
 * the topology with the old key added wherever only the new one is present.
 */
export function acceptKeras3InputShapes(topology: unknown): unknown {
  if (Array.isArray(topology)) return topology.map(acceptKeras3InputShapes);
  if (!topology || typeof topology !== 'object') return topology;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(topology)) out[key] = acceptKeras3InputShapes(value);
  if ('batch_shape' in out && !('batch_input_shape' in out)) out.batch_input_shape = out.batch_shape;
  return out;
}

/**
 * Loads a model from files the user picked together: one `.json` (the model)
 * and its weight shards, matched by file name to the manifest's paths. A
 * missing or an extra file is an error that names it.
 */
export async function loadLayersModelFromFileSet(picked: readonly { name: string; buffer: ArrayBuffer }[]): Promise<LoadedModel> {
  // A studio export unzips to model.json, weights.bin and metadata.json: picking all three is natural, so the sidecar is set aside.
  const isJson = (f: { name: string }) => f.name.toLowerCase().endsWith('.json');
  const hasModelJson = picked.some((f) => isJson(f) && f.name.toLowerCase() !== 'metadata.json');
  const files = hasModelJson ? picked.filter((f) => f.name.toLowerCase() !== 'metadata.json') : picked;
  const jsons = files.filter(isJson);
  if (jsons.length !== 1) {
    throw new ModelFileError(
      'no-model-json',
      jsons.length === 0
        ? 'No model.json among the picked files. Pick the model.json together with its weight files (…shard1of1.bin).'
        : `Several .json files were picked (${jsons.map((f) => `'${f.name}'`).join(', ')}). Pick one model.json and its weight files.`,
    );
  }
  const [modelJson] = jsons;
  const shards = new Map(files.filter((f) => f !== modelJson).map((f) => [f.name, f.buffer]));
  const used = new Set<string>();
  const loaded = await loadLayersModelFromFiles(modelJson.name, new TextDecoder().decode(modelJson.buffer), async (path) => {
    const name = path.split('/').pop()!;
    used.add(name);
    return shards.get(name) ?? null;
  });
  const extra = [...shards.keys()].filter((name) => !used.has(name));
  if (extra.length) {
    loaded.model.dispose();
    throw new ModelFileError(
      'extra-file',
      `${extra.map((n) => `'${n}'`).join(', ')} ${extra.length === 1 ? 'is' : 'are'} not listed in '${modelJson.name}'. Pick only the model.json and the weight files it names.`,
    );
  }
  return loaded;
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

/**
 * Fetches `url`, turning the browser's bare "Failed to fetch" (a CORS refusal
 * and an unreachable host look the same to a page) into a sentence that says
 * what to do, and an HTTP error status into one that names it.
 */
async function fetchOrExplain(url: string, what: string): Promise<Response | null> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch {
    throw new ModelFileError(
      'unreachable',
      `Could not read ${what} '${url}'. Either the server cannot be reached, or it does not allow other sites to read its files (CORS: it must send an Access-Control-Allow-Origin header). If you can open the address in a tab, download model.json and its weight files and use Import model instead.`,
    );
  }
  if (response.status === 404) return null;
  if (!response.ok)
    throw new ModelFileError('http-status', `The server answered HTTP ${response.status} ${response.statusText} for ${what} '${url}'. Check the address.`);
  return response;
}

/** Loads a model.json and its shards over fetch (relative shard paths resolve against `url`). */
export async function loadLayersModelFromUrl(url: string): Promise<LoadedModel> {
  const response = await fetchOrExplain(url, 'the model');
  if (!response) throw new ModelFileError('http-status', `There is no file at '${url}' (HTTP 404). Check the address of the model.json.`);
  const text = await response.text();
  return loadLayersModelFromFiles(url, text, async (path) => {
    const shard = await fetchOrExplain(new URL(path, new URL(url, globalThis.location?.href ?? 'http://localhost/')).href, 'the weight file');
    return shard ? shard.arrayBuffer() : null;
  });
}
