import { useMemo } from 'react';
import { studioClient } from '../app/studio';
import { TrainingCharts } from '../charts/TrainingCharts';
import type { TrainConfig } from '../engine/types';
import { isRunActive, trainBlocker } from '../store/selectors';
import { useStudio } from '../store/store';
import { ExportButton } from './ExportButton';
import { NumberField } from './NumberField';
import { formatCount, formatDuration, formatPercent } from './format';

/** A numeric training setting, bound to `config[field]`. */
function ConfigField({ label, field, min, max, step }: { label: string; field: keyof TrainConfig; min: number; max: number; step: number | 'any' }) {
  const value = useStudio((s) => s.config[field]);
  const setConfig = useStudio((s) => s.setConfig);
  const running = useStudio((s) => isRunActive(s));
  return <NumberField label={label} value={value} onValue={(v) => setConfig({ [field]: v })} min={min} max={max} step={step} disabled={running} />;
}

function Outcome() {
  const status = useStudio((s) => s.runStatus);
  const outcome = useStudio((s) => s.runOutcome);
  const error = useStudio((s) => s.runError);
  const setup = useStudio((s) => s.runSetup);
  const epochs = useStudio((s) => s.epochs);
  const perEpoch = epochs.length ? epochs.reduce((sum, e) => sum + e.millis, 0) / epochs.length : null;
  if (status === 'failed' && error) return <p className="error" role="alert">{error}</p>;
  if (status !== 'done' || !outcome) return null;
  return (
    <div className="outcome">
      {outcome.validationAccuracy !== null ? (
        <p className="big-number">Validation accuracy: {formatPercent(outcome.validationAccuracy)}</p>
      ) : (
        <p>No validation images: add more images per class to measure accuracy.</p>
      )}
      <p className="muted small">
        {outcome.stopped ? 'Stopped' : 'Finished'} after {outcome.epochsCompleted} full epoch{outcome.epochsCompleted === 1 ? '' : 's'} ({formatCount(outcome.batches)} batches)
        {perEpoch !== null ? `, ${formatDuration(perEpoch)} per epoch` : ''}
        {setup ? ` on ${setup.backend}; the optimizer updated ${setup.optimizerVariables.length} variables (${formatCount(setup.trainableParams)} parameters).` : '.'}
      </p>
    </div>
  );
}

/** Right column: the few settings that matter, Train / Stop, the live charts and the outcome. */
export function TrainPanel() {
  const runStatus = useStudio((s) => s.runStatus);
  const modelStatus = useStudio((s) => s.modelStatus);
  const backend = useStudio((s) => s.backend);
  const ingest = useStudio((s) => s.ingest);
  const images = useStudio((s) => s.images);
  const classNames = useStudio((s) => s.classNames);
  const model = useStudio((s) => s.model);
  const blocker = useMemo(
    () => trainBlocker({ model, modelStatus, backend, ingest, images, classNames }),
    [model, modelStatus, backend, ingest, images, classNames],
  );
  const active = isRunActive({ runStatus });

  return (
    <section className="panel train-panel" aria-labelledby="train-heading">
      <h2 id="train-heading">3 · Train</h2>
      <div className="train-controls">
        <ConfigField label="Epochs" field="epochs" min={1} max={500} step={1} />
        <ConfigField label="Batch size" field="batchSize" min={1} max={1024} step={1} />
        <ConfigField label="Learning rate" field="learningRate" min={0.000001} max={1} step="any" />
      </div>
      <div className="toolbar">
        <button type="button" className="primary" disabled={active || blocker !== null} onClick={() => studioClient().train()}>
          Train
        </button>
        <button type="button" disabled={!active || runStatus === 'stopping'} onClick={() => studioClient().stop()}>
          Stop
        </button>
        {blocker && !active ? <span className="muted small">{blocker}</span> : null}
      </div>
      <TrainingCharts />
      <Outcome />
      <ExportButton />
    </section>
  );
}
