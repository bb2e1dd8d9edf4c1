/**
 * The worker's requests about the models it holds rather than a run: export (the last run's model, or the
 * transfer model without a run), the source weights as loaded, saved weights put back, and prediction.
 */
import { cutCandidates } from '../engine/head';
import type { WireImageSet, WorkerRequest } from './protocol';
import { toWireError } from './wire';
import type { WorkerContext } from './workerContext';

/** Why the last run's model cannot be used for `action` now, or null. */
function modelRefusal(ctx: WorkerContext, action: string): { name: string; message: string } | null {
  if (ctx.active) return { name: 'Busy', message: `Run ${ctx.active.runId} is still in progress; wait for it to end (or stop it), then ${action}.` };
  if (!ctx.models.transfer)
    return { name: 'NoTrainedModel', message: `No model has been trained since this model was loaded. Press Train, let the run end, then ${action}.` };
  return null;
}

export async function exportModel(ctx: WorkerContext, requestId: number): Promise<void> {
  const refusal = modelRefusal(ctx, 'export');
  if (refusal) return ctx.post({ type: 'requestFailed', requestId, error: refusal });
  try {
    const artifacts = await ctx.models.exportModel();
    ctx.post({ type: 'modelExported', requestId, artifacts }, [artifacts.weightData]);
  } catch (error) {
    ctx.post({ type: 'requestFailed', requestId, error: toWireError(error) });
  }
}

export async function exportTransfer(ctx: WorkerContext, msg: Extract<WorkerRequest, { type: 'exportTransfer' }>): Promise<void> {
  const { requestId } = msg;
  const fail = (name: string, message: string) => ctx.post({ type: 'requestFailed', requestId, error: { name, message } });
  if (ctx.active) return fail('Busy', `Run ${ctx.active.runId} is still in progress; wait for it to end (or stop it), then export.`);
  if (!ctx.models.loaded) return fail('NoModel', 'No model is loaded yet.');
  if (!cutCandidates(ctx.models.loaded.model).includes(msg.model.cutLayer))
    return fail(
      'BadRequest',
      `The cut layer '${msg.model.cutLayer}' is not a layer of model '${ctx.models.loaded.model.name}' with a single output. Pick a cut layer from the list.`,
    );
  try {
    const { weightsFrom, ...artifacts } = await ctx.models.exportTransfer(msg.model);
    ctx.post({ type: 'transferExported', requestId, artifacts, weightsFrom }, [artifacts.weightData]);
  } catch (error) {
    ctx.post({ type: 'requestFailed', requestId, error: toWireError(error) });
  }
}

export function readSourceWeights(ctx: WorkerContext, requestId: number): void {
  if (!ctx.models.loaded) return ctx.post({ type: 'requestFailed', requestId, error: { name: 'NoModel', message: 'No model is loaded yet.' } });
  const weights = ctx.models.sourceWeights();
  ctx.post({ type: 'sourceWeights', requestId, sourceHash: ctx.models.loaded.sourceHash, weights }, [weights.weightData]);
}

export async function setWeights(ctx: WorkerContext, msg: Extract<WorkerRequest, { type: 'setWeights' }>): Promise<void> {
  const { requestId } = msg;
  const fail = (name: string, message: string) => ctx.post({ type: 'requestFailed', requestId, error: { name, message } });
  if (ctx.active) return fail('Busy', `Run ${ctx.active.runId} is still in progress; wait for it to end (or stop it), then reopen the saved weights.`);
  if (!ctx.models.loaded) return fail('NoModel', 'No model is loaded yet.');
  const { cutLayer, classNames } = msg.model;
  if (!cutCandidates(ctx.models.loaded.model).includes(cutLayer))
    return fail('BadRequest', `The saved weights were trained with cut layer '${cutLayer}', which model '${ctx.models.loaded.model.name}' does not offer.`);
  if (classNames.length < 2) return fail('BadRequest', `The saved weights have ${classNames.length} class(es); a trained model has at least two.`);
  try {
    await ctx.models.setWeights(msg.model, msg.weights, msg.complete);
    ctx.audit.reset();
    ctx.post({ type: 'weightsSet', requestId });
  } catch (error) {
    ctx.post({ type: 'requestFailed', requestId, error: toWireError(error) });
  }
}

export async function predict(ctx: WorkerContext, requestId: number, images: WireImageSet): Promise<void> {
  const refusal = modelRefusal(ctx, 'predict');
  if (refusal) return ctx.post({ type: 'requestFailed', requestId, error: refusal });
  try {
    const { probabilities, numClasses } = await ctx.models.predict(images.pixels, images.shape);
    ctx.post({ type: 'predictions', requestId, probabilities, numClasses }, [probabilities.buffer]);
  } catch (error) {
    ctx.post({ type: 'requestFailed', requestId, error: toWireError(error) });
  }
}
