import { useId } from 'react';
import { headOnlyPlan } from '../../core/presets';
import { formatFactor, gradualRecipe, inferenceModeForUnfrozen, twoPhaseRecipe, type ScheduleDraftStep } from '../../core/unfreezeSchedule';
import type { BatchNormOverrides } from '../../core/types';
import { useRunBlocks } from '../../store/hooks';
import { isRunActive, planSettingsError } from '../../store/selectors';
import { useStudio } from '../../store/store';
import { NumberField } from '../NumberField';

/** Learning-rate factors a step can set; '' keeps the factor in force. */
const FACTORS = [1, 0.3, 0.1, 0.03, 0.01];

/** One row of the editor: "At epoch [n] unfreeze from [block] and up, learning rate [factor]", with Remove. */
function StepRow({
  step,
  index,
  blocks,
  epochs,
  disabled,
  onChange,
  onRemove,
}: {
  step: ScheduleDraftStep;
  index: number;
  blocks: string[];
  epochs: number;
  disabled: boolean;
  onChange(step: ScheduleDraftStep): void;
  onRemove(): void;
}) {
  const blockId = useId();
  const factorId = useId();
  const n = index + 1;
  return (
    <li className="schedule-step" aria-label={`Schedule step ${n}`}>
      <NumberField
        label={`Step ${n}: at epoch`}
        value={step.epoch}
        onValue={(epoch) => onChange({ ...step, epoch })}
        min={2}
        max={Math.max(2, epochs)}
        step={1}
        disabled={disabled}
      />
      <label className="field" htmlFor={blockId}>
        <span>Step {n}: unfreeze from</span>
        <select id={blockId} value={step.fromBlock} disabled={disabled} onChange={(e) => onChange({ ...step, fromBlock: e.target.value })}>
          {blocks.includes(step.fromBlock) ? null : <option value={step.fromBlock}>{step.fromBlock} (not in this model)</option>}
          {blocks.map((label) => (
            <option key={label} value={label}>
              {label} and up
            </option>
          ))}
        </select>
      </label>
      <label className="field" htmlFor={factorId}>
        <span>Step {n}: learning rate</span>
        <select
          id={factorId}
          value={step.learningRateFactor === null ? '' : String(step.learningRateFactor)}
          disabled={disabled}
          onChange={(e) => onChange({ ...step, learningRateFactor: e.target.value === '' ? null : Number(e.target.value) })}
        >
          <option value="">unchanged</option>
          {FACTORS.map((f) => (
            <option key={f} value={String(f)}>
              {formatFactor(f)} base rate
            </option>
          ))}
        </select>
      </label>
      <button type="button" disabled={disabled} onClick={onRemove} aria-label={`Remove schedule step ${n}`}>
        Remove
      </button>
    </li>
  );
}

/**
 * The unfreezing schedule: the two recipes one click away (each also sets
 * the plan to "train head only", where both start), and an editor of steps.
 * The schedule is resolved to layer names when Train is pressed.
 */
export function ScheduleEditor() {
  const steps = useStudio((s) => s.scheduleSteps);
  const setSteps = useStudio((s) => s.setScheduleSteps);
  const setFreezePlan = useStudio((s) => s.setFreezePlan);
  const setBatchNormModes = useStudio((s) => s.setBatchNormModes);
  const epochs = useStudio((s) => s.config.epochs);
  const running = useStudio((s) => isRunActive(s));
  const blocks = useRunBlocks();
  // The first problem with the schedule (or the per-block rates), as Train will refuse it.
  const error = useStudio(planSettingsError);
  const labels = blocks.map((b) => b.label);
  const disabled = running || blocks.length === 0;
  const applyRecipe = (recipe: ScheduleDraftStep[], batchNormModes: BatchNormOverrides = {}) => {
    setFreezePlan(headOnlyPlan(blocks));
    setBatchNormModes(batchNormModes);
    setSteps(recipe);
  };
  const applyTwoPhase = () => {
    const recipe = twoPhaseRecipe(blocks, epochs);
    // Keras: the unfrozen blocks' BatchNorm layers stay in inference mode (they train gamma and beta only).
    applyRecipe(recipe, inferenceModeForUnfrozen(blocks, useStudio.getState().model?.layers ?? [], recipe));
  };
  const lastEpoch = steps.reduce((m, s) => Math.max(m, s.epoch), 1);
  return (
    <details className="schedule-editor" open={steps.length > 0 || undefined}>
      <summary>Unfreezing schedule{steps.length ? ` (${steps.length} step${steps.length === 1 ? '' : 's'})` : ''}</summary>
      <p className="muted small">
        Change what trains during the run. Each step unfreezes a block and every block above it at the start of an epoch; the charts mark it.
      </p>
      <div className="toolbar">
        <button type="button" disabled={disabled || epochs < 2} onClick={applyTwoPhase}>
          Two-phase (Keras)
        </button>
        <button type="button" disabled={disabled || epochs < 2} onClick={() => applyRecipe(gradualRecipe(blocks, epochs))}>
          Gradual unfreezing (ULMFiT)
        </button>
        <button
          type="button"
          disabled={disabled || epochs < 2}
          onClick={() => setSteps([...steps, { epoch: Math.min(epochs, lastEpoch + 1), fromBlock: labels[labels.length - 1], learningRateFactor: null }])}
        >
          Add step
        </button>
        <button type="button" disabled={disabled || steps.length === 0} onClick={() => setSteps([])}>
          Clear schedule
        </button>
      </div>
      <p className="muted small">
        Two-phase: train the head for the first half, then unfreeze the top blocks at a tenth of the learning rate, their BatchNorm layers kept in inference
        mode (they train γ and β on their moving statistics, as the Keras fine-tuning guide does). Gradual: unfreeze one more block from the top at every epoch.
        Both start from “Train head only”.
      </p>
      {steps.length ? (
        <ol className="schedule-steps" aria-label="Schedule steps">
          {steps.map((step, i) => (
            <StepRow
              key={i}
              step={step}
              index={i}
              blocks={labels}
              epochs={epochs}
              disabled={disabled}
              onChange={(next) => setSteps(steps.map((s, j) => (j === i ? next : s)))}
              onRemove={() => setSteps(steps.filter((_, j) => j !== i))}
            />
          ))}
        </ol>
      ) : null}
      {error ? (
        <p className="error small" role="alert">
          {error}
        </p>
      ) : null}
    </details>
  );
}
