import { useId, useMemo, useState } from 'react';
import { studioClient } from '../app/studio';
import { TrainingCharts } from '../charts/TrainingCharts';
import type { LearningRateSchedule, OptimizerName } from '../core/types';
import { trainedOnWarning } from '../core/runRecords';
import { isRunActive, nextRunTraining, nextRunValidationTrainedOn, planSettingsError, trainBlocker } from '../store/selectors';
import { useStudio } from '../store/store';
import { NumberField } from './NumberField';
import { AugmentationSettings } from './train/AugmentationSettings';
import { RateMultipliers } from './train/RateMultipliers';
import { ScheduleEditor } from './train/ScheduleEditor';
import { formatCount } from '../core/format';

/** The settings of TrainConfig that are plain numbers. */
type NumericConfigKey = 'epochs' | 'batchSize' | 'learningRate' | 'seed';

/** A numeric training setting, bound to `config[field]`. */
function ConfigField({ label, field, min, max, step }: { label: string; field: NumericConfigKey; min: number; max: number; step: number | 'any' }) {
  const value = useStudio((s) => s.config[field]);
  const setConfig = useStudio((s) => s.setConfig);
  const running = useStudio((s) => isRunActive(s));
  return <NumberField label={label} value={value} onValue={(v) => setConfig({ [field]: v })} min={min} max={max} step={step} disabled={running} />;
}

/**
 * Epochs and the "Auto" checkbox beside it (on by default: engine/autoEpochs.ts). Typing a number turns
 * auto off, so a number typed is the number trained. The field's accessible name stays exactly "Epochs".
 */
function EpochsField() {
  const value = useStudio((s) => s.config.epochs);
  const setConfig = useStudio((s) => s.setConfig);
  const setAutoEpochs = useStudio((s) => s.setAutoEpochs);
  const running = useStudio((s) => isRunActive(s));
  return (
    // Any edit of the field turns auto off, even one that leaves the text as it was (React's onChange skips those).
    <div className="epochs-field" onInput={() => setAutoEpochs(false)}>
      <NumberField label="Epochs" value={value} onValue={(v) => setConfig({ epochs: v })} min={1} max={500} step={1} disabled={running} />
    </div>
  );
}

/** The "Auto" checkbox, on the line of the hint that says what it will do. */
function AutoEpochsField({ hintId }: { hintId: string }) {
  const auto = useStudio((s) => s.autoEpochs);
  const setAutoEpochs = useStudio((s) => s.setAutoEpochs);
  const running = useStudio((s) => isRunActive(s));
  return (
    <label className="field checkbox-field">
      <input type="checkbox" checked={auto} disabled={running} aria-describedby={hintId} onChange={(e) => setAutoEpochs(e.target.checked)} />
      <span>Auto</span>
    </label>
  );
}

function EpochsHint({ id }: { id: string }) {
  const next = useStudio((s) => nextRunTraining(s).explanation);
  const active = useStudio((s) => isRunActive(s));
  const running = useStudio((s) =>
    s.runSettings ? (s.runSettings.autoEpochs ?? `${s.runSettings.config.epochs} epoch${s.runSettings.config.epochs === 1 ? '' : 's'} as set.`) : null,
  );
  return (
    <p id={id} className="muted small epochs-hint">
      {active && running ? `This run — ${running}` : next}
    </p>
  );
}

/**
 * "N validation images were trained on by an earlier run": before a run that goes on from the last weights
 * (the split or the data moved images the weights saw into validation), and during it.
 */
function TrainedOnWarning() {
  const active = useStudio((s) => isRunActive(s));
  const during = useStudio((s) => s.runSettings?.validationTrainedOn ?? 0);
  const next = useStudio(nextRunValidationTrainedOn);
  const warning = trainedOnWarning(active ? during : next);
  if (!warning) return null;
  return (
    <ul className="notices" aria-label="Run warnings">
      <li className="warning">
        {warning}.{active ? '' : ' Tick “Start from the pretrained weights” for a fair figure.'}
      </li>
    </ul>
  );
}

const OPTIMIZERS: { value: OptimizerName; label: string }[] = [
  { value: 'adam', label: 'Adam' },
  { value: 'sgd', label: 'SGD' },
  { value: 'momentum', label: 'SGD with momentum' },
];

const SCHEDULES: { value: LearningRateSchedule; label: string }[] = [
  { value: 'constant', label: 'Constant' },
  { value: 'cosine', label: 'Cosine decay' },
  { value: 'one-cycle', label: 'One-cycle' },
];

/** Default patience shown before early stopping is first turned on. */
const DEFAULT_PATIENCE = 3;

/** Optimizer, learning-rate schedule and early stopping, folded away under "Advanced". */
function AdvancedSettings({ disabled }: { disabled: boolean }) {
  const config = useStudio((s) => s.config);
  const setConfig = useStudio((s) => s.setConfig);
  const [patience, setPatience] = useState(config.earlyStopping?.patience ?? DEFAULT_PATIENCE);
  const optimizerId = useId();
  const scheduleId = useId();
  const earlyOn = config.earlyStopping != null;
  const shownPatience = config.earlyStopping?.patience ?? patience;
  return (
    <details className="advanced-settings">
      <summary>Advanced</summary>
      <div className="train-controls">
        <label className="field" htmlFor={optimizerId}>
          <span>Optimizer</span>
          <select
            id={optimizerId}
            value={config.optimizer ?? 'adam'}
            disabled={disabled}
            onChange={(e) => setConfig({ optimizer: e.target.value as OptimizerName })}
          >
            {OPTIMIZERS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field" htmlFor={scheduleId}>
          <span>Learning-rate schedule</span>
          <select
            id={scheduleId}
            value={config.schedule ?? 'constant'}
            disabled={disabled}
            onChange={(e) => setConfig({ schedule: e.target.value as LearningRateSchedule })}
          >
            {SCHEDULES.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field checkbox-field">
          <input
            type="checkbox"
            checked={earlyOn}
            disabled={disabled}
            onChange={(e) => setConfig({ earlyStopping: e.target.checked ? { patience: shownPatience } : null })}
          />
          <span>Early stopping</span>
        </label>
        <NumberField
          label="Patience"
          value={shownPatience}
          onValue={(v) => {
            setPatience(v);
            if (earlyOn) setConfig({ earlyStopping: { patience: v } });
          }}
          min={1}
          max={100}
          step={1}
          disabled={disabled || !earlyOn}
        />
      </div>
      <p className="muted small">
        Early stopping ends the run when the validation loss has not improved for “patience” epochs, and keeps the weights of the best epoch. A stopped run also
        keeps its best weights.
      </p>
    </details>
  );
}

/** Pause / Resume: the run holds at its next batch boundary (the worker confirms, then the label flips). */
function PauseButton() {
  const runStatus = useStudio((s) => s.runStatus);
  const paused = useStudio((s) => s.paused);
  const running = runStatus === 'running';
  return (
    <button type="button" aria-pressed={paused} disabled={!running} onClick={() => (paused ? studioClient().resume() : studioClient().pause())}>
      {paused ? 'Resume' : 'Pause'}
    </button>
  );
}

/** While the run starts: the feature-cache build's progress; while it runs: paused, and the changes of the trainable set so far. */
function RunProgress() {
  const runStatus = useStudio((s) => s.runStatus);
  const cache = useStudio((s) => s.cacheProgress);
  const paused = useStudio((s) => s.paused);
  const changes = useStudio((s) => s.trainableChanges);
  const active = isRunActive({ runStatus });
  return (
    <div className="run-progress" role="status" aria-live="polite">
      {active && cache ? (
        <p className="small">
          Building the feature cache: {formatCount(cache.done)} of {formatCount(cache.total)} images
          <progress max={cache.total} value={cache.done} aria-label="Feature cache build" />
        </p>
      ) : null}
      {active && paused ? <p className="small">Paused at a batch boundary. Resume to go on, or Stop to keep the best weights.</p> : null}
      {changes.length ? (
        <ul className="small trainable-changes" aria-label="Changes of the trainable set">
          {changes.map((c) => (
            <li key={c.step}>
              Epoch {c.epoch + 1}, batch {c.batch + 1}: {c.cause === 'live' ? 'live change, ' : ''}
              {c.label} — new optimizer for {formatCount(c.trainableParams)} parameters
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** "Start from the pretrained weights": on (the default), every run starts from the loaded model and a new head, so runs compare. */
function FromPretrainedField({ disabled }: { disabled: boolean }) {
  const fromPretrained = useStudio((s) => s.config.fromPretrained !== false);
  const setConfig = useStudio((s) => s.setConfig);
  const hintId = useId();
  return (
    <div className="from-pretrained">
      <label className="field checkbox-field">
        <input
          type="checkbox"
          checked={fromPretrained}
          disabled={disabled}
          aria-describedby={hintId}
          onChange={(e) => setConfig({ fromPretrained: e.target.checked })}
        />
        <span>Start from the pretrained weights</span>
      </label>
      <p id={hintId} className="muted small">
        {fromPretrained
          ? 'Each run starts from the loaded model’s weights and a new head, so runs can be compared.'
          : 'The run goes on from the weights the last run left (its record says so).'}
      </p>
    </div>
  );
}

/** Train pane: the few settings that matter, Train / Pause / Stop, the run's progress and the live charts (the outcome is in the results pane). */
export function TrainPanel() {
  const runStatus = useStudio((s) => s.runStatus);
  const modelStatus = useStudio((s) => s.modelStatus);
  const backend = useStudio((s) => s.backend);
  const ingest = useStudio((s) => s.ingest);
  const images = useStudio((s) => s.images);
  const classNames = useStudio((s) => s.classNames);
  const model = useStudio((s) => s.model);
  const augmentation = useStudio((s) => s.config.augmentation);
  const decodedFor = useStudio((s) => s.decodedFor);
  const preprocessing = useStudio((s) => s.preprocessing);
  const blocker = useMemo(
    () => trainBlocker({ model, modelStatus, backend, ingest, images, classNames, decodedFor, preprocessing, config: { augmentation } }),
    [model, modelStatus, backend, ingest, images, classNames, decodedFor, preprocessing, augmentation],
  );
  const active = isRunActive({ runStatus });
  const settingsError = useStudio(planSettingsError);
  const refusal = useStudio((s) => s.trainRefusal);
  const crashed = useStudio((s) => s.workerCrash !== null);
  const hintId = useId();
  const reason = blocker ?? settingsError;

  return (
    <section className="pane panel train-panel" aria-labelledby="train-heading">
      <h2 id="train-heading">3 · Train</h2>
      <div className="train-controls">
        <EpochsField />
        <ConfigField label="Batch size" field="batchSize" min={1} max={1024} step={1} />
        <ConfigField label="Learning rate" field="learningRate" min={0.000001} max={1} step="any" />
      </div>
      <div className="epochs-auto">
        <AutoEpochsField hintId={hintId} />
        <EpochsHint id={hintId} />
      </div>
      <FromPretrainedField disabled={active} />
      <AdvancedSettings disabled={active} />
      <AugmentationSettings />
      <ScheduleEditor />
      <RateMultipliers />
      <div className="toolbar">
        <button type="button" className="primary" disabled={active || crashed || reason !== null} onClick={() => studioClient().train()}>
          Train
        </button>
        <PauseButton />
        <button type="button" disabled={!active || runStatus === 'stopping'} onClick={() => studioClient().stop()}>
          Stop
        </button>
        {reason && !active ? <span className="muted small">{reason}</span> : null}
        {refusal && refusal !== reason ? (
          <span className="error small" role="status">
            Not started: {refusal}
          </span>
        ) : null}
      </div>
      <TrainedOnWarning />
      <RunProgress />
      <TrainingCharts />
    </section>
  );
}
