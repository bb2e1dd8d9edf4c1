/**
 * The last run's trained weights as a project's two parts: `weights/model.json` (a tfjs Layers model.json
 * whose one weight group names `weights.bin`, plus the worker's `identicalToSource` measurement) and
 * `weights/weights.bin`, from the worker's exportModel artifacts and back. Reading back checks the
 * model.json's fields and that its weight specs add up to exactly the bytes of weights.bin.
 */
import type { KerasModelTopology, ModelArtifactsWire, WeightSpec } from './exportModelFiles';
import { bool, child, isObject, listOf, nonEmptyText, num, object, oneOf, optional, recordOf, runCheck, text, wrong, type Check } from './jsonCheck';
import { refused, type Result } from './result';

/** The weight file's name inside weights/model.json's manifest. */
const WEIGHTS_FILE = 'weights.bin';

/** weights/model.json as written: what tf.io reads, and the export's measurement. */
interface WeightsModelJson {
  format: string;
  generatedBy: string;
  modelTopology: KerasModelTopology;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  identicalToSource?: Record<string, boolean>;
}

const layerOutlineCheck: Check<unknown> = (value, path) => {
  if (!isObject(value)) return wrong(path, value, 'an object (a layer of the Keras model config)');
  text(value.name, child(path, 'name'));
  text(value.class_name, child(path, 'class_name'));
  return value;
};

/** The topology is the worker's to read: here only its outline is checked (names, the layer list), and it passes through as it is. */
const topologyCheck: Check<KerasModelTopology> = (value, path) => {
  if (!isObject(value)) return wrong(path, value, 'an object (the Keras model config)');
  text(value.class_name, child(path, 'class_name'));
  const config = value.config;
  const configPath = child(path, 'config');
  if (!isObject(config)) return wrong(configPath, config, 'an object');
  text(config.name, child(configPath, 'name'));
  listOf(layerOutlineCheck)(config.layers, child(configPath, 'layers'));
  return value as KerasModelTopology;
};

const weightSpecCheck: Check<WeightSpec> = object<WeightSpec>({
  name: nonEmptyText,
  shape: listOf(num({ integer: true, min: 0 })),
  dtype: oneOf('float32', 'int32', 'bool', 'string', 'complex64'),
  quantization: optional(
    object<NonNullable<WeightSpec['quantization']>>({
      dtype: oneOf('uint8', 'uint16', 'float16'),
      scale: optional(num()),
      min: optional(num()),
    }),
  ),
});

const modelJsonCheck: Check<WeightsModelJson> = object<WeightsModelJson>({
  format: text,
  generatedBy: text,
  modelTopology: topologyCheck,
  weightsManifest: listOf(object<{ paths: string[]; weights: WeightSpec[] }>({ paths: listOf(oneOf(WEIGHTS_FILE)), weights: listOf(weightSpecCheck) })),
  identicalToSource: optional(recordOf(bool)),
});

const BYTES_PER_VALUE: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Bytes of one weight in weights.bin; null for a string weight, whose size is not in its spec. */
function specBytes(spec: WeightSpec): number | null {
  const perValue = BYTES_PER_VALUE[spec.quantization?.dtype ?? spec.dtype];
  return perValue === undefined ? null : spec.shape.reduce((n, d) => n * d, 1) * perValue;
}

/** weights/model.json and weights/weights.bin of `artifacts` (the bytes copied, so the worker's buffer may be transferred). */
export function weightPartsOf(artifacts: ModelArtifactsWire): { modelJson: Uint8Array; weightsBin: Uint8Array } {
  const modelJson: WeightsModelJson = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
    ...(artifacts.identicalToSource ? { identicalToSource: artifacts.identicalToSource } : {}),
  };
  return { modelJson: new TextEncoder().encode(JSON.stringify(modelJson)), weightsBin: new Uint8Array(artifacts.weightData).slice() };
}

/** Why weights/model.json or weights/weights.bin cannot be the trained weights. */
export type WeightPartsCode = 'bad-weights';

/**
 * The artifacts back from the two parts, or why not (naming the field, or the byte counts): model.json
 * must be UTF-8 JSON of the shape `weightPartsOf` writes, with one weight group naming weights.bin, and
 * its specs must add up to the length of weights.bin.
 */
export function artifactsOfWeightParts(modelJson: Uint8Array, weightsBin: Uint8Array): Result<{ artifacts: ModelArtifactsWire }, WeightPartsCode> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(modelJson));
  } catch (error) {
    return refused('bad-weights', `weights/model.json is not valid JSON (${(error as Error).message}).`);
  }
  const read = runCheck(modelJsonCheck, json);
  if (!read.ok) return refused('bad-weights', `weights/model.json: ${read.message}`);
  const { weightsManifest, identicalToSource, ...rest } = read.value;
  if (weightsManifest.length !== 1 || weightsManifest[0].paths.length !== 1) {
    return refused('bad-weights', `weights/model.json has ${weightsManifest.length} weight groups; expected one naming '${WEIGHTS_FILE}'.`);
  }
  const specs = weightsManifest[0].weights;
  let total = 0;
  for (const spec of specs) {
    const bytes = specBytes(spec);
    if (bytes === null) return refused('bad-weights', `weights/model.json: weight '${spec.name}' is of dtype '${spec.dtype}', which a project does not hold.`);
    total += bytes;
  }
  if (total !== weightsBin.length) {
    return refused('bad-weights', `weights/model.json's ${specs.length} weights take ${total} bytes, but weights/weights.bin holds ${weightsBin.length}.`);
  }
  const artifacts: ModelArtifactsWire = { ...rest, weightSpecs: specs, weightData: weightsBin.slice().buffer };
  if (identicalToSource) artifacts.identicalToSource = identicalToSource;
  return { ok: true, artifacts };
}
