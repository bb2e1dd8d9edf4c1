/** The model slice: the loaded model, where the head is attached, what is frozen, and its BatchNorm modes. */
import type { StateCreator } from 'zustand';
import { DEFAULT_HEAD } from '../core/headSpec';
import { uniformFreezePlan } from '../core/params';
import type { BatchNormMode, BatchNormOverrides, FreezePlan, HeadConfig, Preprocessing } from '../core/types';
import type { ModelDescription } from '../worker/protocol';
import type { StudioState } from './state';

/**
 * Where a model was loaded from: one of the built-in models (by id and label), picked files (with the File
 * objects themselves: the bytes sent to the worker are transferred, so a restart reads them again), or a URL.
 */
export type ModelOrigin =
  { kind: 'builtin'; id: string; label: string } | { kind: 'files'; fileName: string; files?: readonly File[] } | { kind: 'url'; url: string };

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

/** The model slice; `onModelLoad` is what the other slices reset when a model loads (see store.ts). */
export const createModelSlice =
  (onModelLoad: Partial<StudioState>): StateCreator<StudioState, [], [], ModelSlice> =>
  (set) => ({
    modelStatus: 'loading',
    modelError: null,
    model: null,
    modelOrigin: null,
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
        cutLayer: model.defaultCutLayer,
        head: DEFAULT_HEAD,
        preprocessing: model.preprocessing,
        freezePlan: plan,
        batchNormOverrides: {},
        // What the other slices hold of the previous model (its run, schedule, history, evaluation), as each declares it.
        ...onModelLoad,
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
