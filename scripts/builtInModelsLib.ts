/**
 * The conversion behind `npm run models`: NSFWJS's bundled MobileNetV2 (two
 * UMD modules holding a Keras model.json and a base64 weight shard) becomes a
 * plain tfjs Layers model.json + weights.bin the studio serves as a built-in
 * model. `convertNsfwjsMobileNetV2` is pure (same input, same bytes), so the
 * output's sourceHash is the same on every machine; reading the package is
 * kept apart in `readNsfwjsSources`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The nsfwjs release whose files, labels and preprocessing this converter was checked against. */
export const NSFWJS_VERSION = '4.4.0';

/** Files read from the nsfwjs package, relative to its root; each one's SHA-256 is recorded in the output. */
export const NSFWJS_FILES = {
  model: 'dist/models/mobilenet_v2/model.min.js',
  shard: 'dist/models/mobilenet_v2/group1-shard1of1.min.js',
  classes: 'dist/cjs/nsfw_classes.js',
  license: 'LICENSE',
} as const;

/** Name of the single weight file written next to model.json. */
export const WEIGHTS_FILE = 'weights.bin';

/**
 * nsfwjs 4.4.0 `dist/esm/core.js`, `NSFWJS.prototype.infer`: pixels
 * `.toFloat().div(255)` (so [0, 1]), then `tf.image.resizeBilinear` to
 * 224×224 on both sides at once (aspect ratio not kept: a stretch).
 */
export const NSFWJS_PREPROCESSING = { inputSize: [224, 224], channels: 3, range: [0, 1], resize: 'stretch' } as const;

/** What the package holds, as read from disk; the input of the pure conversion. */
export interface NsfwjsSources {
  version: string;
  /** What `require()` of model.min.js returns: `{modelTopology, weightsManifest}`. */
  model: unknown;
  /** What `require()` of group1-shard1of1.min.js returns: the shard as a base64 string. */
  shardBase64: unknown;
  /** What `require()` of nsfw_classes.js returns: `{NSFW_CLASSES: {0: 'Drawing', …}}`. */
  classes: unknown;
  licenseText: string;
  /** Hex SHA-256 of each file in NSFWJS_FILES, by package-relative path, in that order. */
  files: { path: string; sha256: string }[];
}

/** The three files written to public/models/mobilenet_v2/. */
export interface ConvertedModel {
  /** model.json text (UTF-8). */
  modelJson: string;
  /** weights.bin: the package's uint8-quantized shard, byte for byte. */
  weights: Uint8Array;
  /** NOTICE.txt text: where the weights come from and nsfwjs's license, verbatim. */
  notice: string;
}

/** A problem with the nsfwjs package or its files; the message says what to do. */
export class NsfwjsSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NsfwjsSourceError';
  }
}

interface KerasLayer {
  class_name: string;
  name?: string;
  config: { name: string; trainable?: boolean; filters?: number; units?: number; batch_input_shape?: (number | null)[] };
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { min: number; scale: number; dtype: string };
}

/** Hex SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The root folder of the installed nsfwjs package, found the way Node
 * resolves it from `fromDir`. Throws a message that says to install it when
 * it is missing.
 */
export function locateNsfwjs(fromDir: string): string {
  const require = createRequire(join(fromDir, 'noop.js'));
  let entry: string;
  try {
    entry = require.resolve('nsfwjs');
  } catch {
    throw new NsfwjsSourceError(
      `The npm package 'nsfwjs' is not installed (looked from '${fromDir}'). It holds the MobileNetV2 weights the studio ships: run 'npm install' (it is a devDependency pinned to ${NSFWJS_VERSION}), then 'npm run models'.`,
    );
  }
  // package.json is not in nsfwjs's "exports", so walk up from the resolved entry point.
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'nsfwjs') return dir;
  }
  throw new NsfwjsSourceError(
    `Found nsfwjs's entry point '${entry}' but no package.json named 'nsfwjs' above it. Reinstall it: npm install nsfwjs@${NSFWJS_VERSION}.`,
  );
}

/**
 * Reads the package at `packageDir`: the UMD bundles through `require()`
 * (Node runs them; nothing is evaluated by hand), the license as text, and
 * the SHA-256 of every file read.
 */
export function readNsfwjsSources(packageDir: string): NsfwjsSources {
  const version = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
  if (version !== NSFWJS_VERSION) {
    throw new NsfwjsSourceError(
      `nsfwjs ${version} is installed, but scripts/builtInModelsLib.ts was checked against ${NSFWJS_VERSION} (labels, preprocessing, file names). Install nsfwjs@${NSFWJS_VERSION}, or check ${version}'s dist/esm/core.js and nsfw_classes.js and update NSFWJS_VERSION and NSFWJS_PREPROCESSING.`,
    );
  }
  for (const path of Object.values(NSFWJS_FILES)) {
    if (!existsSync(join(packageDir, path))) {
      throw new NsfwjsSourceError(`nsfwjs ${version} at '${packageDir}' has no '${path}'. Reinstall it: npm install nsfwjs@${NSFWJS_VERSION}.`);
    }
  }
  const require = createRequire(join(packageDir, 'package.json'));
  return {
    version,
    model: require(join(packageDir, NSFWJS_FILES.model)) as unknown,
    shardBase64: require(join(packageDir, NSFWJS_FILES.shard)) as unknown,
    classes: require(join(packageDir, NSFWJS_FILES.classes)) as unknown,
    licenseText: readFileSync(join(packageDir, NSFWJS_FILES.license), 'utf8'),
    files: Object.values(NSFWJS_FILES).map((path) => ({ path, sha256: sha256(readFileSync(join(packageDir, path))) })),
  };
}

function fail(what: string): never {
  throw new NsfwjsSourceError(
    `${what} The nsfwjs files are not what scripts/builtInModelsLib.ts expects (nsfwjs ${NSFWJS_VERSION}); reinstall nsfwjs@${NSFWJS_VERSION}.`,
  );
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/**
 * Turns the package's MobileNetV2 into the studio's model.json, weights.bin
 * and NOTICE.txt. The topology and the quantized weights are kept as they
 * are; the manifest path becomes `weights.bin`, and `userDefinedMetadata`
 * says how to feed the model (preprocessing), what it is (trainedOn, the
 * original class names) and where it came from (package, version, file
 * hashes). Checks the shapes it states in words (224×224×3 input, alpha 1.0,
 * 5 classes) and the shard's size, and throws if any differ.
 */
export function convertNsfwjsMobileNetV2(sources: NsfwjsSources): ConvertedModel {
  const model = sources.model as {
    modelTopology?: { keras_version?: string; model_config?: { config?: { layers?: KerasLayer[] } } };
    weightsManifest?: { paths: string[]; weights: ManifestEntry[] }[];
  };
  const layers = model?.modelTopology?.model_config?.config?.layers;
  if (!Array.isArray(layers) || !Array.isArray(model.weightsManifest))
    fail(`${NSFWJS_FILES.model} did not export {modelTopology: {model_config}, weightsManifest}.`);
  if (typeof sources.shardBase64 !== 'string') fail(`${NSFWJS_FILES.shard} exported a ${typeof sources.shardBase64}, not a base64 string.`);
  const classMap = (sources.classes as { NSFW_CLASSES?: Record<string, string> })?.NSFW_CLASSES;
  if (!classMap) fail(`${NSFWJS_FILES.classes} exported no NSFW_CLASSES.`);
  const classNames = Object.keys(classMap)
    .map(Number)
    .sort((a, b) => a - b)
    .map((i) => classMap[i]);

  const byName = new Map(layers.map((l) => [l.config.name, l]));
  const input = layers[0];
  const [, height, width, channels] = input.config.batch_input_shape ?? [];
  if (input.class_name !== 'InputLayer' || height !== 224 || width !== 224 || channels !== 3) {
    fail(`The first layer is ${input.class_name} ${JSON.stringify(input.config.batch_input_shape)}, not an InputLayer [null, 224, 224, 3].`);
  }
  // MobileNetV2's width multiplier scales every filter count: alpha 1.0 gives 32 in the stem and 1280 at the top.
  if (byName.get('Conv1')?.config.filters !== 32 || byName.get('Conv_1')?.config.filters !== 1280) {
    fail(
      `Conv1 has ${byName.get('Conv1')?.config.filters} filters and Conv_1 ${byName.get('Conv_1')?.config.filters}, not 32 and 1280 (MobileNetV2 alpha 1.0).`,
    );
  }
  const last = layers[layers.length - 1];
  if (last.class_name !== 'Dense' || last.config.units !== classNames.length || classNames.length !== 5) {
    fail(
      `The last layer is ${last.class_name} with ${last.config.units} units, but nsfw_classes.js names ${classNames.length} classes (${classNames.join(', ')}).`,
    );
  }

  if (model.weightsManifest.length !== 1 || model.weightsManifest[0].paths.length !== 1) {
    fail(`The weights manifest lists ${JSON.stringify(model.weightsManifest.map((g) => g.paths))}, not one group of one shard.`);
  }
  const [group] = model.weightsManifest;
  const weights = new Uint8Array(Buffer.from(sources.shardBase64, 'base64'));
  const expected = group.weights.reduce((sum, w) => sum + w.shape.reduce((p, d) => p * d, 1) * DTYPE_BYTES[w.quantization?.dtype ?? w.dtype], 0);
  if (weights.byteLength !== expected) {
    fail(`${NSFWJS_FILES.shard} decodes to ${weights.byteLength} bytes, but the manifest describes ${expected}.`);
  }

  const keras = model.modelTopology!.keras_version ?? 'unknown';
  const json = {
    format: 'layers-model',
    generatedBy: `keras v${keras}`,
    convertedBy: `Transfer Studio scripts/builtInModels.ts from nsfwjs ${sources.version}`,
    modelTopology: model.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: group.weights }],
    userDefinedMetadata: {
      preprocessing: NSFWJS_PREPROCESSING,
      classNames,
      trainedOn: `MobileNetV2 (alpha 1.0, 224×224) from the NSFWJS project (Infinite Red, MIT license), fine-tuned by its authors to ${classNames.length} content-moderation classes (${classNames.join(', ')}); the studio replaces that head`,
      source: {
        package: 'nsfwjs',
        version: sources.version,
        homepage: 'https://github.com/infinitered/nsfwjs',
        license: 'MIT',
        files: sources.files,
      },
    },
  };
  const notice = [
    `The model in this folder (model.json, ${WEIGHTS_FILE}) is the MobileNetV2 of NSFWJS,`,
    `taken from the npm package nsfwjs ${sources.version} (https://github.com/infinitered/nsfwjs)`,
    `by Transfer Studio's scripts/builtInModels.ts. The topology and the uint8-quantized`,
    `weights are the package's, unchanged; the weight file was renamed and metadata added.`,
    '',
    `nsfwjs is distributed under the following license (its LICENSE file, verbatim):`,
    '',
    sources.licenseText.trimEnd(),
    '',
  ].join('\n');
  return { modelJson: JSON.stringify(json), weights, notice };
}

/**
 * Hex SHA-256 identifying everything the output depends on: the nsfwjs
 * files' hashes and the converter's own source text, so editing either
 * makes `npm run models` convert again.
 */
export function inputsHash(files: readonly { path: string; sha256: string }[], converterSources: readonly string[]): string {
  return sha256(JSON.stringify({ files, converter: converterSources.map((text) => sha256(text)) }));
}
