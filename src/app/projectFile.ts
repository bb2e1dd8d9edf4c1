/**
 * "Save project file" and "Open project file": the studio's state as a project (core/project.ts) written
 * to one .zip (data/projectFile.ts), and such a file read back into the studio. What is persisted is
 * declared in one table, `PERSISTED`: each manifest section says which store fields it is made of.
 * Opening restores the model, its settings, the dataset (decoded again from the original files at the
 * model's input, through the normal ingest path), the runs, and the last run with its trained weights and
 * evaluation (projectRun.ts).
 */
import type { ModelArtifactsWire } from '../core/exportModelFiles';
import { formatCount } from '../core/format';
import { PROJECT_FORMAT, PROJECT_SCHEMA_VERSION, type ProjectModel, type ProjectSnapshot } from '../core/project';
import { datasetPartNames, modelPartNames, safePartSegment, WEIGHTS_BIN_PART, WEIGHTS_MODEL_JSON_PART } from '../core/projectParts';
import { weightPartsOf } from '../core/projectWeights';
import type { DroppedFile } from '../data/dropWalk';
import { readProjectFile, writeProjectFile } from '../data/projectFile';
import { resizePixels } from '../data/fit';
import type { LabeledImage } from '../data/types';
import { isRunActive } from '../store/selectors';
import { useStudio, type StudioState } from '../store/store';
import { downloadBlob } from './download';
import { STUDIO } from './export';
import { addFiles, decodeTarget } from './ingest';
import { evaluationOf, lastRunOf, reopenLastRun } from './projectRun';
import { importModelFiles, loadBuiltInModel, loadModelFromUrl, reloadSample, studioClient } from './studio';

/** What Save or Open answers: a sentence for the status line, and whether it is an error. */
export type ProjectFileOutcome = { ok: boolean; message: string };

/** A part still to be read from its Blob (the dataset's and the model's original files). */
type PendingPart = { part: string; blob: Blob };

/** The manifest sections made from the store, and the files they name. */
type Persisted = Pick<ProjectSnapshot, 'model' | 'dataset' | 'training' | 'runs'>;

/** An imported model's files as named parts (`model/<file>`); throws when the files are no longer at hand. */
function modelSourceOf(state: StudioState, pending: PendingPart[]): ProjectModel['source'] {
  const origin = state.modelOrigin!;
  if (origin.kind === 'builtin') return { kind: 'builtin', id: origin.id, label: origin.label };
  if (origin.kind === 'url') return { kind: 'url', url: origin.url };
  if (!origin.files?.length) throw new Error(`The files of the imported model '${origin.fileName}' are no longer at hand; import it again, then save.`);
  const files = origin.files;
  const names = modelPartNames(files.map((f) => f.name));
  names.forEach((part, i) => pending.push({ part, blob: files[i] }));
  return { kind: 'files', fileName: origin.fileName, files: files.map((f, i) => ({ name: f.name, file: { part: names[i], bytes: f.size } })) };
}

/**
 * What a project keeps of the studio, section by section: the one table of what is persisted. Everything
 * else (the live run's stream, the audit, progress, filters, the worker) is session state and is not saved.
 */
const PERSISTED: { [K in keyof Persisted]: (state: StudioState, pending: PendingPart[]) => Persisted[K] } = {
  model: (s, pending) =>
    s.model && s.modelOrigin
      ? {
          name: s.model.name,
          source: modelSourceOf(s, pending),
          sourceHash: s.model.sourceHash,
          cutLayer: s.cutLayer,
          head: s.head,
          preprocessing: s.preprocessing,
          freezePlan: s.freezePlan,
          batchNormModes: s.batchNormOverrides,
        }
      : null,
  dataset: (s, pending) => {
    const names = datasetPartNames(s.images);
    return {
      name: s.datasetName,
      source: s.datasetSource,
      fromSample: s.fromSample,
      classNames: s.classNames,
      images: s.images.map((image, i) => {
        if (image.source) pending.push({ part: names[i], blob: image.source });
        return {
          id: image.id,
          className: image.className,
          path: image.path,
          hash: image.hash ?? null,
          // The built-in sample's images have no file: they are found again in the shipped sample by path.
          file: image.source ? { part: names[i], bytes: image.source.size } : null,
        };
      }),
      rejected: s.rejected.map(({ path, reason }) => ({ path, reason })),
      validationFraction: s.validationFraction,
      testFraction: s.testFraction,
      splitSeed: s.splitSeed,
    };
  },
  training: (s) => ({ config: s.config, autoEpochs: s.autoEpochs, scheduleSteps: s.scheduleSteps, blockMultipliers: s.blockMultipliers }),
  runs: (s) => s.runs,
};

/** The project's name: the dataset's (the user's folder), else the model's. */
function projectName(state: StudioState): string {
  return state.datasetName || state.model?.name || 'project';
}

/**
 * The studio's state as a project: the manifest and its binary parts (the original files read now).
 * `weights` are the worker's exportModel artifacts of the last run, saved with that run when it is done;
 * the evaluation is saved once its probabilities are in. `files` are the parts still in their Blobs (the
 * original files); `parts` has those read (unless `readFiles` is false) and always the parts made here.
 */
export async function snapshotOfStudio(
  state: StudioState,
  options: { savedAt?: Date; weights?: ModelArtifactsWire | null; readFiles?: boolean } = {},
): Promise<{ snapshot: ProjectSnapshot; parts: Map<string, Uint8Array>; files: Map<string, Blob> }> {
  const pending: PendingPart[] = [];
  const persisted: Persisted = {
    model: PERSISTED.model(state, pending),
    dataset: PERSISTED.dataset(state, pending),
    training: PERSISTED.training(state, pending),
    runs: PERSISTED.runs(state, pending),
  };
  const parts = new Map<string, Uint8Array>();
  const files = new Map(pending.map(({ part, blob }) => [part, blob]));
  // The autosave reads only the files it has not stored yet (readFiles: false); a project file needs them all.
  if (options.readFiles !== false) for (const { part, blob } of pending) parts.set(part, new Uint8Array(await blob.arrayBuffer()));
  let weights: ProjectSnapshot['weights'] = null;
  const made = new Map<string, Uint8Array>();
  const lastRun = lastRunOf(state);
  if (options.weights && persisted.model && lastRun) {
    const { modelJson, weightsBin } = weightPartsOf(options.weights);
    made.set(WEIGHTS_MODEL_JSON_PART, modelJson);
    made.set(WEIGHTS_BIN_PART, weightsBin);
    weights = {
      runId: state.runId,
      classNames: lastRun.settings.classNames,
      modelJson: { part: WEIGHTS_MODEL_JSON_PART, bytes: modelJson.length },
      weightsBin: { part: WEIGHTS_BIN_PART, bytes: weightsBin.length },
      trainedOnIds: [...state.trainedOnIds],
      run: lastRun,
    };
  }
  const evaluation = evaluationOf(state, made);
  // Made here, not read from a file: always in the parts (the autosave stores these as they are and the files by their Blobs).
  for (const [part, bytes] of made) parts.set(part, bytes);
  const snapshot: ProjectSnapshot = {
    format: PROJECT_FORMAT,
    schemaVersion: PROJECT_SCHEMA_VERSION,
    name: projectName(state),
    savedAt: (options.savedAt ?? new Date()).toISOString(),
    studio: { name: STUDIO.name, version: STUDIO.version },
    ...persisted,
    weights,
    evaluation,
  };
  return { snapshot, parts, files };
}

/** `n image(s), k run(s)`. */
function counts(images: number, runs: number): string {
  return `${formatCount(images)} ${images === 1 ? 'image' : 'images'}, ${formatCount(runs)} ${runs === 1 ? 'run' : 'runs'}`;
}

/** Why Save or Open cannot start now, or null. */
export function busyReason(state: StudioState, what: string): string | null {
  if (isRunActive(state)) return `Run ${state.runId} is in progress: wait for it to end, or press Stop, then ${what}.`;
  if (state.ingest) return `Images are being added: wait for them (or press Cancel), then ${what}.`;
  if (state.modelStatus === 'loading') return `The model is loading: wait for it, then ${what}.`;
  return null;
}

/**
 * "Save project file": the project as `<name>.transfer-project.zip`, downloaded through `save`; with the
 * last run's trained weights when it is done. Never throws: a refusal is the outcome's message.
 */
export async function saveProjectFile(save: (blob: Blob, fileName: string) => void = downloadBlob): Promise<ProjectFileOutcome> {
  const state = useStudio.getState();
  const busy = busyReason(state, 'save');
  if (busy) return { ok: false, message: busy };
  try {
    let artifacts: ModelArtifactsWire | null = null;
    if (state.runStatus === 'done' && state.runOutcome) {
      // Without the worker's trained model (a restarted worker) the project is saved without weights.
      artifacts = await studioClient()
        .exportModel()
        .catch(() => null);
    }
    const { snapshot, parts } = await snapshotOfStudio(useStudio.getState(), { weights: artifacts });
    const written = writeProjectFile(snapshot, parts);
    if (!written.ok) return { ok: false, message: `The project was not saved: ${written.reason}` };
    const fileName = `${safePartSegment(snapshot.name)}.transfer-project.zip`;
    save(new Blob([written.bytes as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), fileName);
    const trained = snapshot.weights ? ', with the trained weights' : '';
    return { ok: true, message: `Saved '${fileName}': ${counts(snapshot.dataset.images.length, snapshot.runs.length)}${trained}.` };
  } catch (error) {
    return { ok: false, message: `The project was not saved: ${(error as Error).message}` };
  }
}

/** Loads the project's model the way it was loaded; the error when it did not load (the current model stays). */
async function loadProjectModel(model: ProjectModel, parts: ReadonlyMap<string, Uint8Array>): Promise<string | null> {
  const { source } = model;
  if (source.kind === 'builtin') await loadBuiltInModel(source.id).catch((error: Error) => useStudio.getState().modelFailed(error.message));
  else if (source.kind === 'url') await loadModelFromUrl(source.url);
  else await importModelFiles(source.files.map((f) => new File([parts.get(f.file.part)! as Uint8Array<ArrayBuffer>], f.name)));
  const state = useStudio.getState();
  return state.modelError ?? (state.model ? null : 'no model loaded');
}

/** The model's settings as saved, through the store's actions (after the load, which resets them). */
function applyModelSettings(model: ProjectModel): void {
  const s = useStudio.getState();
  if (model.cutLayer) s.setCutLayer(model.cutLayer);
  s.setHead(model.head);
  if (model.preprocessing) s.setPreprocessing(model.preprocessing);
  s.setFreezePlan(model.freezePlan);
  s.setBatchNormModes(model.batchNormModes);
}

/** The built-in sample's images that a user dataset kept (no file of their own), found again by path and fitted to the model's input. */
function sampleImagesOf(snapshot: ProjectSnapshot): LabeledImage[] {
  const state = useStudio.getState();
  const sample = state.shippedSample;
  const target = decodeTarget();
  const wanted = snapshot.dataset.images.filter((image) => image.file === null);
  if (!sample || !target || wanted.length === 0) return [];
  const byPath = new Map(sample.images.map((image) => [image.path, image]));
  const found: LabeledImage[] = [];
  for (const image of wanted) {
    const shipped = byPath.get(image.path);
    if (shipped) found.push({ path: image.path, className: image.className, pixels: resizePixels(shipped.pixels, sample.shape, target.shape, target.resize) });
  }
  return found;
}

/** The dataset back: classes in the project's order, then its files decoded again at the model's input (`<project>/<class>/<file>`). */
async function restoreDataset(snapshot: ProjectSnapshot, parts: ReadonlyMap<string, Uint8Array>): Promise<void> {
  const { dataset } = snapshot;
  if (dataset.source === 'sample') {
    reloadSample();
    useStudio.getState().setValidationFraction(dataset.validationFraction);
    useStudio.getState().setTestFraction(dataset.testFraction);
    return;
  }
  const root = safePartSegment(dataset.name || snapshot.name);
  const { validationFraction, testFraction, splitSeed, fromSample, classNames } = dataset;
  const state = useStudio.getState();
  state.datasetRestored({ name: root, classNames, fromSample, validationFraction, testFraction, splitSeed });
  const target = decodeTarget();
  if (target) state.setDecodedFor(target);
  const sampleImages = sampleImagesOf(snapshot);
  if (sampleImages.length > 0) state.addUserImages(root, sampleImages, [], []);
  state.reportRejected(dataset.rejected, []);
  const files: DroppedFile[] = [];
  for (const image of dataset.images) {
    if (!image.file) continue;
    const fileName = image.file.part.split('/').pop()!;
    files.push({ path: `${root}/${image.className}/${fileName}`, blob: new File([parts.get(image.file.part)! as Uint8Array<ArrayBuffer>], fileName) });
  }
  if (files.length > 0) await addFiles(files);
}

/**
 * What restoreProject did: the images and runs back, the images that could not be added again, whether the
 * trained weights are back (and what became of them and the evaluation, in a sentence), or why nothing was restored.
 */
export type RestoreOutcome = { ok: true; images: number; runs: number; missing: number; weights: boolean; weightsNote: string } | { ok: false; reason: string };

/**
 * A project back into the studio (from a project file or the browser's autosave): loads the model as it
 * was loaded, puts back its settings, the dataset, the runs, and the last run's trained weights and
 * evaluation (reopenLastRun). When the model cannot be loaded nothing else changes.
 */
export async function restoreProject(snapshot: ProjectSnapshot, parts: ReadonlyMap<string, Uint8Array>): Promise<RestoreOutcome> {
  if (snapshot.model) {
    const failed = await loadProjectModel(snapshot.model, parts);
    if (failed) return { ok: false, reason: `its model '${snapshot.model.name}' could not be loaded (${failed})` };
    applyModelSettings(snapshot.model);
  }
  const s = useStudio.getState();
  s.setConfig(snapshot.training.config);
  s.setAutoEpochs(snapshot.training.autoEpochs);
  s.setScheduleSteps(snapshot.training.scheduleSteps);
  s.setBlockMultipliers(snapshot.training.blockMultipliers);
  await restoreDataset(snapshot, parts);
  useStudio.getState().runsRestored(snapshot.runs);
  const lastRun = await reopenLastRun(snapshot, parts);
  const images = useStudio.getState().images.length;
  return {
    ok: true,
    images,
    runs: snapshot.runs.length,
    missing: Math.max(0, snapshot.dataset.images.length - images),
    weights: lastRun.reopened,
    weightsNote: lastRun.note,
  };
}

/** `n images, k runs.`, the images that could not be added again, and what became of the trained weights. */
export function restoredText(outcome: { images: number; runs: number; missing: number; weightsNote?: string }): string {
  const lost = outcome.missing > 0 ? ` ${formatCount(outcome.missing)} of its images could not be added again (see the Data panel).` : '';
  return `${counts(outcome.images, outcome.runs)}.${lost}${outcome.weightsNote ?? ''}`;
}

/**
 * "Open project file": reads `file` (readProjectFile: any damage refuses the whole file, and the studio
 * keeps what it has), then restoreProject. Never throws: a refusal is the message.
 */
export async function openProjectFile(file: File): Promise<ProjectFileOutcome> {
  const busy = busyReason(useStudio.getState(), 'open the project');
  if (busy) return { ok: false, message: busy };
  const read = await readProjectFile(new Uint8Array(await file.arrayBuffer()), file.name);
  if (!read.ok) return { ok: false, message: read.reason };
  const restored = await restoreProject(read.snapshot, read.parts);
  if (!restored.ok) return { ok: false, message: `'${file.name}' was not opened: ${restored.reason}.` };
  return { ok: true, message: `Opened '${file.name}': ${restoredText(restored)}` };
}
