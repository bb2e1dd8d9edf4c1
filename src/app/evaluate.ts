/**
 * Evaluation after a run: the worker predicts the images the run held out (validation, then test),
 * and the probabilities go into the store; metrics are derived from them in the panel.
 */
import type { StudioClient } from '../client/studioClient';
import { packImages } from '../data/pixels';
import type { ImageShape } from '../data/types';
import type { HeldOutSet, StudioStore } from '../store/store';

/** Whether the last run's evaluation can start now: it ended (status 'done') and its evaluation waits or failed. */
export function canEvaluate(state: ReturnType<StudioStore['getState']>): boolean {
  const evaluation = state.evaluation;
  return state.runStatus === 'done' && !!evaluation && evaluation.runId === state.runId && (evaluation.status === 'pending' || evaluation.status === 'failed');
}

/**
 * Predicts the held-out sets of the last run and stores the probabilities (or why it failed). Does
 * nothing unless `canEvaluate`. Results for a run that was replaced meanwhile are dropped by the store.
 */
export async function evaluateLastRun(client: StudioClient, store: StudioStore): Promise<void> {
  const state = store.getState();
  if (!canEvaluate(state) || !state.model) return;
  const evaluation = state.evaluation!;
  const { runId } = evaluation;
  const shape: ImageShape = { ...state.model.inputShape, channels: state.model.inputShape.channels === 3 ? 3 : 1 };
  state.evaluationStarted(runId);
  const predict = async (set: HeldOutSet | null): Promise<Float32Array | null> => {
    if (!set) return null;
    const pixels = packImages(set.images.map((image) => image.pixels), shape);
    const { probabilities, numClasses } = await client.predict({ pixels, labels: new Int32Array(set.images.length), shape });
    if (numClasses !== evaluation.classNames.length) {
      throw new Error(`The model answered ${numClasses} classes, but the run had ${evaluation.classNames.length}. Train again.`);
    }
    return probabilities;
  };
  try {
    const validation = await predict(evaluation.validation);
    const test = await predict(evaluation.test);
    store.getState().evaluationFinished(runId, { validation, test });
  } catch (error) {
    store.getState().evaluationFailed(runId, `Evaluation failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
