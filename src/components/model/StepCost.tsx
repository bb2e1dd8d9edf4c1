import { useId, useMemo } from 'react';
import { cachedFeaturesBlocker } from '../../core/autoEpochs';
import { formatCount, formatDuration } from '../../core/format';
import {
  cheaperOn,
  costModelOf,
  estimateStepCost,
  estimateStepTime,
  FLOPS_ONLY,
  formatBytes,
  formatFlops,
  OPTIMIZER_SLOTS,
  scheduleStepCosts,
  timedStepOfRun,
  type StepCost as Cost,
  type TimedStep,
} from '../../core/stepCost';
import type { LayerInfo, OptimizerName } from '../../core/types';
import { useTransferLayers } from '../../store/hooks';
import { nextRunSplit, nextRunTraining, runPlanSettings, transferLayers } from '../../store/selectors';
import type { StudioState } from '../../store/state';
import { useStudio } from '../../store/store';

const OPTIMIZER_NAMES: Record<OptimizerName, string> = { adam: 'Adam', momentum: 'momentum', sgd: 'SGD' };

/** "0.42 ms", "3.1 ms", "850 ms", "12.3 s": a step on cached features lasts well under a millisecond. */
function formatTime(ms: number): string {
  return ms < 1 ? `${ms.toFixed(2)} ms` : ms < 10 ? `${ms.toFixed(1)} ms` : formatDuration(ms);
}

/** "2.99×", "36.3×", "1,234×". */
export function formatTimes(ratio: number): string {
  return `${ratio < 10 ? ratio.toFixed(2) : ratio < 100 ? ratio.toFixed(1) : formatCount(Math.round(ratio))}×`;
}

type RunState = Pick<StudioState, 'model' | 'cutLayer' | 'epochs' | 'runSettings' | 'runSetup' | 'trainableChanges'>;

/** The last run's step as timed on this machine (its median epoch before any change of the trainable set), with what that step cost. */
function lastTimedStep(state: RunState): TimedStep | null {
  const { runSettings: settings, runSetup: setup } = state;
  if (!settings || !setup || state.epochs.length === 0) return null;
  const firstChange = state.trainableChanges[0]?.epoch ?? null;
  const msPerStep = timedStepOfRun(state.epochs, settings.batchesPerEpoch, firstChange);
  if (msPerStep === null) return null;
  const layers = transferLayers({ model: state.model, cutLayer: state.cutLayer, classNames: settings.classNames, head: settings.head });
  const cached = setup.featureCache?.used === true;
  const cost = estimateStepCost({
    layers,
    plan: setup.appliedPlan ?? settings.freezePlan,
    batchNormOverrides: setup.batchNormOverrides,
    rateMultipliers: setup.config?.rateMultipliers,
    batchSize: settings.config.batchSize,
    cached,
  });
  return { msPerStep, work: cost, batchSize: settings.config.batchSize, cached, backend: setup.backend };
}

function Figure({ term, value, testId }: { term: string; value: string; testId: string }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

/** What the estimate says in a sentence: where backprop stops, or that the step is the head on cached features. */
function costNote(cost: Cost, rows: readonly LayerInfo[]): string {
  if (cost.cached) {
    return `The head trains on cached features: a step costs only the head. The frozen layers run once per image to build the cache (${formatFlops(cost.cacheBuildFlops)} per image).`;
  }
  if (cost.lowestTrainable === null) return 'Nothing trains.';
  const below = rows.findIndex((row) => row.name === cost.lowestTrainable);
  return below > 0
    ? `Backprop stops at ‘${cost.lowestTrainable}’: the ${formatCount(below)} layers below it run forward only.`
    : `Backprop runs down to the first layer, ‘${cost.lowestTrainable}’.`;
}

/**
 * The estimated cost of one training step under the current plan (core/stepCost.ts), beside the parameter totals:
 * FLOPs per image forward and backward, activations kept, trainable parameters and optimizer state, N× cheaper
 * than a full fine-tune, the cost after each unfreezing step, and — once a run has timed a step here — ms per step and epoch.
 */
export function StepCost() {
  const rows = useTransferLayers();
  const freezePlan = useStudio((s) => s.freezePlan);
  const batchNormOverrides = useStudio((s) => s.batchNormOverrides);
  const config = useStudio((s) => s.config);
  const model = useStudio((s) => s.model);
  const cutLayer = useStudio((s) => s.cutLayer);
  const classNames = useStudio((s) => s.classNames);
  const head = useStudio((s) => s.head);
  const scheduleSteps = useStudio((s) => s.scheduleSteps);
  const blockMultipliers = useStudio((s) => s.blockMultipliers);
  const resolved = useStudio(nextRunTraining);
  const split = useStudio(nextRunSplit);
  const epochs = useStudio((s) => s.epochs);
  const runSettings = useStudio((s) => s.runSettings);
  const runSetup = useStudio((s) => s.runSetup);
  const trainableChanges = useStudio((s) => s.trainableChanges);
  const backend = useStudio((s) => s.backend);

  const settings = useMemo(
    () => runPlanSettings({ model, cutLayer, classNames, head, scheduleSteps, blockMultipliers, config }),
    [model, cutLayer, classNames, head, scheduleSteps, blockMultipliers, config],
  );
  const batchSize = resolved.config.batchSize;
  const optimizer = config.optimizer ?? 'adam';
  const cost = useMemo(() => {
    const { unfreezeSchedule, rateMultipliers } = settings;
    const cacheInput = { layers: rows, plan: freezePlan, batchNormOverrides, unfreezeSchedule, augmentation: config.augmentation, rateMultipliers };
    const cached = cachedFeaturesBlocker(cacheInput) === null;
    const base = { layers: rows, batchNormOverrides, rateMultipliers, optimizer, batchSize };
    const phases = scheduleStepCosts({ ...base, plan: freezePlan }, unfreezeSchedule);
    return { now: estimateStepCost({ ...base, plan: freezePlan, cached }), phases };
  }, [rows, freezePlan, batchNormOverrides, settings, config.augmentation, optimizer, batchSize]);
  const timed = useMemo(
    () => lastTimedStep({ model, cutLayer, epochs, runSettings, runSetup, trainableChanges }),
    [model, cutLayer, epochs, runSettings, runSetup, trainableChanges],
  );
  const trainImages = split?.train.length ?? 0;
  const time = estimateStepTime(cost.now, batchSize, trainImages, timed);
  const { now } = cost;
  const slots = OPTIMIZER_SLOTS[optimizer];
  const costModel = costModelOf(backend);
  const headingId = useId();

  return (
    <section className="step-cost" aria-labelledby={headingId}>
      <h3 id={headingId}>Cost of a training step</h3>
      <dl className="stats" aria-label="Cost of a training step">
        <Figure term="Forward / image" value={formatFlops(now.forwardFlops)} testId="step-cost-forward" />
        <Figure term="Backward / image" value={formatFlops(now.backwardFlops)} testId="step-cost-backward" />
        <Figure term={`Activations kept (batch ${formatCount(batchSize)})`} value={formatBytes(now.activationBytes)} testId="step-cost-activations" />
        <Figure term="Trainable params" value={formatCount(now.trainableParams)} testId="step-cost-trainable" />
        <Figure
          term={`Optimizer state (${OPTIMIZER_NAMES[optimizer]}, ${slots} ${slots === 1 ? 'slot' : 'slots'})`}
          value={formatBytes(now.optimizerStateBytes)}
          testId="step-cost-optimizer"
        />
        <Figure term="Vs. full fine-tune" value={`${formatTimes(now.cheaperBy)} cheaper`} testId="step-cost-cheaper" />
        {backend && costModel !== FLOPS_ONLY ? (
          <Figure term={`On ${backend} (measured cost model)`} value={`≈ ${formatTimes(cheaperOn(now, costModel))} faster`} testId="step-cost-backend" />
        ) : null}
        <Figure
          term="Estimated time"
          value={time.ok ? `${formatTime(time.msPerStep)} / step · ${formatTime(time.msPerEpoch)} / epoch` : '–'}
          testId="step-cost-time"
        />
      </dl>
      <p className="muted small">
        {costNote(now, rows)}{' '}
        {time.ok
          ? `Scaled by FLOPs from the last run’s timed step${time.backend ? ` on ${time.backend}` : ''}: ${formatCount(time.stepsPerEpoch)} steps of ${formatCount(batchSize)} over ${formatCount(trainImages)} training images.`
          : time.reason}
      </p>
      {cost.phases.length ? (
        <ul className="muted small step-cost-phases" aria-label="Cost after each unfreezing step">
          {cost.phases.map(({ step, cost: phase }) => (
            <li key={`${step.epoch}-${step.label}`}>
              From epoch {step.epoch + 1} ({step.label}): {formatFlops(phase.forwardFlops + phase.backwardFlops)} per image, {formatTimes(phase.cheaperBy)}{' '}
              cheaper, {formatCount(phase.trainableParams)} trainable params
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
