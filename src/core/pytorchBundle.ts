/**
 * The PyTorch project as a zip (issue 14; layout in /work/briefs/recipe.md): README.md, train.py and the
 * transfer_studio_torch package, model.json + weights.bin of the transfer model with the plan as `trainable`
 * flags, recipe.json, and with "Include my images" the dataset's files under data/<class>/. Pure: no tfjs, no DOM.
 */
import { strToU8, zipSync, type Zippable } from 'fflate';
import type { ModelArtifactsWire } from './exportModelFiles';
import { RECIPE_DATA_FOLDER, RECIPE_TOPOLOGY_FILE, RECIPE_WEIGHTS_FILE, type PytorchRecipe } from './pytorchRecipe';

/** recipe.json's name in the zip. */
export const RECIPE_FILE = 'recipe.json';

/** One file of the zip: a path relative to its root and its bytes or text. */
export interface BundleFile {
  path: string;
  content: Uint8Array | string;
}

/** Everything the zip holds. */
export interface PytorchBundleInput {
  recipe: PytorchRecipe;
  artifacts: ModelArtifactsWire;
  /** README.md, train.py, transfer_studio_torch/*.py: paths as in the zip. */
  sources: readonly BundleFile[];
  /** The dataset's files, paths as the recipe's split names them (without the data/ folder); empty without "Include my images". */
  images: readonly BundleFile[];
}

type LayerEntry = { class_name?: string; name?: string; config?: { name?: string; trainable?: boolean; layers?: unknown } | unknown[] };

/** Every leaf layer's `trainable` flag in a Keras topology (nested models opened, input layers left out), by name. */
export function topologyTrainableFlags(topology: unknown): Record<string, boolean> {
  const flags: Record<string, boolean> = {};
  const visit = (config: unknown) => {
    const layers = Array.isArray(config) ? config : (config as { layers?: unknown } | null)?.layers;
    if (!Array.isArray(layers)) return;
    for (const layer of layers as LayerEntry[]) {
      if (['Functional', 'Model', 'Sequential'].includes(layer.class_name ?? '')) visit(layer.config);
      else if (layer.class_name !== 'InputLayer') {
        const config = layer.config as { name?: string; trainable?: boolean } | undefined;
        flags[config?.name ?? layer.name ?? ''] = config?.trainable !== false;
      }
    }
  };
  visit((topology as { config?: unknown } | null)?.config);
  return flags;
}

/**
 * The bundle's model.json: the serialised transfer model, one weight group naming weights.bin, and in
 * userDefinedMetadata the preprocessing (as the studio's import reads it), the class labels and the source model.
 */
export function pytorchModelJson(artifacts: ModelArtifactsWire, recipe: PytorchRecipe): string {
  return JSON.stringify({
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: `${recipe.studio.name} ${recipe.studio.version}`,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [RECIPE_WEIGHTS_FILE], weights: artifacts.weightSpecs }],
    userDefinedMetadata: {
      preprocessing: { ...recipe.preprocessing, inputSize: [recipe.inputShape.height, recipe.inputShape.width], channels: recipe.inputShape.channels },
      classLabels: recipe.classNames,
      sourceModel: { name: recipe.model.name, sourceHash: recipe.model.sourceHash },
    },
  });
}

/**
 * The zip's bytes. Throws when the model's flags and the recipe's plan disagree on a layer (a programmer error: both
 * come from one state). Weights and images are stored, text is deflated.
 */
export function zipPytorchBundle(input: PytorchBundleInput, modified: Date): Uint8Array {
  const { recipe, artifacts } = input;
  const flags = topologyTrainableFlags(artifacts.modelTopology);
  for (const [name, frozen] of Object.entries(recipe.freezePlan)) {
    if (name in flags && flags[name] === frozen) throw new Error(`Layer '${name}' is ${frozen ? 'frozen' : 'trainable'} in recipe.json but not in model.json.`);
  }
  const files: Zippable = {};
  for (const source of input.sources) files[source.path] = typeof source.content === 'string' ? strToU8(source.content) : source.content;
  files[RECIPE_TOPOLOGY_FILE] = strToU8(pytorchModelJson(artifacts, recipe));
  files[RECIPE_WEIGHTS_FILE] = [new Uint8Array(artifacts.weightData), { level: 0 }];
  files[RECIPE_FILE] = strToU8(`${JSON.stringify(recipe, null, 2)}\n`);
  for (const image of input.images) {
    const bytes = typeof image.content === 'string' ? strToU8(image.content) : image.content;
    files[`${RECIPE_DATA_FOLDER}/${image.path}`] = [bytes, { level: 0 }];
  }
  return zipSync(files, { mtime: modified });
}

/** `<model>-pytorch.zip`, the name made of letters, digits, '.', '_' and '-'. */
export function pytorchBundleFileName(modelName: string): string {
  const slug = modelName.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${slug || 'model'}-pytorch.zip`;
}
