/**
 * The whole studio state: one type made of the slices, each in its own file
 * (zustand's slices pattern). Types only: the slices import it, store.ts
 * composes them.
 */
import type { DataSlice } from './dataSlice';
import type { EvaluationSlice } from './evaluationSlice';
import type { ModelSlice } from './modelSlice';
import type { PytorchSlice } from './pytorchSlice';
import type { ProjectSlice } from './projectSlice';
import type { RunSlice } from './runSlice';
import type { TrainSettingsSlice } from './trainSettingsSlice';
import type { WorkerSlice } from './workerSlice';

/** Model, data, training settings, the run, the worker, the evaluation and the open project. */
export type StudioState = ModelSlice & DataSlice & TrainSettingsSlice & RunSlice & WorkerSlice & EvaluationSlice & ProjectSlice & PytorchSlice;
