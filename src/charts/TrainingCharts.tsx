import type uPlot from 'uplot';
import type { BatchPoint, EpochMetrics, TrainableChange } from '../core/types';
import { formatLoss, formatPercent } from '../core/format';
import { plannedEpochs as runEpochs, runBatchesPerEpoch } from '../store/selectors';
import { studioAxis } from './axes';
import { useStudio, type StudioState } from '../store/store';
import { smoothed } from './smoothing';
import { StreamingChart, type ChartMarker, type Columns } from './StreamingChart';

const ACCENT = '#2f6fed';
const SECOND = '#e8793a';

/** Memoises a columns builder on the identity of its input array. */
function memoOn<T>(build: (input: T) => Columns): (input: T) => Columns {
  let lastInput: T | undefined;
  let lastOutput: Columns = [[]];
  return (input) => {
    if (input !== lastInput) {
      lastInput = input;
      lastOutput = build(input);
    }
    return lastOutput;
  };
}

const batchColumns = memoOn((points: BatchPoint[]): Columns => {
  const losses = points.map((p) => p.loss);
  return [points.map((p) => p.step + 1), losses, smoothed(losses, 0.9)];
});

const epochLossColumns = memoOn((epochs: EpochMetrics[]): Columns => [
  epochs.map((e) => e.epoch + 1),
  epochs.map((e) => e.trainLoss),
  epochs.map((e) => e.validationLoss),
]);

const epochAccuracyColumns = memoOn((epochs: EpochMetrics[]): Columns => [
  epochs.map((e) => e.epoch + 1),
  epochs.map((e) => e.trainAccuracy * 100),
  epochs.map((e) => (e.validationAccuracy === null ? null : e.validationAccuracy * 100)),
]);

/** Memoises a marker builder on the identity of the store's change list. */
function markersOn(build: (change: TrainableChange, batchesPerEpoch: number) => ChartMarker): (state: StudioState) => ChartMarker[] {
  let lastInput: TrainableChange[] | undefined;
  let lastOutput: ChartMarker[] = [];
  return (state) => {
    if (state.trainableChanges !== lastInput) {
      lastInput = state.trainableChanges;
      lastOutput = lastInput.map((change) => build(change, runBatchesPerEpoch(state)));
    }
    return lastOutput;
  };
}

const sayChange = (change: TrainableChange) => `${change.cause === 'live' ? 'live: ' : ''}${change.label}`;

/** On the batch chart the line sits between the last batch of the old set and the first of the new (batches are drawn at step + 1). */
const batchMarkers = markersOn((change) => ({
  x: change.step + 0.5,
  label: sayChange(change),
  describe: `batch ${change.step + 1} (epoch ${change.epoch + 1}): ${sayChange(change)}`,
}));

/**
 * On the epoch charts a point is the end of its epoch (epoch e drawn at x = e + 1), so a change at batch b of
 * epoch e sits at x = e + b / batches-per-epoch: on the last point before it for a change at an epoch's start.
 */
const epochMarkers = markersOn((change, perEpoch) => ({
  x: change.epoch + (perEpoch > 0 ? change.batch / perEpoch : 0),
  label: sayChange(change),
  describe: `epoch ${change.epoch + 1}${change.batch > 0 ? `, batch ${change.batch + 1}` : ''}: ${sayChange(change)}`,
}));

const axes = (xLabel: string, yLabel: string): uPlot.Axis[] => [studioAxis(xLabel), studioAxis(yLabel, 56)];

/** Epochs the x axis spans: the whole planned run while it goes (the curve shows progress as well as loss), what it ran once it ended (early stopping ends auto runs early). */
const spannedEpochs = (s: ReturnType<typeof useStudio.getState>): number => (s.runStatus === 'done' && s.epochs.length > 0 ? s.epochs.length : runEpochs(s));
const plannedBatches = (): uPlot.Range.MinMax => {
  const s = useStudio.getState();
  return [1, Math.max(2, runBatchesPerEpoch(s) * spannedEpochs(s), s.batchPoints.length)];
};
const plannedEpochs = (): uPlot.Range.MinMax => {
  const s = useStudio.getState();
  return [1, Math.max(2, spannedEpochs(s), s.epochs.length)];
};
const integerTicks = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

const batchOptions: Omit<uPlot.Options, 'width' | 'height'> = {
  scales: { x: { time: false, range: plannedBatches } },
  legend: { live: false },
  axes: [{ ...axes('batch', 'loss')[0], incrs: integerTicks }, axes('batch', 'loss')[1]],
  series: [
    { label: 'batch' },
    { label: 'loss', stroke: 'rgba(47,111,237,0.35)', width: 1, value: (_u, v) => (v == null ? '–' : formatLoss(v)) },
    { label: 'smoothed', stroke: ACCENT, width: 2, value: (_u, v) => (v == null ? '–' : formatLoss(v)) },
  ],
  cursor: { drag: { x: false, y: false } },
};

const epochAxes = (yLabel: string): uPlot.Axis[] => {
  const [x, y] = axes('epoch', yLabel);
  return [{ ...x, incrs: integerTicks }, y];
};

const epochLossOptions: Omit<uPlot.Options, 'width' | 'height'> = {
  scales: { x: { time: false, range: plannedEpochs } },
  legend: { live: false },
  axes: epochAxes('loss'),
  series: [
    { label: 'epoch' },
    { label: 'train loss', stroke: ACCENT, width: 2, points: { show: true } },
    { label: 'validation loss', stroke: SECOND, width: 2, dash: [6, 4], points: { show: true } },
  ],
};

const epochAccuracyOptions: Omit<uPlot.Options, 'width' | 'height'> = {
  scales: { x: { time: false, range: plannedEpochs }, y: { range: [0, 100] } },
  legend: { live: false },
  axes: epochAxes('accuracy %'),
  series: [
    { label: 'epoch' },
    { label: 'train accuracy', stroke: ACCENT, width: 2, points: { show: true }, value: (_u, v) => (v == null ? '–' : `${v.toFixed(1)}%`) },
    { label: 'validation accuracy', stroke: SECOND, width: 2, dash: [6, 4], points: { show: true }, value: (_u, v) => (v == null ? '–' : `${v.toFixed(1)}%`) },
  ],
};

/** "N epochs; train <what> x, validation <what> y" for an epoch chart's [epoch, train, validation] columns. */
function describeEpochs(columns: Columns, what: string, format: (value: number) => string): string {
  const n = columns[0].length;
  if (!n) return 'No epochs yet.';
  const validation = columns[2][n - 1];
  return `${n} epochs; train ${what} ${format(columns[1][n - 1] as number)}${validation == null ? '' : `, validation ${what} ${format(validation)}`}`;
}

/** The live charts: loss per batch (raw and smoothed), and per-epoch loss and accuracy. */
export function TrainingCharts() {
  return (
    <div className="charts">
      <StreamingChart
        title="Loss per batch"
        options={batchOptions}
        select={(s: StudioState) => batchColumns(s.batchPoints)}
        markers={batchMarkers}
        describe={(c) => {
          const n = c[0].length;
          return n
            ? `${n} batches; last loss ${formatLoss(c[1][n - 1] as number)}, smoothed ${formatLoss(c[2][n - 1] as number)}`
            : 'No batches yet: press Train.';
        }}
      />
      <StreamingChart
        title="Loss per epoch"
        options={epochLossOptions}
        height={150}
        select={(s: StudioState) => epochLossColumns(s.epochs)}
        markers={epochMarkers}
        describe={(c) => describeEpochs(c, 'loss', formatLoss)}
      />
      <StreamingChart
        title="Accuracy per epoch"
        options={epochAccuracyOptions}
        height={150}
        select={(s: StudioState) => epochAccuracyColumns(s.epochs)}
        markers={epochMarkers}
        describe={(c) => describeEpochs(c, 'accuracy', (v) => formatPercent(v / 100))}
      />
    </div>
  );
}
