/**
 * recipe.json of the PyTorch project (issue 14): everything the studio's run would use, as plain data
 * the bundle's train.py reads. The fields embed the studio's own types (core/types.ts) verbatim, so their
 * semantics are the studio's; /work/briefs/recipe.md is the contract with the Python side. Pure: no tfjs, no DOM.
 */
import { countParams } from './params';
import { datasetPartNames } from './projectParts';
import { withStillLayers } from './rateMultipliers';
import type { BatchNormOverrides, FreezePlan, HeadConfig, InputShape, LayerInfo, Preprocessing, TrainConfig } from './types';

/** recipe.json's `format`. */
export const RECIPE_FORMAT = 'transfer-studio-recipe';
/** recipe.json's `version`; a change of meaning bumps it. */
export const RECIPE_VERSION = 1;
/** The bundle's topology file, beside recipe.json. */
export const RECIPE_TOPOLOGY_FILE = 'model.json';
/** The bundle's weight file, beside recipe.json. */
export const RECIPE_WEIGHTS_FILE = 'weights.bin';
/** The folder of the bundle's images ("Include my images"): `data/<class>/<file>`, the layout `train.py --data` reads. */
export const RECIPE_DATA_FOLDER = 'data';

/** Which part of the split an image is in. */
export type RecipeSubset = 'train' | 'validation' | 'test';

/** One image of the split: its path inside the data folder (`<class>/<file name>`), class, hex SHA-256 (null when unknown) and subset. */
export interface RecipeFile {
  path: string;
  label: string;
  sha256: string | null;
  subset: RecipeSubset;
}

/** The TrainConfig as the run would get it: auto epochs resolved and every optional field stated (the worker's defaults filled in). */
export type RecipeTrainConfig = Required<Omit<TrainConfig, 'epochsWithoutCache' | 'fromPretrained'>> & { fromPretrained: boolean };

/** recipe.json: format 'transfer-studio-recipe', version 1 (see recipe.md). */
export interface PytorchRecipe {
  format: typeof RECIPE_FORMAT;
  version: typeof RECIPE_VERSION;
  studio: { name: string; version: string };
  /** ISO 8601 time of the export. */
  exportedAt: string;
  model: { name: string; label: string; sourceHash: string | null; topology: typeof RECIPE_TOPOLOGY_FILE; weights: typeof RECIPE_WEIGHTS_FILE };
  /** The size images are resized to (for a model of open size: the size the studio feeds). */
  inputShape: InputShape;
  /** uint8 pixel v → range[0] + v / 255 × (range[1] − range[0]), after resizing by `resize`. */
  preprocessing: Preprocessing;
  /** The layer whose output the head takes. */
  cut: string;
  /** Informational: the head is already in model.json. */
  head: HeadConfig;
  /** Class names in output order. */
  classNames: string[];
  /**
   * Every leaf layer of the transfer model (nested models opened, head included) → frozen, in model order; layers at
   * learning-rate multiplier 0 are frozen here, as the studio's run applies them. Agrees with model.json's `trainable` flags.
   */
  freezePlan: FreezePlan;
  /** BatchNorm layers whose mode differs from the default rule (only layers of the transfer model). */
  batchNormOverrides: BatchNormOverrides;
  config: RecipeTrainConfig;
  split: { seed: number; validationFraction: number; testFraction: number; files: RecipeFile[] };
  /** Keras counts under `freezePlan`, as the studio shows them (BN moving statistics and frozen layers' weights are non-trainable). */
  counts: { trainable: number; nonTrainable: number };
}

/** One image of the dataset as the recipe needs it: its original path (the file name is kept), class and hash. */
export interface RecipeImage {
  path: string;
  className: string;
  hash?: string | null;
}

/** Everything buildPytorchRecipe reads: the store's settings as plain data. */
export interface PytorchRecipeInput {
  studio: { name: string; version: string };
  exportedAt: Date;
  model: { name: string; label: string; sourceHash: string | null };
  inputShape: InputShape;
  preprocessing: Preprocessing;
  cutLayer: string;
  head: HeadConfig;
  classNames: readonly string[];
  /** The transfer rows: pretrained layers up to the cut, then the head (selectors' transferLayers). */
  layers: readonly LayerInfo[];
  freezePlan: FreezePlan;
  batchNormOverrides: BatchNormOverrides;
  /** The run's config with auto epochs resolved (nextRunTraining), schedule and multipliers included. */
  config: TrainConfig;
  /** The dataset in store order, and the split's indices into it (data/datasetSplit.ts). */
  images: readonly RecipeImage[];
  split: { seed: number; validationFraction: number; testFraction: number; train: ArrayLike<number>; validation: ArrayLike<number>; test: ArrayLike<number> };
}

/**
 * Paths of the images inside the data folder, in order: `<class>/<file name>`, the folder and name made safe and
 * unique as a project file names them (core/projectParts.ts), so the zip's `data/` and the recipe's paths agree.
 */
export function recipeImagePaths(images: readonly RecipeImage[]): string[] {
  return datasetPartNames(images).map((name) => name.slice(name.indexOf('/') + 1));
}

/** The config with every optional field stated as the worker reads it when absent. */
export function resolvedRecipeConfig(config: TrainConfig): RecipeTrainConfig {
  return {
    epochs: config.epochs,
    batchSize: config.batchSize,
    learningRate: config.learningRate,
    seed: config.seed,
    optimizer: config.optimizer ?? 'adam',
    schedule: config.schedule ?? 'constant',
    earlyStopping: config.earlyStopping ?? null,
    unfreezeSchedule: config.unfreezeSchedule ?? [],
    rateMultipliers: config.rateMultipliers ?? {},
    augmentation: config.augmentation ?? null,
    fromPretrained: config.fromPretrained ?? true,
  };
}

/** The subset of each image index; throws when the split's indices do not cover `count` images exactly once. */
function subsetsOf(count: number, split: PytorchRecipeInput['split']): RecipeSubset[] {
  const subsets = new Array<RecipeSubset | undefined>(count);
  const mark = (indices: ArrayLike<number>, subset: RecipeSubset) => {
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      if (!(Number.isInteger(i) && i >= 0 && i < count)) throw new RangeError(`The split names image ${i}; there are ${count} images.`);
      if (subsets[i] !== undefined) throw new RangeError(`The split puts image ${i} in both '${subsets[i]}' and '${subset}'.`);
      subsets[i] = subset;
    }
  };
  mark(split.train, 'train');
  mark(split.validation, 'validation');
  mark(split.test, 'test');
  const missing = subsets.findIndex((s) => s === undefined);
  if (missing >= 0) throw new RangeError(`The split leaves out image ${missing}.`);
  return subsets as RecipeSubset[];
}

/**
 * recipe.json of the current settings. The freeze plan covers every transfer row (head layers false, layers at
 * multiplier 0 true); BN overrides are kept for the transfer model's BatchNormalization layers only. Throws a
 * RangeError naming the problem for a cut that is not among the rows, a class an image does not belong to, or a
 * split that does not cover the images exactly once (programmer errors: the store holds consistent data).
 */
export function buildPytorchRecipe(input: PytorchRecipeInput): PytorchRecipe {
  const { layers } = input;
  if (!layers.some((layer) => layer.name === input.cutLayer || layer.parent === input.cutLayer)) {
    throw new RangeError(`The cut layer '${input.cutLayer}' is not among the model's layers.`);
  }
  const config = resolvedRecipeConfig(input.config);
  const effective = withStillLayers(input.freezePlan, config.rateMultipliers);
  const freezePlan: FreezePlan = {};
  for (const layer of layers) freezePlan[layer.name] = layer.origin === 'pretrained' && effective[layer.name] === true;
  const batchNormOverrides: BatchNormOverrides = {};
  for (const layer of layers) {
    const mode = input.batchNormOverrides[layer.name];
    if (mode && layer.className === 'BatchNormalization') batchNormOverrides[layer.name] = mode;
  }
  const classes = new Set(input.classNames);
  const bad = input.images.find((image) => !classes.has(image.className));
  if (bad) throw new RangeError(`The image '${bad.path}' is of class '${bad.className}', which is not among the classes (${input.classNames.join(', ')}).`);
  const subsets = subsetsOf(input.images.length, input.split);
  const paths = recipeImagePaths(input.images);
  const totals = countParams(layers, freezePlan);
  return {
    format: RECIPE_FORMAT,
    version: RECIPE_VERSION,
    studio: { name: input.studio.name, version: input.studio.version },
    exportedAt: input.exportedAt.toISOString(),
    model: { ...input.model, topology: RECIPE_TOPOLOGY_FILE, weights: RECIPE_WEIGHTS_FILE },
    inputShape: { ...input.inputShape },
    preprocessing: { range: [input.preprocessing.range[0], input.preprocessing.range[1]], resize: input.preprocessing.resize },
    cut: input.cutLayer,
    head: { ...input.head },
    classNames: [...input.classNames],
    freezePlan,
    batchNormOverrides,
    config,
    split: {
      seed: input.split.seed,
      validationFraction: input.split.validationFraction,
      testFraction: input.split.testFraction,
      files: input.images.map((image, i) => ({ path: paths[i], label: image.className, sha256: image.hash ?? null, subset: subsets[i] })),
    },
    counts: { trainable: totals.trainable, nonTrainable: totals.nonTrainable },
  };
}
