import { create, type StateCreator } from 'zustand';
import type { DatasetNotice, LabeledImage, RejectedFile } from '../data/types';
import { DEFAULT_HEAD } from '../engine/headSpec';
import { uniformFreezePlan } from '../engine/params';
import type { BatchPoint, EpochMetrics, FreezePlan, HeadConfig, Preprocessing, TrainConfig } from '../engine/types';
import type { BackendName, ModelDescription, RunOutcome, RunSetup } from '../worker/protocol';

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
  layerFilter: string;
  modelLoading(): void;
  modelLoaded(model: ModelDescription, plan: FreezePlan, origin: ModelOrigin): void;
  modelFailed(message: string): void;
  setLayerFrozen(name: string, frozen: boolean): void;
  /** Sets the same flag on every named layer in one update (group toggle, range, "Freeze up to here"). */
  setLayersFrozen(names: readonly string[], frozen: boolean): void;
  setAllFrozen(frozen: boolean): void;
  setLayerFilter(text: string): void;
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
      // The last run's record belongs to the previous model.
      runStatus: 'idle',
      runSetup: null,
      runSettings: null,
      runOutcome: null,
      runError: null,
      batchPoints: [],
      epochs: [],
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
  setLayerFilter: (text) => set({ layerFilter: text }),
  setCutLayer: (name) => set({ cutLayer: name }),
  setHead: (patch) => set((s) => ({ head: { ...s.head, ...patch } })),
  setPreprocessing: (patch) => set((s) => (s.preprocessing ? { preprocessing: { ...s.preprocessing, ...patch } } : {})),
});

// ----------------------------------------------------------------- data slice

/** One image of the dataset, with a stable id for React keys. */
export interface DatasetImage extends LabeledImage {
  id: number;
}

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
  ingest: { done: number; total: number } | null;
  validationFraction: number;
  splitSeed: number;
  loadSample(name: string, images: LabeledImage[]): void;
  addUserImages(name: string, images: LabeledImage[], rejected: RejectedFile[], notices: DatasetNotice[]): void;
  /** Records rejected files and notices of a drop that added no image, keeping the dataset as it is. */
  reportRejected(rejected: RejectedFile[], notices: DatasetNotice[]): void;
  setIngestProgress(progress: { done: number; total: number } | null): void;
  setValidationFraction(fraction: number): void;
}

let nextImageId = 1;

function withIds(images: LabeledImage[]): DatasetImage[] {
  return images.map((image) => ({ ...image, id: nextImageId++ }));
}

function classNamesOf(images: readonly LabeledImage[], existing: readonly string[] = []): string[] {
  const names = [...existing];
  for (const image of images) if (!names.includes(image.className)) names.push(image.className);
  return names;
}

const createDataSlice: StateCreator<StudioState, [], [], DataSlice> = (set) => ({
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
    set({ datasetSource: 'sample', datasetName: name, images: withIds(images), classNames: classNamesOf(images), rejected: [], notices: [] }),
  addUserImages: (name, images, rejected, notices) =>
    set((s) => {
      // The user's first folder replaces the demo sample; later folders add to it.
      const keep = s.datasetSource === 'user';
      const merged = keep ? [...s.images, ...withIds(images)] : withIds(images);
      return {
        datasetSource: 'user',
        datasetName: keep ? `${s.datasetName} + ${name}` : name,
        images: merged,
        classNames: classNamesOf(merged, keep ? s.classNames : []),
        rejected: keep ? [...s.rejected, ...rejected] : rejected,
        notices,
      };
    }),
  reportRejected: (rejected, notices) => set((s) => ({ rejected: [...s.rejected, ...rejected], notices })),
  setIngestProgress: (progress) => set({ ingest: progress }),
  setValidationFraction: (fraction) => set({ validationFraction: fraction }),
});

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
}

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
  backendReady(backend: BackendName, notes: string[]): void;
  setConfig(patch: Partial<TrainConfig>): void;
  runRequested(runId: number, batchesPerEpoch: number): void;
  runStarted(setup: RunSetup): void;
  batchesArrived(points: BatchPoint[]): void;
  epochArrived(metrics: EpochMetrics): void;
  stopRequested(): void;
  runEnded(outcome: RunOutcome): void;
  runFailed(message: string): void;
}

const createTrainSlice: StateCreator<StudioState, [], [], TrainSlice> = (set) => ({
  backend: null,
  backendNotes: [],
  config: { epochs: 10, batchSize: 32, learningRate: 0.001, seed: 1 },
  runId: 0,
  runStatus: 'idle',
  runSetup: null,
  runSettings: null,
  runOutcome: null,
  runError: null,
  batchesPerEpoch: 0,
  batchPoints: [],
  epochs: [],
  backendReady: (backend, notes) => set({ backend, backendNotes: notes }),
  setConfig: (patch) => set((s) => ({ config: { ...s.config, ...patch } })),
  runRequested: (runId, batchesPerEpoch) =>
    set((s) => ({
      runId,
      runStatus: 'starting',
      runSetup: null,
      runSettings: {
        config: s.config,
        head: s.head,
        preprocessing: s.preprocessing!,
        classNames: s.classNames,
        dataset: { name: s.datasetName, images: s.images.length, validationFraction: s.validationFraction, splitSeed: s.splitSeed },
      },
      runOutcome: null,
      runError: null,
      batchesPerEpoch,
      batchPoints: [],
      epochs: [],
    })),
  runStarted: (setup) => set({ runStatus: 'running', runSetup: setup }),
  batchesArrived: (points) => set((s) => ({ batchPoints: s.batchPoints.concat(points) })),
  epochArrived: (metrics) => set((s) => ({ epochs: [...s.epochs, metrics] })),
  stopRequested: () => set((s) => (s.runStatus === 'running' || s.runStatus === 'starting' ? { runStatus: 'stopping' } : {})),
  runEnded: (outcome) => set({ runStatus: 'done', runOutcome: outcome }),
  runFailed: (message) => set({ runStatus: 'failed', runError: message }),
});

// ---------------------------------------------------------------------- store

/** The whole studio state: model, data and training slices. */
export type StudioState = ModelSlice & DataSlice & TrainSlice;

/** Creates a fresh store (the app uses `useStudio`; tests make their own). */
export function createStudioStore() {
  return create<StudioState>()((...args) => ({
    ...createModelSlice(...args),
    ...createDataSlice(...args),
    ...createTrainSlice(...args),
  }));
}

/** The app's store. */
export const useStudio = createStudioStore();

/** The store's type, for code that receives a store to act on. */
export type StudioStore = ReturnType<typeof createStudioStore>;
