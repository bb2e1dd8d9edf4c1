/** The evaluation slice: the images the last run held out, and their probabilities once predicted. */
import type { StateCreator } from 'zustand';
import type { DatasetImage } from './dataSlice';
import type { StudioState } from './state';

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
  /** 'pending' until the worker's predictions arrive (right before the run's end). */
  status: 'pending' | 'done' | 'failed';
  validation: HeldOutSet | null;
  test: HeldOutSet | null;
  error: string | null;
}

/** Evaluation of the last run: prepared when it starts, filled in after it ends; cleared by a model load. */
export interface EvaluationSlice {
  evaluation: EvaluationState | null;
  /** Records the held-out sets of run `runId` (replacing any earlier evaluation); they are predicted after the run ends. */
  evaluationPrepared(runId: number, validation: Omit<HeldOutSet, 'probabilities'> | null, test: Omit<HeldOutSet, 'probabilities'> | null): void;
  /** Stores the probabilities of each held-out set; ignored when `runId` is not the evaluation's run. */
  evaluationFinished(runId: number, probabilities: { validation: Float32Array | null; test: Float32Array | null }): void;
  evaluationFailed(runId: number, message: string): void;
}

/** The evaluation slice (its classes are the run's: runSettings.classNames). */
export const createEvaluationSlice: StateCreator<StudioState, [], [], EvaluationSlice> = (set) => {
  const ofRun = (runId: number, update: (e: EvaluationState) => Partial<EvaluationState>) =>
    set((s) => (s.evaluation?.runId === runId ? { evaluation: { ...s.evaluation, ...update(s.evaluation) } } : {}));
  return {
    evaluation: null,
    evaluationPrepared: (runId, validation, test) =>
      set({
        evaluation: {
          runId,
          status: 'pending',
          validation: validation && { ...validation, probabilities: null },
          test: test && { ...test, probabilities: null },
          error: null,
        },
      }),
    evaluationFinished: (runId, probabilities) =>
      ofRun(runId, (e) => ({
        status: 'done',
        validation: e.validation && { ...e.validation, probabilities: probabilities.validation },
        test: e.test && { ...e.test, probabilities: probabilities.test },
      })),
    evaluationFailed: (runId, message) => ofRun(runId, () => ({ status: 'failed', error: message })),
  };
};
