/**
 * The last run of a project: what a save keeps of it (the settings it started with, the worker's setup,
 * how it ended, the evaluation's probabilities) and how a reopen puts it back — the trained weights into
 * the worker (setWeights), the run into the store as the last run, the evaluation on the images as they
 * were added again (matched by content: an image's id changes when it is decoded again).
 */
import type { ModelArtifactsWire } from '../core/exportModelFiles';
import type { ProjectEvaluation, ProjectHeldOut, ProjectImage, ProjectLastRun, ProjectRunSetup, ProjectSnapshot } from '../core/project';
import { float32Bytes, TEST_PROBABILITIES_PART, VALIDATION_PROBABILITIES_PART, WEIGHTS_BIN_PART, WEIGHTS_MODEL_JSON_PART } from '../core/projectParts';
import { artifactsOfWeightParts } from '../core/projectWeights';
import type { RunSetup } from '../worker/protocol';
import { useStudio, type DatasetImage, type HeldOutSet, type StudioState } from '../store/store';
import { studioClient } from './studio';

/** The worker's setup as a project keeps it: without the backend figures (the run's record has them). */
function setupOf(setup: RunSetup | null): ProjectRunSetup | null {
  if (!setup) return null;
  const { backendProbes: _figures, ...kept } = setup;
  return kept;
}

/** The run the held weights end, when the last run is done; null otherwise. */
export function lastRunOf(state: StudioState): ProjectLastRun | null {
  if (state.runStatus !== 'done' || !state.runSettings || !state.runOutcome) return null;
  const { stopped, epochsCompleted, batches, validationLoss, validationAccuracy, stoppedEarly, restoredEpoch, failure, endNote } = state.runOutcome;
  return {
    settings: state.runSettings,
    setup: setupOf(state.runSetup),
    outcome: { stopped, epochsCompleted, batches, validationLoss, validationAccuracy, stoppedEarly, restoredEpoch, failure, endNote },
  };
}

/** The finished evaluation of the last run with its probability parts; null while pending or when there is none. */
export function evaluationOf(state: StudioState, parts: Map<string, Uint8Array>): ProjectEvaluation | null {
  const evaluation = state.evaluation;
  if (!evaluation || evaluation.status === 'pending' || evaluation.runId !== state.runId || !state.runSettings) return null;
  const heldOut = (set: HeldOutSet | null, part: string): ProjectHeldOut | null => {
    if (!set) return null;
    let probabilities: ProjectHeldOut['probabilities'] = null;
    if (set.probabilities) {
      const bytes = float32Bytes(set.probabilities);
      parts.set(part, bytes);
      probabilities = { part, bytes: bytes.length };
    }
    return { imageIds: set.images.map((image) => image.id), labels: Array.from(set.labels), probabilities };
  };
  return {
    runId: evaluation.runId,
    status: evaluation.status,
    classNames: state.runSettings.classNames,
    validation: heldOut(evaluation.validation, VALIDATION_PROBABILITIES_PART),
    test: heldOut(evaluation.test, TEST_PROBABILITIES_PART),
    error: evaluation.error,
  };
}

/** How an image is found again after a reopen: by content within its class (a file), or by path (the built-in sample's). */
function matchKey(image: { className: string; path: string; hash?: string | null }): string {
  return image.hash ? `${image.className}\u0000${image.hash}` : `path\u0000${image.path}`;
}

/** Saved image id → the image as it is in the studio now (re-added, with a new id); images not added again are left out. */
function imagesNow(saved: readonly ProjectImage[], now: readonly DatasetImage[]): Map<number, DatasetImage> {
  const byKey = new Map<string, DatasetImage>();
  for (const image of now) if (!byKey.has(matchKey(image))) byKey.set(matchKey(image), image);
  const out = new Map<number, DatasetImage>();
  for (const image of saved) {
    const found = byKey.get(matchKey(image));
    if (found) out.set(image.id, found);
  }
  return out;
}

/** A held-out set back on today's images, or null when one of its images is gone (the metrics would be of other images). */
function heldOutNow(set: ProjectHeldOut | null, ids: Map<number, DatasetImage>, parts: ReadonlyMap<string, Uint8Array>): HeldOutSet | null {
  if (!set) return null;
  const images = set.imageIds.map((id) => ids.get(id));
  if (images.some((image) => image === undefined)) return null;
  const bytes = set.probabilities ? parts.get(set.probabilities.part) : undefined;
  const probabilities = bytes ? new Float32Array(bytes.slice().buffer) : null;
  return { images: images as DatasetImage[], labels: Int32Array.from(set.labels), probabilities };
}

/** What reopenLastRun did, in words for the status line (empty when the project had no trained weights). */
export type LastRunOutcome = { reopened: boolean; note: string };

/**
 * Puts the project's last run back: its trained weights into the worker (built for the run's cut, head,
 * classes and plan), the run as the studio's last one (Export, Predict and the evaluation work without
 * training again), and its evaluation when every held-out image came back. Never throws: a refusal is the note.
 */
export async function reopenLastRun(snapshot: ProjectSnapshot, parts: ReadonlyMap<string, Uint8Array>): Promise<LastRunOutcome> {
  const { weights } = snapshot;
  if (!weights) return { reopened: false, note: '' };
  const record = snapshot.runs.find((run) => run.runId === weights.runId);
  if (!weights.run || !record || !snapshot.model?.cutLayer)
    return { reopened: false, note: ' Its trained weights were saved by an older studio without their run: train again to export, evaluate or predict.' };
  const read = artifactsOfWeightParts(parts.get(WEIGHTS_MODEL_JSON_PART)!, parts.get(WEIGHTS_BIN_PART)!);
  if (!read.ok) return { reopened: false, note: ` Its trained weights were not reopened: ${read.reason}` };
  const { settings, setup, outcome } = weights.run;
  const artifacts: ModelArtifactsWire = read.artifacts;
  try {
    await studioClient().setWeights(
      {
        cutLayer: snapshot.model.cutLayer,
        classNames: settings.classNames,
        head: settings.head,
        plan: setup?.appliedPlan ?? settings.freezePlan,
        batchNormOverrides: setup?.batchNormOverrides ?? {},
        preprocessing: settings.preprocessing,
        config: settings.config,
      },
      { weightSpecs: artifacts.weightSpecs, weightData: artifacts.weightData },
      true,
    );
  } catch (error) {
    return { reopened: false, note: ` Its trained weights were not reopened: ${(error as Error).message} Train again to export, evaluate or predict.` };
  }
  const ids = imagesNow(snapshot.dataset.images, useStudio.getState().images);
  const trainedOnIds = weights.trainedOnIds.flatMap((id) => (ids.has(id) ? [ids.get(id)!.id] : []));
  useStudio.getState().runReopened({
    runId: weights.runId,
    settings,
    setup,
    outcome,
    epochs: record.epochs,
    batchPoints: [],
    trainableChanges: record.trainableChanges,
    trainedOnIds,
  });
  return { reopened: true, note: restoreEvaluation(snapshot, parts, ids) };
}

/** The saved evaluation back on today's images; the note says when it could not be. */
function restoreEvaluation(snapshot: ProjectSnapshot, parts: ReadonlyMap<string, Uint8Array>, ids: Map<number, DatasetImage>): string {
  const saved = snapshot.evaluation;
  if (!saved || saved.runId !== snapshot.weights?.runId) return ' The trained weights are back (Export, Predict); evaluate by training again.';
  const validation = heldOutNow(saved.validation, ids, parts);
  const test = heldOutNow(saved.test, ids, parts);
  if ((saved.validation && !validation) || (saved.test && !test))
    return ' The trained weights are back (Export, Predict); the evaluation was not, since some of its images were not added again.';
  const state = useStudio.getState();
  state.evaluationPrepared(saved.runId, validation, test);
  if (saved.status === 'failed') state.evaluationFailed(saved.runId, saved.error ?? 'The evaluation failed.');
  else state.evaluationFinished(saved.runId, { validation: validation?.probabilities ?? null, test: test?.probabilities ?? null });
  return ' The trained weights and the evaluation are back.';
}
