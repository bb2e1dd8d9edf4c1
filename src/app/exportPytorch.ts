/**
 * *Export PyTorch project* (issue 14): the worker serialises the transfer model as the studio holds it (no run
 * needed), this thread writes recipe.json from the store, checks every layer against the bundle's interpreter, and
 * zips model, recipe, Python sources and (with "Include my images") the dataset's files as `<model>-pytorch.zip`.
 */
import type { StudioClient } from '../client/studioClient';
import { sha256Hex } from '../core/hash';
import { encodePng } from '../core/png';
import { pytorchBundleFileName, zipPytorchBundle, type BundleFile } from '../core/pytorchBundle';
import { buildPytorchRecipe, type PytorchRecipe, type RecipeImage } from '../core/pytorchRecipe';
import { unsupportedLayersMessage, unsupportedPytorchLayers } from '../core/pytorchSupport';
import type { TrainConfig } from '../core/types';
import { splitDataset } from '../data/datasetSplit';
import type { SetWeightsModel } from '../worker/protocol';
import { isRunActive, modelSourceLabel, nextRunTraining, planSettingsError, runPlanSettings, transferLayers } from '../store/selectors';
import type { StudioState, StudioStore } from '../store/store';
import { downloadBlob } from './download';
import { STUDIO } from './export';
import { PYTORCH_SUPPORT, pytorchSources } from './pytorchSources';

/** Why the PyTorch project cannot be exported now, or null: it needs a loaded model and two classes, not a run. */
export function pytorchExportBlocker(
  state: Pick<
    StudioState,
    'model' | 'modelStatus' | 'runStatus' | 'cutLayer' | 'preprocessing' | 'classNames' | 'ingest' | 'head' | 'scheduleSteps' | 'blockMultipliers' | 'config'
  >,
): string | null {
  if (!state.model || !state.cutLayer || !state.preprocessing) return 'Load a model first.';
  if (state.modelStatus === 'loading') return 'A model is loading; export when it is in.';
  if (isRunActive(state)) return 'The PyTorch project can be exported when the run has ended.';
  if (state.ingest) return 'Images are still being added; export when they are in.';
  if (state.classNames.length < 2) return "Add at least two classes first: the model's outputs are the classes.";
  return planSettingsError(state);
}

/** The config the next run would get: auto epochs resolved, the schedule's steps and the layers' multipliers in it. */
export function recipeConfig(state: StudioState): TrainConfig {
  const settings = runPlanSettings(state);
  return { ...nextRunTraining(state).config, unfreezeSchedule: settings.unfreezeSchedule, rateMultipliers: settings.rateMultipliers };
}

/** What the worker builds the transfer model for. */
export function transferRequest(state: StudioState): SetWeightsModel {
  return {
    cutLayer: state.cutLayer!,
    classNames: [...state.classNames],
    head: state.head,
    plan: state.freezePlan,
    batchNormOverrides: state.batchNormOverrides,
    preprocessing: state.preprocessing!,
    config: recipeConfig(state),
  };
}

/** The dataset's images as the recipe names them, and each one's file bytes (read only when asked). */
interface DatasetFiles {
  images: RecipeImage[];
  bytes(index: number): Promise<Uint8Array>;
}

/**
 * Each image's file: the user's original (hash from the ingest), or for an image of the built-in sample, which ships
 * as pixels without files, a PNG of its shipped pixels (`<path>.png`, hashed here) so the project can carry it.
 */
export async function datasetFiles(state: Pick<StudioState, 'images' | 'shippedSample' | 'decodedFor'>): Promise<DatasetFiles> {
  const shipped = new Map((state.shippedSample?.images ?? []).map((image) => [image.path, image.pixels]));
  const pngs = new Map<number, Uint8Array>();
  const images: RecipeImage[] = [];
  for (const [i, image] of state.images.entries()) {
    if (image.source) {
      images.push({ path: image.path, className: image.className, hash: image.hash ?? null });
      continue;
    }
    const pixels = shipped.get(image.path);
    // A sample image still as shipped, or one whose pixels were fitted to the model's input (decodedFor).
    const shape = pixels ? state.shippedSample!.shape : (state.decodedFor?.shape ?? null);
    if (!shape) throw new Error(`The image '${image.path}' has no file and no known size; add the folder again, then export.`);
    const png = encodePng(pixels ?? image.pixels, shape.width, shape.height, shape.channels);
    pngs.set(i, png);
    const path = /\.[a-z0-9]+$/i.test(image.path) ? image.path : `${image.path}.png`;
    images.push({ path, className: image.className, hash: await sha256Hex([png]) });
  }
  return {
    images,
    bytes: async (i) => pngs.get(i) ?? new Uint8Array(await state.images[i].source!.arrayBuffer()),
  };
}

/** recipe.json of the store's settings for `images` (datasetFiles), exported at `exportedAt`. */
export function recipeOf(state: StudioState, images: RecipeImage[], exportedAt: Date): PytorchRecipe {
  const model = state.model!;
  const { split } = splitDataset(state);
  return buildPytorchRecipe({
    studio: STUDIO,
    exportedAt,
    model: { name: model.name, label: modelSourceLabel(state), sourceHash: model.sourceHash },
    inputShape: { ...model.inputShape },
    preprocessing: state.preprocessing!,
    cutLayer: state.cutLayer!,
    head: state.head,
    classNames: state.classNames,
    layers: transferLayers(state),
    freezePlan: state.freezePlan,
    batchNormOverrides: state.batchNormOverrides,
    config: recipeConfig(state),
    images,
    split: { seed: state.splitSeed, validationFraction: state.validationFraction, testFraction: state.testFraction, ...split },
  });
}

/** What an export did: the file name and whose weights model.json holds. */
export interface PytorchExportResult {
  fileName: string;
  weightsFrom: 'trained' | 'pretrained';
  images: number;
}

/**
 * Exports the PyTorch project and downloads it through `save`. Rejects with a sentence saying what to do: nothing
 * loaded, a run in progress, a layer the interpreter cannot build (named), or the worker's refusal.
 */
export async function exportPytorchProject(
  client: Pick<StudioClient, 'exportTransfer'>,
  store: StudioStore,
  options: { includeImages: boolean },
  save: (blob: Blob, fileName: string) => void = downloadBlob,
): Promise<PytorchExportResult> {
  const state = store.getState();
  const blocker = pytorchExportBlocker(state);
  if (blocker) throw new Error(blocker);
  const { artifacts, weightsFrom } = await client.exportTransfer(transferRequest(state));
  const unsupported = unsupportedPytorchLayers(artifacts.modelTopology, PYTORCH_SUPPORT.classes, PYTORCH_SUPPORT.activations);
  const problem = unsupportedLayersMessage(unsupported, PYTORCH_SUPPORT.classes);
  if (problem) throw new Error(problem);
  const files = await datasetFiles(state);
  const now = new Date();
  const recipe = recipeOf(state, files.images, now);
  const images: BundleFile[] = [];
  if (options.includeImages) for (const [i, file] of recipe.split.files.entries()) images.push({ path: file.path, content: await files.bytes(i) });
  const zip = zipPytorchBundle({ recipe, artifacts, sources: await pytorchSources(), images }, now);
  const fileName = pytorchBundleFileName(state.model!.name);
  save(new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), fileName);
  return { fileName, weightsFrom, images: images.length };
}
