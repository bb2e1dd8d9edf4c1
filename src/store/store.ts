import { create, type StateCreator } from 'zustand';
import type { DatasetNotice, LabeledImage, RejectedFile } from '../data/types';
import { compareCodePoints } from '../data/folderLayout';
import { DEFAULT_HEAD } from '../engine/headSpec';
import { countParams, sourceFreezePlan, uniformFreezePlan } from '../engine/params';
import type { BatchNormMode, BatchNormOverrides, BatchPoint, EpochMetrics, FreezePlan, HeadConfig, Preprocessing, TrainConfig, TrainableChange, UnfreezeStep } from '../engine/types';
import type { ScheduleDraftStep } from '../engine/unfreezeSchedule';
import type { BackendName, ModelDescription, RunOutcome, RunSetup } from '../worker/protocol';
import { reportUpdates, type AuditReport, type LayerUpdates } from '../engine/auditCompare';
import { freezeSummary, makeRunRecord, type FreezeSummary, type RunRecord } from '../engine/runRecords';
import { isRunActive, runPlanSettings, transferLayers } from './selectors';

/** What a run streams in and what is derived from it, empty: a new run starts here, and a model load clears the last one's. */
const NO_RUN_RECORD = {
  runOutcome: null,
  runError: null,
  batchPoints: [],
  epochs: [],
  trainableChanges: [],
  paused: false,
  cacheProgress: null,
  audit: null,
  layerUpdates: null,
  evaluation: null,
} satisfies Partial<StudioState>;

// ---------------------------------------------------------------- model slice

/** Where a model was loaded from: one of the built-in models (by id and label), picked files, or a URL. */
export type ModelOrigin = { kind: 'builtin'; id: string; label: string } | { kind: 'files'; fileName: string } | { kind: 'url'; url: string };

/** A model origin in the user's words. */
export function describeOrigin(origin: ModelOrigin): string {
  switch (origin.kind) {
    case 'builtin':
      return `Built-in: ${origin.label}`;
    case 'files':
      return `Imported: ${origin.fileName}`;
    case 'url':
      return `From ${origin.url}`;
  }
}

/** The loaded model, where the head is attached, and what is frozen. */
export interface ModelSlice {
  modelStatus: 'loading' | 'ready' | 'failed';
  modelError: string | null;
  model: ModelDescription | null;
  /** Where the loaded model came from. */
  modelOrigin: ModelOrigin | null;
  /** The same in the user's words: "Built-in: MobileNetV2", "Imported: model.json", "From https://…". */
  modelSourceLabel: string;
  cutLayer: string | null;
  head: HeadConfig;
  /** The preprocessing used for training, prediction and export: the model's own until the user edits it. */
  preprocessing: Preprocessing | null;
  freezePlan: FreezePlan;
  /** BatchNorm layers whose mode differs from the default (see BatchNormMode). */
  batchNormOverrides: BatchNormOverrides;
  layerFilter: string;
  modelLoading(): void;
  modelLoaded(model: ModelDescription, plan: FreezePlan, origin: ModelOrigin): void;
  modelFailed(message: string): void;
  setLayerFrozen(name: string, frozen: boolean): void;
  /** Sets the same flag on every named layer in one update (group toggle, range, "Freeze up to here"). */
  setLayersFrozen(names: readonly string[], frozen: boolean): void;
  setAllFrozen(frozen: boolean): void;
  /** Sets the flag of every layer `plan` names in one update (a preset); layers it leaves out keep theirs. */
  setFreezePlan(plan: FreezePlan): void;
  setLayerFilter(text: string): void;
  /** Sets the mode of a BatchNorm layer ('train-stats', 'inference'), or back to the default (null). */
  setBatchNormOverride(name: string, mode: BatchNormMode | null): void;
  /** Sets the modes of several BatchNorm layers at once (a recipe); layers left out keep theirs. */
  setBatchNormModes(modes: BatchNormOverrides): void;
  setCutLayer(name: string): void;
  setHead(patch: Partial<HeadConfig>): void;
  setPreprocessing(patch: Partial<Preprocessing>): void;
}


const createModelSlice: StateCreator<StudioState, [], [], ModelSlice> = (set) => ({
  modelStatus: 'loading',
  modelError: null,
  model: null,
  modelOrigin: null,
  modelSourceLabel: '',
  cutLayer: null,
  head: DEFAULT_HEAD,
  preprocessing: null,
  freezePlan: {},
  batchNormOverrides: {},
  layerFilter: '',
  modelLoading: () => set({ modelStatus: 'loading', modelError: null }),
  modelLoaded: (model, plan, origin) =>
    set({
      modelStatus: 'ready',
      modelError: null,
      model,
      modelOrigin: origin,
      modelSourceLabel: describeOrigin(origin),
      cutLayer: model.defaultCutLayer,
      head: DEFAULT_HEAD,
      preprocessing: model.preprocessing,
      freezePlan: plan,
      batchNormOverrides: {},
      // The last run's record belongs to the previous model.
      runStatus: 'idle',
      runSetup: null,
      runSettings: null,
      ...NO_RUN_RECORD,
      // Schedules and multipliers name blocks of the previous model.
      scheduleSteps: [],
      blockMultipliers: {},
      // Their blocks and parameter counts are the previous model's.
      runs: [],
      // A fresh model's weights have seen none of the images.
      trainedOnIds: NO_IMAGE_IDS,
    }),
  modelFailed: (message) => set((s) => ({ modelStatus: s.model ? 'ready' : 'failed', modelError: message })),
  setLayerFrozen: (name, frozen) => set((s) => ({ freezePlan: { ...s.freezePlan, [name]: frozen } })),
  setLayersFrozen: (names, frozen) =>
    set((s) => {
      const freezePlan = { ...s.freezePlan };
      for (const name of names) freezePlan[name] = frozen;
      return { freezePlan };
    }),
  setAllFrozen: (frozen) => set((s) => ({ freezePlan: s.model ? uniformFreezePlan(s.model.layers, frozen) : {} })),
  setFreezePlan: (plan) => set((s) => ({ freezePlan: { ...s.freezePlan, ...plan } })),
  setLayerFilter: (text) => set({ layerFilter: text }),
  setBatchNormOverride: (name, mode) =>
    set((s) => {
      const batchNormOverrides = { ...s.batchNormOverrides };
      if (mode) batchNormOverrides[name] = mode;
      else delete batchNormOverrides[name];
      return { batchNormOverrides };
    }),
  setBatchNormModes: (modes) => set((s) => ({ batchNormOverrides: { ...s.batchNormOverrides, ...modes } })),
  setCutLayer: (name) => set({ cutLayer: name }),
  setHead: (patch) => set((s) => ({ head: { ...s.head, ...patch } })),
  setPreprocessing: (patch) => set((s) => (s.preprocessing ? { preprocessing: { ...s.preprocessing, ...patch } } : {})),
});

// ----------------------------------------------------------------- data slice

/** One image of the dataset, with a stable id for React keys. */
export interface DatasetImage extends LabeledImage {
  id: number;
}

/** Progress of adding files ('add') or of re-deriving every image for a new model ('rederive'). */
export type IngestStatus = { kind: 'add' | 'rederive'; done: number; total: number; startedAt: number };

/** The images, their classes, and what was left out. */
export interface DataSlice {
  /** 'sample' until the user adds their first folder, which replaces it. */
  datasetSource: 'none' | 'sample' | 'user';
  datasetName: string;
  images: DatasetImage[];
  /** Class names in label order (label = index). */
  classNames: string[];
  rejected: RejectedFile[];
  notices: DatasetNotice[];
  /** Files being added or images being re-derived: `done` of `total` since `startedAt` (Date.now(), for a rate); null when idle. */
  ingest: IngestStatus | null;
  validationFraction: number;
  splitSeed: number;
  loadSample(name: string, images: LabeledImage[]): void;
  addUserImages(name: string, images: LabeledImage[], rejected: RejectedFile[], notices: DatasetNotice[]): void;
  /** Records rejected files and notices of a drop that added no image, keeping the dataset as it is. */
  reportRejected(rejected: RejectedFile[], notices: DatasetNotice[]): void;
  setIngestProgress(progress: IngestStatus | null): void;
  /**
   * Re-derived pixels after a model change: each image whose id is in `pixels` takes the new ones
   * (id, class and path unchanged); user images missing from it are dropped. `notices` replace the last drop's.
   */
  replacePixels(pixels: ReadonlyMap<number, Uint8Array>, notices: DatasetNotice[]): void;
  setValidationFraction(fraction: number): void;
  /** Share of each class held out for a final test (0 = none); the train client ignores it for now. */
  testFraction: number;
  setTestFraction(fraction: number): void;
  /** True when the user's dataset began as the built-in sample, turned into theirs by an edit. */
  fromSample: boolean;
  /** The class that pasted and single dropped images go to (null: the first class). */
  selectedClass: string | null;
  /** Why the last class edit was refused, quoting the name; null after one that worked. */
  classEditError: string | null;
  /** Adds an empty class at the end. Returns the refusal (also kept in `classEditError`) or null. */
  createClass(name: string): string | null;
  /** Renames a class in place (its label stays); refuses a name already taken and suggests Merge. */
  renameClass(from: string, to: string): string | null;
  /** Moves every image of `from` into `into` and removes `from`; the later classes move up one label. */
  mergeClasses(from: string, into: string): string | null;
  /** Removes a class and all its images. */
  deleteClass(name: string): string | null;
  /** Removes one image by id. */
  removeImage(id: number): void;
  /** Picks the class that pasted images go to. */
  selectClass(name: string): void;
  /** Makes the built-in sample the user's own dataset, so that added images join it instead of replacing it. */
  adoptSample(): void;
}

/** Checks a class name typed by the user: the trimmed name, or why it cannot be used (quoting it). */
export function checkClassName(raw: string, taken: readonly string[]): { name: string; error: string | null } {
  const name = raw.trim();
  if (name === '') return { name, error: 'A class name cannot be empty. Type a name, e.g. cats.' };
  if (name.includes('/')) return { name, error: `'${name}' contains '/'; class names are folder names. Use another character, e.g. '-'.` };
  if (name.startsWith('.')) return { name, error: `'${name}' starts with '.', which marks hidden files; start it with a letter or digit.` };
  if (taken.includes(name)) return { name, error: `A class named '${name}' already exists. Pick another name.` };
  return { name, error: null };
}

let nextImageId = 1;

function withIds(images: LabeledImage[]): DatasetImage[] {
  return images.map((image) => ({ ...image, id: nextImageId++ }));
}

/** `existing` class names, then the new ones among `images` in code-point order (the folder layout's order, not decode order). */
function classNamesOf(images: readonly LabeledImage[], existing: readonly string[] = []): string[] {
  const known = new Set(existing);
  const added = new Set<string>();
  for (const image of images) if (!known.has(image.className)) added.add(image.className);
  return [...existing, ...[...added].sort(compareCodePoints)];
}

/** The dataset fields after an edit: the sample becomes the user's own on its first edit. */
function edited(s: DataSlice, images: DatasetImage[], classNames: string[], selectedClass: string | null): Partial<DataSlice> {
  const fromSample = s.datasetSource === 'sample' || s.fromSample;
  return { images, classNames, selectedClass, datasetSource: 'user', fromSample, classEditError: null };
}

const createDataSlice: StateCreator<StudioState, [], [], DataSlice> = (set, get) => ({
  datasetSource: 'none',
  datasetName: '',
  images: [],
  classNames: [],
  rejected: [],
  notices: [],
  ingest: null,
  validationFraction: 0.15,
  splitSeed: 42,
  loadSample: (name, images) =>
    set({ datasetSource: 'sample', datasetName: name, images: withIds(images), classNames: classNamesOf(images), rejected: [], notices: [], fromSample: false, selectedClass: null }),
  addUserImages: (name, images, rejected, notices) =>
    set((s) => {
      // The user's first folder replaces the demo sample; later folders add to it.
      const keep = s.datasetSource === 'user';
      const merged = keep ? [...s.images, ...withIds(images)] : withIds(images);
      return {
        datasetSource: 'user',
        fromSample: keep && s.fromSample,
        // Images added to a class one by one come under the same name each time; it is named once.
        datasetName: keep ? (s.datasetName.split(' + ').includes(name) ? s.datasetName : `${s.datasetName} + ${name}`) : name,
        images: merged,
        classNames: classNamesOf(merged, keep ? s.classNames : []),
        rejected: keep ? [...s.rejected, ...rejected] : rejected,
        notices,
      };
    }),
  reportRejected: (rejected, notices) => set((s) => ({ rejected: [...s.rejected, ...rejected], notices })),
  setIngestProgress: (progress) => set({ ingest: progress }),
  replacePixels: (pixels, notices) =>
    set((s) => {
      const images: DatasetImage[] = [];
      for (const image of s.images) {
        const next = pixels.get(image.id);
        if (next) images.push({ ...image, pixels: next });
      }
      return { images, notices };
    }),
  setValidationFraction: (fraction) => set({ validationFraction: fraction }),
  testFraction: 0,
  setTestFraction: (fraction) => set({ testFraction: fraction }),
  fromSample: false,
  selectedClass: null,
  classEditError: null,
  createClass: (raw) => {
    const s = get();
    const { name, error } = checkClassName(raw, s.classNames);
    if (error) {
      set({ classEditError: error });
      return error;
    }
    set(edited(s, s.images, [...s.classNames, name], s.selectedClass));
    return null;
  },
  renameClass: (from, raw) => {
    const s = get();
    if (!s.classNames.includes(from)) return refuse(set, `There is no class '${from}' to rename.`);
    if (raw.trim() === from) return null;
    const { name, error } = checkClassName(raw, s.classNames);
    if (error) {
      const taken = s.classNames.includes(name);
      return refuse(set, taken ? `A class named '${name}' already exists. To put the images of '${from}' into it, use Merge instead.` : error);
    }
    const images = s.images.map((image) => (image.className === from ? { ...image, className: name } : image));
    set(edited(s, images, s.classNames.map((n) => (n === from ? name : n)), s.selectedClass === from ? name : s.selectedClass));
    return null;
  },
  mergeClasses: (from, into) => {
    const s = get();
    if (from === into) return refuse(set, `Cannot merge '${from}' into itself. Pick another class.`);
    for (const name of [from, into]) if (!s.classNames.includes(name)) return refuse(set, `There is no class '${name}' to merge.`);
    const images = s.images.map((image) => (image.className === from ? { ...image, className: into } : image));
    set(edited(s, images, s.classNames.filter((n) => n !== from), s.selectedClass === from ? into : s.selectedClass));
    return null;
  },
  deleteClass: (name) => {
    const s = get();
    if (!s.classNames.includes(name)) return refuse(set, `There is no class '${name}' to delete.`);
    const images = s.images.filter((image) => image.className !== name);
    set(edited(s, images, s.classNames.filter((n) => n !== name), s.selectedClass === name ? null : s.selectedClass));
    return null;
  },
  removeImage: (id) => {
    const s = get();
    const images = s.images.filter((image) => image.id !== id);
    if (images.length !== s.images.length) set(edited(s, images, s.classNames, s.selectedClass));
  },
  selectClass: (name) => set((s) => (s.classNames.includes(name) ? { selectedClass: name } : {})),
  adoptSample: () => {
    const s = get();
    if (s.datasetSource === 'sample') set(edited(s, s.images, s.classNames, s.selectedClass));
  },
});

function refuse(set: (partial: Partial<DataSlice>) => void, message: string): string {
  set({ classEditError: message });
  return message;
}

// ---------------------------------------------------------------- train slice

/** Where a training run stands. */
export type RunStatus = 'idle' | 'starting' | 'running' | 'stopping' | 'done' | 'failed';

/** What a run was started with, kept so that later edits do not rewrite its record (the export reads this). */
export interface RunSettings {
  config: TrainConfig;
  head: HeadConfig;
  preprocessing: Preprocessing;
  classNames: string[];
  dataset: { name: string; images: number; validationFraction: number; splitSeed: number };
  /** The freeze plan at the start, what it kept frozen, and the trainable parameters it left (Keras count). */
  freezePlan: FreezePlan;
  freeze: FreezeSummary;
  trainableParams: number;
  /** The unfreezing schedule the run was sent (layer names, epochs from 0); empty = none. */
  unfreezeSchedule: UnfreezeStep[];
  /** What "Auto" epochs decided for the run, in one line (engine/autoEpochs.ts); null when the run was started without it. */
  autoEpochs?: string | null;
  /** Validation images the weights the run started from were already trained on (a run not from the pretrained weights); 0 = none. */
  validationTrainedOn?: number;
}

/** What the client knows of a run as it starts it, beyond the store's own settings. */
export interface RunStart {
  /** The config the run really gets (auto epochs resolved); absent = `config` as set. */
  config?: TrainConfig;
  /** What auto epochs decided, in one line; null or absent when auto is off. */
  autoEpochs?: string | null;
  /** Ids (DatasetImage.id) of the images the run trains on. */
  trainImageIds?: readonly number[];
  /** How many of the run's validation images the weights it starts from were trained on. */
  validationTrainedOn?: number;
}

/** The training worker stopped: why, and where restarting it stands. */
export interface WorkerCrash {
  /** What the worker said (or that it said nothing), e.g. "out of memory". */
  message: string;
  /** A restart is under way. */
  restarting: boolean;
  /** Why the last restart failed; null before one. */
  restartError: string | null;
}

/** No image ids: the weights of a fresh model (or a fresh worker) were trained on nothing yet. */
const NO_IMAGE_IDS: ReadonlySet<number> = new Set();

/** Training settings, the live run, and its streamed metrics. */
export interface TrainSlice {
  backend: BackendName | null;
  backendNotes: string[];
  config: TrainConfig;
  runId: number;
  runStatus: RunStatus;
  runSetup: RunSetup | null;
  runSettings: RunSettings | null;
  runOutcome: RunOutcome | null;
  runError: string | null;
  batchesPerEpoch: number;
  batchPoints: BatchPoint[];
  epochs: EpochMetrics[];
  /** Changes of the trainable set during the run (schedule steps, live toggles), in order: the chart marks each. */
  trainableChanges: TrainableChange[];
  /** The run is held at a batch boundary. */
  paused: boolean;
  /** Feature-cache build progress of the starting run; null when no cache is being built. */
  cacheProgress: { done: number; total: number } | null;
  /** The unfreezing schedule as the editor holds it (block labels, epochs from 1); empty = none. */
  scheduleSteps: ScheduleDraftStep[];
  /** Learning-rate multiplier per block label (discriminative rates); blocks left out get 1. */
  blockMultipliers: Record<string, number>;
  setScheduleSteps(steps: ScheduleDraftStep[]): void;
  setBlockMultipliers(multipliers: Record<string, number>): void;
  /** The freeze audit of the last run (from the worker, after the run or a Verify); null before one. */
  audit: AuditReport | null;
  /** ‖ΔW‖/‖W‖ per layer since the start of the run, from the worker after each epoch and the audit; null before one. */
  layerUpdates: LayerUpdates | null;
  auditArrived(report: AuditReport): void;
  layerUpdatesArrived(updates: LayerUpdates): void;
  backendReady(backend: BackendName, notes: string[]): void;
  setConfig(patch: Partial<TrainConfig>): void;
  /**
   * A run is being started with id `runId`: records what it starts with (`start.config`, the resolved config,
   * in `runSettings`) and which images the weights will have been trained on.
   */
  runRequested(runId: number, batchesPerEpoch: number, start?: RunStart): void;
  runStarted(setup: RunSetup): void;
  batchesArrived(points: BatchPoint[]): void;
  epochArrived(metrics: EpochMetrics): void;
  stopRequested(): void;
  trainableChanged(change: TrainableChange): void;
  runPaused(paused: boolean): void;
  cacheProgressed(done: number, total: number): void;
  runEnded(outcome: RunOutcome): void;
  runFailed(message: string): void;
  /** Every finished or stopped run since the model was loaded, in run order: "Compare runs" reads them. */
  runs: RunRecord[];
  /** The "Auto" checkbox beside Epochs (on by default): see engine/autoEpochs.ts. */
  autoEpochs: boolean;
  setAutoEpochs(on: boolean): void;
  /** Why the last press of Train was refused (a run in progress, no data…), quoting what to do; null once a run starts. The live run is left alone. */
  trainRefusal: string | null;
  trainRefused(message: string): void;
  /**
   * Ids (DatasetImage.id) of the images the worker's current weights were trained on: the training images of
   * every run since the last one that started from the pretrained weights (that run's included). Empty after a model load.
   */
  trainedOnIds: ReadonlySet<number>;
  /** The training worker stopped; null while it runs. */
  workerCrash: WorkerCrash | null;
  /** The worker crashed: the active run fails, a model load in progress fails, and the studio offers a restart. */
  workerCrashed(message: string): void;
  workerRestarting(): void;
  workerRestartFailed(message: string): void;
  /**
   * A fresh worker loaded `model` again: the same file keeps the tree, plan, head and run history, and the last
   * run's record goes (its trained weights died with the old worker); another file is loaded as a new model;
   * null: no model had loaded yet, only the backend was started again.
   */
  workerRestarted(model: ModelDescription | null): void;
}

/** The run's freeze plan, what it keeps frozen and trains, and its schedule, at the start (a cut the model lacks: nothing to count). */
function freezeAtStart(s: StudioState): Pick<RunSettings, 'freezePlan' | 'freeze' | 'trainableParams' | 'unfreezeSchedule'> {
  const cutFound = s.model?.layers.some((layer) => layer.name === s.cutLayer || layer.parent === s.cutLayer) ?? false;
  const layers = cutFound ? transferLayers(s) : [];
  return {
    freezePlan: s.freezePlan,
    freeze: freezeSummary(layers, s.freezePlan),
    trainableParams: countParams(layers, s.freezePlan).trainable,
    unfreezeSchedule: cutFound ? runPlanSettings(s).unfreezeSchedule : [],
  };
}

const createTrainSlice: StateCreator<StudioState, [], [], TrainSlice> = (set, get) => ({
  backend: null,
  backendNotes: [],
  config: { epochs: 10, batchSize: 32, learningRate: 0.001, seed: 1, optimizer: 'adam', schedule: 'constant', earlyStopping: null },
  runId: 0,
  runStatus: 'idle',
  runSetup: null,
  runSettings: null,
  runOutcome: null,
  runError: null,
  batchesPerEpoch: 0,
  batchPoints: [],
  epochs: [],
  trainableChanges: [],
  paused: false,
  cacheProgress: null,
  scheduleSteps: [],
  blockMultipliers: {},
  setScheduleSteps: (steps) => set({ scheduleSteps: steps }),
  setBlockMultipliers: (multipliers) => set({ blockMultipliers: multipliers }),
  audit: null,
  layerUpdates: null,
  // The report's own relative updates are the latest reading: the tree's bars follow it.
  auditArrived: (report) => set({ audit: report, layerUpdates: reportUpdates(report) }),
  layerUpdatesArrived: (updates) => set({ layerUpdates: updates }),
  backendReady: (backend, notes) => set({ backend, backendNotes: notes }),
  setConfig: (patch) => set((s) => ({ config: { ...s.config, ...patch } })),
  runRequested: (runId, batchesPerEpoch, start = {}) =>
    set((s) => {
      const config = start.config ?? s.config;
      const trained = start.trainImageIds ?? [];
      // From the pretrained weights, the run's own images are all the weights will have seen; otherwise they add to the earlier runs'.
      const trainedOnIds = config.fromPretrained === false ? new Set([...s.trainedOnIds, ...trained]) : new Set(trained);
      return {
        runId,
        runStatus: 'starting',
        runSetup: null,
        runSettings: {
          config,
          head: s.head,
          preprocessing: s.preprocessing!,
          classNames: s.classNames,
          dataset: { name: s.datasetName, images: s.images.length, validationFraction: s.validationFraction, splitSeed: s.splitSeed },
          ...freezeAtStart(s),
          autoEpochs: start.autoEpochs ?? null,
          validationTrainedOn: start.validationTrainedOn ?? 0,
        },
        batchesPerEpoch,
        trainRefusal: null,
        trainedOnIds,
        ...NO_RUN_RECORD,
      };
    }),
  runStarted: (setup) => set({ runStatus: 'running', runSetup: setup }),
  trainableChanged: (change) => set((s) => ({ trainableChanges: [...s.trainableChanges, change] })),
  runPaused: (paused) => set({ paused }),
  cacheProgressed: (done, total) => set({ cacheProgress: done >= total ? null : { done, total } }),
  batchesArrived: (points) => set((s) => ({ batchPoints: s.batchPoints.concat(points) })),
  epochArrived: (metrics) => set((s) => ({ epochs: [...s.epochs, metrics] })),
  stopRequested: () => set((s) => (s.runStatus === 'running' || s.runStatus === 'starting' ? { runStatus: 'stopping' } : {})),
  runEnded: (outcome) =>
    set((s) => {
      const run = s.runSettings;
      const record =
        run && !s.runs.some((r) => r.runId === s.runId)
          ? makeRunRecord({ runId: s.runId, ...run, setup: s.runSetup, outcome, epochs: s.epochs, trainableChanges: s.trainableChanges, batchesPerEpoch: s.batchesPerEpoch })
          : null;
      return { runStatus: 'done', runOutcome: outcome, paused: false, cacheProgress: null, trainRefusal: null, runs: record ? [...s.runs, record] : s.runs };
    }),
  runFailed: (message) => set({ runStatus: 'failed', runError: message, paused: false, cacheProgress: null, trainRefusal: null }),
  runs: [],
  autoEpochs: true,
  setAutoEpochs: (on) => set({ autoEpochs: on }),
  trainRefusal: null,
  trainRefused: (message) => set({ trainRefusal: message }),
  trainedOnIds: NO_IMAGE_IDS,
  workerCrash: null,
  workerCrashed: (message) =>
    set((s) => {
      const said = `The training worker crashed: ${message}`;
      return {
        workerCrash: { message, restarting: false, restartError: s.workerCrash?.restarting ? `It crashed again while restarting: ${message}` : null },
        ...(isRunActive(s) ? { runStatus: 'failed' as const, runError: said, paused: false, cacheProgress: null } : {}),
        ...(s.modelStatus === 'loading' ? { modelStatus: s.model ? ('ready' as const) : ('failed' as const), modelError: said } : {}),
      };
    }),
  workerRestarting: () => set((s) => (s.workerCrash ? { workerCrash: { ...s.workerCrash, restarting: true, restartError: null } } : {})),
  workerRestartFailed: (message) => set((s) => ({ workerCrash: { message: s.workerCrash?.message ?? message, restarting: false, restartError: message } })),
  workerRestarted: (model) => {
    const s = get();
    if (model === null) {
      set({ workerCrash: null, trainRefusal: null });
      return;
    }
    const same = s.model !== null && s.model.sourceHash === model.sourceHash && s.modelOrigin !== null;
    if (!same) {
      // Another file answered (it changed on disk): start over with it, as a load would.
      s.modelLoaded(model, sourceFreezePlan(model.layers), s.modelOrigin ?? { kind: 'url', url: model.name });
      set({ workerCrash: null, trainRefusal: null });
      return;
    }
    set({
      model,
      modelStatus: 'ready',
      modelError: null,
      // The worker's trained head and weights are gone: nothing to export, predict or audit until the next run.
      runStatus: 'idle',
      runSetup: null,
      runSettings: null,
      ...NO_RUN_RECORD,
      trainedOnIds: NO_IMAGE_IDS,
      workerCrash: null,
      trainRefusal: null,
    });
  },
});

// ----------------------------------------------------------- evaluation slice

/** Images a run held out (validation or test), with their labels in the run's class order. */
export interface HeldOutSet {
  images: DatasetImage[];
  labels: Int32Array;
  /** [images.length × classNames.length] float32 probabilities from the run's model, row-major; null until predicted. */
  probabilities: Float32Array | null;
}

/** The evaluation of the last run on the images it held out; metrics are derived from it (engine/evaluation.ts), not stored. */
export interface EvaluationState {
  runId: number;
  /** 'pending' until the run ends, 'running' while the worker predicts. */
  status: 'pending' | 'running' | 'done' | 'failed';
  /** The run's classes (label = index). */
  classNames: string[];
  validation: HeldOutSet | null;
  test: HeldOutSet | null;
  error: string | null;
}

/** Evaluation of the last run: prepared when it starts, filled in after it ends; cleared by a model load. */
export interface EvaluationSlice {
  evaluation: EvaluationState | null;
  /** Records the held-out sets of run `runId` (replacing any earlier evaluation); they are predicted after the run ends. */
  evaluationPrepared(runId: number, classNames: string[], validation: Omit<HeldOutSet, 'probabilities'> | null, test: Omit<HeldOutSet, 'probabilities'> | null): void;
  evaluationStarted(runId: number): void;
  /** Stores the probabilities of each held-out set; ignored when `runId` is not the evaluation's run. */
  evaluationFinished(runId: number, probabilities: { validation: Float32Array | null; test: Float32Array | null }): void;
  evaluationFailed(runId: number, message: string): void;
}

const createEvaluationSlice: StateCreator<StudioState, [], [], EvaluationSlice> = (set) => {
  const ofRun = (runId: number, update: (e: EvaluationState) => Partial<EvaluationState>) =>
    set((s) => (s.evaluation?.runId === runId ? { evaluation: { ...s.evaluation, ...update(s.evaluation) } } : {}));
  return {
    evaluation: null,
    evaluationPrepared: (runId, classNames, validation, test) =>
      set({
        evaluation: {
          runId,
          status: 'pending',
          classNames,
          validation: validation && { ...validation, probabilities: null },
          test: test && { ...test, probabilities: null },
          error: null,
        },
      }),
    evaluationStarted: (runId) => ofRun(runId, () => ({ status: 'running', error: null })),
    evaluationFinished: (runId, probabilities) =>
      ofRun(runId, (e) => ({
        status: 'done',
        validation: e.validation && { ...e.validation, probabilities: probabilities.validation },
        test: e.test && { ...e.test, probabilities: probabilities.test },
      })),
    evaluationFailed: (runId, message) => ofRun(runId, () => ({ status: 'failed', error: message })),
  };
};

// ---------------------------------------------------------------------- store

/** The whole studio state: model, data, training and evaluation slices. */
export type StudioState = ModelSlice & DataSlice & TrainSlice & EvaluationSlice;

/** Creates a fresh store (the app uses `useStudio`; tests make their own). */
export function createStudioStore() {
  return create<StudioState>()((...args) => ({
    ...createModelSlice(...args),
    ...createDataSlice(...args),
    ...createTrainSlice(...args),
    ...createEvaluationSlice(...args),
  }));
}

/** The app's store. */
export const useStudio = createStudioStore();

/** The store's type, for code that receives a store to act on. */
export type StudioStore = ReturnType<typeof createStudioStore>;
