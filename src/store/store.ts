/**
 * The studio's one zustand store, composed from its slices (each in its own
 * file; see state.ts). Middleware would be applied here only. A model load
 * resets what each slice declares it must.
 */
import { create } from 'zustand';
import { createDataSlice } from './dataSlice';
import { createEvaluationSlice } from './evaluationSlice';
import { createModelSlice } from './modelSlice';
import { createProjectSlice } from './projectSlice';
import { createPytorchSlice, PYTORCH_ON_MODEL_LOAD } from './pytorchSlice';
import { createRunSlice, RUN_ON_MODEL_LOAD } from './runSlice';
import type { StudioState } from './state';
import { createTrainSettingsSlice, TRAIN_SETTINGS_ON_MODEL_LOAD } from './trainSettingsSlice';
import { createWorkerSlice } from './workerSlice';

export type { StudioState } from './state';
export type { ModelOrigin, ModelSlice } from './modelSlice';
export { describeOrigin } from './modelSlice';
export type { ClassEdit, ClassEditCode, DataSlice, DatasetImage, DatasetRestore, DecodeTarget, IngestStatus, ShippedSample } from './dataSlice';
export { checkClassName, decodeTargetOf } from './dataSlice';
export type { TrainSettingsSlice } from './trainSettingsSlice';
export type { InterruptedRun, ReopenedRun, ResumedHistory, RunSettings, RunSlice, RunStart, RunStatus } from './runSlice';
export type { WorkerCrash, WorkerSlice } from './workerSlice';
export type { EvaluationSlice, EvaluationState, HeldOutSet } from './evaluationSlice';
export type { AutosaveStatus, OpenProject, ProjectAccess, ProjectSlice } from './projectSlice';
export type { PytorchRunImport, PytorchSlice } from './pytorchSlice';

/** What a model load resets in the other slices: the last run and its record, the history, schedules and multipliers of the old model's blocks. */
const ON_MODEL_LOAD: Partial<StudioState> = { ...RUN_ON_MODEL_LOAD, ...TRAIN_SETTINGS_ON_MODEL_LOAD, ...PYTORCH_ON_MODEL_LOAD };

/** Creates a fresh store (the app uses `useStudio`; tests make their own). */
export function createStudioStore() {
  return create<StudioState>()((...args) => ({
    ...createModelSlice(ON_MODEL_LOAD)(...args),
    ...createDataSlice(...args),
    ...createTrainSettingsSlice(...args),
    ...createRunSlice(...args),
    ...createWorkerSlice(...args),
    ...createEvaluationSlice(...args),
    ...createProjectSlice(...args),
    ...createPytorchSlice(...args),
  }));
}

/** The app's store. */
export const useStudio = createStudioStore();

/** The store's type, for code that receives a store to act on. */
export type StudioStore = ReturnType<typeof createStudioStore>;
