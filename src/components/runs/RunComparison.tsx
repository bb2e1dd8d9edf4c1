import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { defaultDirection, sortRuns, trainedOnWarning, type RunRecord, type RunSortKey, type SortDirection } from '../../core/runRecords';
import type { EpochMetrics, OptimizerName } from '../../core/types';
import { useStudio } from '../../store/store';
import { formatCount, formatDuration, formatLoss, formatPercent } from '../../core/format';
import { studioAxis } from '../../charts/axes';

/** One colour and dash per run (by its place in the history, so a run keeps them whatever is selected): colour is never the only cue. */
const COLOURS = ['#2f6fed', '#e8793a', '#22a06b', '#9b2fc4', '#c99400', '#d03b5a', '#0f9bb5', '#7a7f8c'];
const DASHES: number[][] = [[], [7, 4], [2, 3], [10, 3, 2, 3]];

interface RunStyle {
  colour: string;
  dash: number[];
}

const styleOf = (index: number): RunStyle => ({ colour: COLOURS[index % COLOURS.length], dash: DASHES[index % DASHES.length] });

const OPTIMIZER_WORDS: Record<OptimizerName, string> = { adam: 'Adam', sgd: 'SGD', momentum: 'SGD + momentum' };

/** The measurements come right after what was frozen: in the narrow results column they show before any sideways scroll. */
const COLUMNS: { key: RunSortKey; label: string; numeric?: boolean; title?: string }[] = [
  { key: 'run', label: 'Run' },
  { key: 'frozen', label: 'Frozen' },
  // Not "Trainable params": a button named "Train…" would be one more match for the Train button's name in every journey.
  {
    key: 'trainableParams',
    label: 'Params updated',
    numeric: true,
    title: 'Trainable parameters the optimizer updated (Keras count): at the start → after the last change of the trainable set',
  },
  { key: 'bestValidationAccuracy', label: 'Best val. accuracy', numeric: true },
  { key: 'bestValidationLoss', label: 'Best val. loss', numeric: true },
  { key: 'millisPerEpoch', label: 'Time / epoch', numeric: true },
  { key: 'schedule', label: 'Schedule' },
  { key: 'optimizer', label: 'Optimizer · LR' },
  { key: 'backend', label: 'Backend' },
];

/** "stem – block_7" for a prefix of frozen blocks. */
function frozenRange(run: RunRecord): string | null {
  const labels = run.freeze.frozenBlockLabels;
  if (run.freeze.kind !== 'prefix' || !labels.length) return null;
  return labels.length === 1 ? labels[0] : `${labels[0]} – ${labels[labels.length - 1]}`;
}

/** What else the reader must know about a run before comparing it. */
function runNotes(run: RunRecord, datasetDiffers: boolean): string[] {
  const notes: string[] = [];
  if (run.stopped) notes.push(`stopped after ${run.epochs.length} of ${run.epochsPlanned} epochs`);
  if (!run.fromPretrained) notes.push('went on from the last run’s weights');
  const trainedOn = trainedOnWarning(run.validationTrainedOn);
  if (trainedOn) notes.push(trainedOn);
  if (datasetDiffers) notes.push(run.dataset);
  return notes;
}

function RunRow({
  run,
  style,
  selected,
  onSelect,
  datasetDiffers,
}: {
  run: RunRecord;
  style: RunStyle;
  selected: boolean;
  onSelect(on: boolean): void;
  datasetDiffers: boolean;
}) {
  const notes = runNotes(run, datasetDiffers);
  const range = frozenRange(run);
  return (
    <tr className={selected ? 'selected' : undefined}>
      <th scope="row">
        <label className="run-name">
          <input type="checkbox" checked={selected} aria-label={`Compare run ${run.runId}`} onChange={(e) => onSelect(e.target.checked)} />
          <Swatch style={style} />
          <span>{run.name}</span>
        </label>
        {notes.length ? <span className="run-note muted small">{notes.join('; ')}</span> : null}
      </th>
      <td title={run.freeze.frozenBlockLabels.length ? `Frozen blocks: ${run.freeze.frozenBlockLabels.join(', ')}` : undefined}>
        {run.freeze.text}
        {range ? <span className="run-note muted small">{range}</span> : null}
      </td>
      <td className="num">
        {formatCount(run.trainableParams)}
        {run.finalTrainableParams !== null ? <span className="run-note muted small">→ {formatCount(run.finalTrainableParams)} at the end</span> : null}
      </td>
      <td className="num">{run.bestValidationAccuracy !== null ? formatPercent(run.bestValidationAccuracy) : '—'}</td>
      <td className="num">{run.bestValidationLoss !== null ? formatLoss(run.bestValidationLoss) : '—'}</td>
      <td className="num">
        {run.millisPerEpoch !== null ? formatDuration(run.millisPerEpoch) : '—'}
        {run.cacheMillis !== null ? <span className="run-note muted small">+ {formatDuration(run.cacheMillis)} cache</span> : null}
      </td>
      <td>
        {run.schedule.length ? (
          run.schedule.map((step) => (
            <span key={step} className="run-note">
              {step}
            </span>
          ))
        ) : (
          <span className="muted">none</span>
        )}
      </td>
      <td>
        {OPTIMIZER_WORDS[run.optimizer]} · {run.learningRate}
        {run.learningRateSchedule !== 'constant' ? <span className="run-note muted small">{run.learningRateSchedule} schedule</span> : null}
      </td>
      <td>{run.backend ?? '—'}</td>
    </tr>
  );
}

/** A short line in the run's colour and dash, as the chart draws it. */
function Swatch({ style }: { style: RunStyle }) {
  return (
    <svg className="run-swatch" width="22" height="8" aria-hidden="true">
      <line x1="1" y1="4" x2="21" y2="4" stroke={style.colour} strokeWidth="2.5" strokeDasharray={style.dash.join(' ') || undefined} />
    </svg>
  );
}

interface OverlayProps {
  title: string;
  yLabel: string;
  runs: { run: RunRecord; style: RunStyle }[];
  value(epoch: EpochMetrics): number | null;
  format(value: number): string;
  /** Fixed y range (accuracy: 0–100); absent = fitted to the data. */
  yRange?: [number, number];
  /** Which end is better, for the caption. */
  better: 'higher' | 'lower';
}

/** One uPlot chart with one series per selected run, rebuilt when the selection changes (it does not stream). */
function OverlayChart({ title, yLabel, runs, value, format, yRange, better }: OverlayProps) {
  const hostRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const host = hostRef.current!;
    const maxEpochs = Math.max(2, ...runs.map(({ run }) => run.epochs.length));
    const xs = Array.from({ length: maxEpochs }, (_, i) => i + 1);
    const data: uPlot.AlignedData = [xs, ...runs.map(({ run }) => xs.map((_, i) => (run.epochs[i] ? value(run.epochs[i]) : null)))];
    const axis = (label: string): uPlot.Axis => studioAxis(label);
    // Each run's changes of the trainable set, as a dashed line in its colour (epoch e drawn at x = e + 1; a change at its start sits on x = e).
    const drawChanges = (u: uPlot) => {
      const { ctx } = u;
      ctx.save();
      ctx.lineWidth = 1;
      ctx.setLineDash([3, 3]);
      for (const { run, style } of runs) {
        for (const change of run.trainableChanges) {
          const x = change.epoch + (run.batchesPerEpoch > 0 ? change.batch / run.batchesPerEpoch : 0);
          const left = Math.round(u.valToPos(Math.max(x, 1), 'x', true));
          ctx.strokeStyle = style.colour;
          ctx.beginPath();
          ctx.moveTo(left, u.bbox.top);
          ctx.lineTo(left, u.bbox.top + u.bbox.height);
          ctx.stroke();
        }
      }
      ctx.restore();
    };
    const chart = new uPlot(
      {
        width: Math.max(host.clientWidth, 200),
        height: 170,
        scales: { x: { time: false, range: [1, maxEpochs] }, y: yRange ? { range: yRange } : {} },
        legend: { show: false },
        axes: [
          { ...axis('epoch'), incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500] },
          { ...axis(yLabel), size: 56 },
        ],
        series: [
          { label: 'epoch' },
          ...runs.map(({ run, style }) => ({
            label: run.name,
            stroke: style.colour,
            dash: style.dash,
            width: 2,
            points: { show: true, size: 5 },
            spanGaps: false,
          })),
        ],
        hooks: { draw: [drawChanges] },
      },
      data,
      host,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(host.clientWidth, 200), height: 170 }));
    resize.observe(host);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [runs, value, yLabel, yRange]);

  const bests = runs.map(({ run }) => {
    const values = run.epochs.map(value).filter((v): v is number => v !== null);
    return values.length ? `${run.name}: ${format(better === 'higher' ? Math.max(...values) : Math.min(...values))}` : `${run.name}: no validation`;
  });
  const changes = runs.flatMap(({ run }) =>
    run.trainableChanges.map((c) => `run ${run.runId} at epoch ${c.epoch + 1}${c.batch > 0 ? `, batch ${c.batch + 1}` : ''} (${c.label})`),
  );
  return (
    <figure className="chart" aria-label={title} data-series={runs.length}>
      <div className="chart-title">{title}</div>
      <ul className="run-legend" aria-label={`Legend: ${title}`}>
        {runs.map(({ run, style }) => (
          <li key={run.runId}>
            <Swatch style={style} />
            {run.name}
          </li>
        ))}
      </ul>
      <div ref={hostRef} className="chart-host" aria-hidden="true" />
      <figcaption className="muted small">
        {better === 'higher' ? 'Best' : 'Lowest'} per run — {bests.join('; ')}.
        {changes.length ? ` Dashed lines: the trainable set changed in ${changes.join('; ')}.` : ''}
      </figcaption>
    </figure>
  );
}

const validationLoss = (e: EpochMetrics) => e.validationLoss;
const validationAccuracy = (e: EpochMetrics) => (e.validationAccuracy === null ? null : e.validationAccuracy * 100);
const ACCURACY_RANGE: [number, number] = [0, 100];

/**
 * "Compare runs": every finished or stopped run since the model was loaded, in
 * a table sortable by any column, and the validation curves of the runs
 * ticked overlaid on one loss and one accuracy chart.
 */
export function RunComparison() {
  const runs = useStudio((s) => s.runs);
  const [sort, setSort] = useState<{ key: RunSortKey; direction: SortDirection }>({ key: 'run', direction: 'ascending' });
  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const styles = useMemo(() => new Map(runs.map((run, i) => [run.runId, styleOf(i)])), [runs]);
  const sorted = useMemo(() => sortRuns(runs, sort.key, sort.direction), [runs, sort]);
  // Selected runs in run order (a run gone with a model load is dropped).
  const overlay = useMemo(() => runs.filter((run) => selected.has(run.runId)).map((run) => ({ run, style: styles.get(run.runId)! })), [runs, selected, styles]);
  const datasetDiffers = new Set(runs.map((run) => run.dataset)).size > 1;

  const sortBy = (key: RunSortKey) =>
    setSort((s) => (s.key === key ? { key, direction: s.direction === 'ascending' ? 'descending' : 'ascending' } : { key, direction: defaultDirection(key) }));
  const select = (runId: number, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(runId);
      else next.delete(runId);
      return next;
    });

  return (
    <section className="panel run-comparison" aria-labelledby="runs-heading">
      <h2 id="runs-heading">Compare runs</h2>
      {runs.length === 0 ? (
        <p className="muted small">
          No runs yet. Every run you train (or stop) is recorded here with its freeze plan, settings and best validation scores, so you can see which layers to
          freeze for your data. Try “Train head only”, then “Full fine-tune”.
        </p>
      ) : (
        <>
          <p className="runs-hint muted small" aria-hidden="true">
            {runs.length} run{runs.length === 1 ? '' : 's'} of this model. Select a column header to sort; tick runs to overlay their validation curves. The
            table scrolls sideways.
          </p>
          <div className="runs-table-wrap" role="region" aria-labelledby="runs-caption" tabIndex={0}>
            <table className="runs-table">
              {/* Names the table and the scroll region; the paragraph above shows the same words (a caption would scroll away). */}
              <caption id="runs-caption" className="visually-hidden">
                {runs.length} run{runs.length === 1 ? '' : 's'} of this model. Select a column header to sort; tick runs to overlay their validation curves.
              </caption>
              <thead>
                <tr>
                  {COLUMNS.map((column) => {
                    const active = sort.key === column.key;
                    return (
                      <th
                        key={column.key}
                        scope="col"
                        aria-sort={active ? sort.direction : undefined}
                        className={column.numeric ? 'num' : undefined}
                        title={column.title}
                      >
                        <button type="button" className="sort-button" onClick={() => sortBy(column.key)}>
                          {column.label}
                          <span aria-hidden="true" className={active ? 'sort-arrow active' : 'sort-arrow'}>
                            {active ? (sort.direction === 'ascending' ? '▲' : '▼') : '↕'}
                          </span>
                        </button>
                      </th>
                    );
                  })}
                </tr>
              </thead>
              <tbody>
                {sorted.map((run) => (
                  <RunRow
                    key={run.runId}
                    run={run}
                    style={styles.get(run.runId)!}
                    selected={selected.has(run.runId)}
                    onSelect={(on) => select(run.runId, on)}
                    datasetDiffers={datasetDiffers}
                  />
                ))}
              </tbody>
            </table>
          </div>
          {overlay.length ? (
            <div className="charts run-overlay">
              <OverlayChart
                title="Validation loss of the selected runs"
                yLabel="validation loss"
                runs={overlay}
                value={validationLoss}
                format={formatLoss}
                better="lower"
              />
              <OverlayChart
                title="Validation accuracy of the selected runs"
                yLabel="val. accuracy %"
                runs={overlay}
                value={validationAccuracy}
                format={(v) => formatPercent(v / 100)}
                yRange={ACCURACY_RANGE}
                better="higher"
              />
            </div>
          ) : (
            <p className="muted small">Tick two or more runs to overlay their validation loss and accuracy per epoch.</p>
          )}
        </>
      )}
    </section>
  );
}
