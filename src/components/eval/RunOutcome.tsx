import type { TrainableChange } from '../../core/types';
import { useStudio } from '../../store/store';
import type { FeatureCacheUse, RunOutcome as Outcome, RunSetup } from '../../worker/protocol';
import { formatCount, formatDuration, formatPercent } from '../../core/format';

/** "Stopped early after epoch 7 (…); the weights of epoch 4 (best validation loss) were kept." and the like. */
function endSentence(outcome: Outcome, patience: number | null): string | null {
  const kept = outcome.restoredEpoch;
  if (outcome.stoppedEarly && kept != null) {
    const wait = patience !== null ? ` (no better validation loss for ${patience} epoch${patience === 1 ? '' : 's'})` : '';
    return `Stopped early after epoch ${outcome.epochsCompleted}${wait}; the weights of epoch ${kept} (best validation loss) were kept.`;
  }
  if (outcome.endNote) return `${outcome.endNote}${kept != null && kept > 0 ? ` The weights of epoch ${kept} were kept.` : ''}`;
  if (outcome.stopped && kept != null && kept > 0 && outcome.validationAccuracy !== null) {
    return `Stopped; the weights of epoch ${kept} (best validation loss) were kept.`;
  }
  // Early stopping on: a run that used all its epochs still ends on its best epoch.
  if (patience !== null && !outcome.stopped && kept != null && kept > 0 && kept < outcome.epochsCompleted) {
    return `Finished all ${outcome.epochsCompleted} epochs; the weights of epoch ${kept} (best validation loss) were kept.`;
  }
  return null;
}

/** One line on the feature cache of the run (TFJS-FACTS #5, #19). */
function featureCacheLine(cache: FeatureCacheUse, firstChange?: TrainableChange): string {
  if (!cache.used) return `Feature cache: not used${cache.reason ? `: ${cache.reason}` : ''}.`;
  const on = cache.backend ? ` on ${cache.backend}` : '';
  const probed =
    cache.probes && cache.probes.length > 1
      ? `; forward pass per image: ${cache.probes.map((p) => `${p.backend} ${p.msPerImage === null ? 'could not run' : `${p.msPerImage.toFixed(p.msPerImage < 10 ? 2 : 0)} ms`}`).join(', ')}`
      : '';
  const how =
    cache.built && cache.millis !== null ? `built${on} in ${formatDuration(cache.millis)} (${formatCount(cache.images ?? 0)} images${probed})` : 'reused';
  const until = firstChange ? ` while everything below it was frozen (until epoch ${firstChange.epoch + 1}, batch ${firstChange.batch + 1})` : '';
  return `Feature cache: ${how}, head trained on cached features${until}.`;
}

/** What the optimizer held: the run's one set, or the last of several (after schedule steps or live changes). */
function optimizerWords(setup: RunSetup, changes: readonly TrainableChange[]): string {
  const last = changes[changes.length - 1];
  if (!last) return `the optimizer updated ${setup.optimizerVariables.length} variables (${formatCount(setup.trainableParams)} parameters)`;
  const times = changes.length === 1 ? 'once' : `${changes.length} times`;
  return `the trainable set changed ${times}; the last optimizer updated ${last.optimizerVariables.length} variables (${formatCount(last.trainableParams)} parameters)`;
}

/** The last run's outcome: how it ended, its validation accuracy, its speed, backend, optimizer and feature cache; or its error. */
export function RunOutcome() {
  const status = useStudio((s) => s.runStatus);
  const outcome = useStudio((s) => s.runOutcome);
  const error = useStudio((s) => s.runError);
  const setup = useStudio((s) => s.runSetup);
  const epochs = useStudio((s) => s.epochs);
  const changes = useStudio((s) => s.trainableChanges);
  const patience = useStudio((s) => s.runSettings?.config.earlyStopping?.patience ?? null);
  const trainedOn = useStudio((s) => s.runSettings?.validationTrainedOn ?? 0);
  const perEpoch = epochs.length ? epochs.reduce((sum, e) => sum + e.millis, 0) / epochs.length : null;
  if (status === 'failed' && error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (status !== 'done' || !outcome) return null;
  const ending = endSentence(outcome, patience);
  return (
    <div className="outcome">
      {outcome.failure ? (
        <p className="error" role="alert">
          {outcome.failure}
        </p>
      ) : null}
      {ending ? <p className="run-ending">{ending}</p> : null}
      {outcome.validationAccuracy !== null ? (
        <>
          <p className="big-number">Validation accuracy: {formatPercent(outcome.validationAccuracy)}</p>
          {trainedOn > 0 ? (
            <p className="small trained-on">
              Optimistic: {formatCount(trainedOn)} of these validation images {trainedOn === 1 ? 'was' : 'were'} trained on by an earlier run (the run went on
              from its weights).
            </p>
          ) : null}
        </>
      ) : (
        <p>No validation images: add more images per class to measure accuracy.</p>
      )}
      <p className="muted small">
        {outcome.stopped ? 'Stopped' : 'Finished'} after {outcome.epochsCompleted} full epoch{outcome.epochsCompleted === 1 ? '' : 's'} (
        {formatCount(outcome.batches)} batches)
        {perEpoch !== null ? `, ${formatDuration(perEpoch)} per epoch` : ''}
        {setup ? ` on ${setup.backend}; ${optimizerWords(setup, changes)}.` : '.'}
      </p>
      {setup?.featureCache ? <p className="muted small feature-cache">{featureCacheLine(setup.featureCache, changes[0])}</p> : null}
    </div>
  );
}
