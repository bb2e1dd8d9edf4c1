import { useEffect, useId, useMemo, useState } from 'react';
import type { ImageShape } from '../../data/types';
import { evaluatePredictions, type EvaluationReport } from '../../core/evaluation';
import { useStudio, type HeldOutSet } from '../../store/store';
import { formatCount, formatPercent } from '../../core/format';
import { CellImages } from './CellImages';

type SplitName = 'validation' | 'test';

function images(count: number): string {
  return `${formatCount(count)} image${count === 1 ? '' : 's'}`;
}

/** A metric that may be undefined (0/0): "—" with the reason for screen readers and on hover. */
function Metric({ value, undefinedReason }: { value: number | null; undefinedReason: string }) {
  if (value === null) {
    return (
      <span title={undefinedReason} aria-label={`not defined: ${undefinedReason}`}>
        —
      </span>
    );
  }
  return <>{formatPercent(value)}</>;
}

/**
 * The confusion matrix as a table: rows are true classes, columns predicted ones; each non-empty cell
 * is a button that shows its images. Colour strength is the cell's share of its row (the number is
 * always printed, so colour is never the only signal); mistakes use the error colour.
 */
function ConfusionMatrix({
  report,
  classNames,
  splitLabel,
  selected,
  onSelect,
}: {
  report: EvaluationReport;
  classNames: string[];
  splitLabel: string;
  selected: [number, number] | null;
  onSelect(cell: [number, number]): void;
}) {
  return (
    <div className="confusion-scroll" tabIndex={0} role="region" aria-label="Confusion matrix, scrollable">
      <table className="confusion">
        <caption>
          Confusion matrix, {splitLabel} ({images(report.count)}): rows are the true class, columns the predicted class.
        </caption>
        <thead>
          <tr>
            <th scope="col" className="corner">
              <span className="small muted">true ↓ · predicted →</span>
            </th>
            {classNames.map((name) => (
              <th key={name} scope="col">
                {name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {report.confusion.map((row, t) => {
            const support = report.perClass[t].support;
            return (
              <tr key={classNames[t]}>
                <th scope="row">{classNames[t]}</th>
                {row.map((count, p) => {
                  const share = support > 0 ? count / support : 0;
                  const isSelected = selected?.[0] === t && selected?.[1] === p;
                  // Cell tints with room for 4.5:1 text at their strongest in both themes (styles.css --cell-correct / --cell-mistake).
                  const tone = t === p ? 'var(--cell-correct)' : 'var(--cell-mistake)';
                  return (
                    <td key={p}>
                      <button
                        type="button"
                        className={`cell${t === p ? ' correct' : ' mistake'}`}
                        style={count > 0 ? { background: `color-mix(in srgb, ${tone} ${Math.round(10 + share * 55)}%, transparent)` } : undefined}
                        aria-label={`${images(count)} of ${classNames[t]} predicted as ${classNames[p]}`}
                        aria-pressed={isSelected}
                        disabled={count === 0}
                        onClick={() => onSelect([t, p])}
                      >
                        {formatCount(count)}
                      </button>
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Precision, recall, F1 and support per class, with the macro average. */
function ClassMetricsTable({ report, classNames, splitLabel }: { report: EvaluationReport; classNames: string[]; splitLabel: string }) {
  return (
    <table className="metrics-table">
      <caption>Per-class precision, recall and F1 ({splitLabel})</caption>
      <thead>
        <tr>
          <th scope="col">Class</th>
          <th scope="col">Precision</th>
          <th scope="col">Recall</th>
          <th scope="col">F1</th>
          <th scope="col">Images</th>
        </tr>
      </thead>
      <tbody>
        {report.perClass.map((m, c) => (
          <tr key={classNames[c]}>
            <th scope="row">{classNames[c]}</th>
            <td>
              <Metric value={m.precision} undefinedReason={`no image was predicted as ${classNames[c]}`} />
            </td>
            <td>
              <Metric value={m.recall} undefinedReason={`no ${classNames[c]} image in this set`} />
            </td>
            <td>
              <Metric value={m.f1} undefinedReason={`${classNames[c]} is neither in this set nor predicted`} />
            </td>
            <td>{formatCount(m.support)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Macro average</th>
          <td>
            <Metric value={report.macro.precision} undefinedReason="no class was predicted" />
          </td>
          <td>
            <Metric value={report.macro.recall} undefinedReason="the set is empty" />
          </td>
          <td>
            <Metric value={report.macro.f1} undefinedReason="the set is empty" />
          </td>
          <td>{formatCount(report.count)}</td>
        </tr>
      </tfoot>
    </table>
  );
}

/** Accuracy, confusion matrix, per-class metrics and the selected cell's images of one held-out set. */
function SetEvaluation({
  set,
  classNames,
  splitLabel,
  shape,
}: {
  set: HeldOutSet & { probabilities: Float32Array };
  classNames: string[];
  splitLabel: string;
  shape: ImageShape;
}) {
  const report = useMemo(() => evaluatePredictions(set.probabilities, set.labels, classNames.length), [set, classNames]);
  const [selected, setSelected] = useState<[number, number] | null>(null);
  useEffect(() => setSelected(null), [set]);
  return (
    <>
      <div className="outcome eval-summary">
        <p>
          {splitLabel[0].toUpperCase() + splitLabel.slice(1)} accuracy:{' '}
          <span className="big-number">{report.accuracy === null ? '—' : formatPercent(report.accuracy)}</span>
        </p>
        <p className="muted small">
          {formatCount(report.correct)} of {images(report.count)} correct
          {report.macro.f1 !== null ? ` · macro F1 ${formatPercent(report.macro.f1)}` : ''}
        </p>
      </div>
      <ConfusionMatrix report={report} classNames={classNames} splitLabel={splitLabel} selected={selected} onSelect={setSelected} />
      {selected ? (
        <CellImages set={set} classNames={classNames} trueClass={selected[0]} predictedClass={selected[1]} shape={shape} onClose={() => setSelected(null)} />
      ) : null}
      <ClassMetricsTable report={report} classNames={classNames} splitLabel={splitLabel} />
    </>
  );
}

/** No run: no classes. */
const NO_CLASSES: string[] = [];

/**
 * "Evaluate": after each run, the images it held out (validation, and test when the split has one) are
 * predicted automatically; accuracy, a confusion matrix whose cells open their images, and per-class
 * precision / recall / F1.
 */
export function EvaluationPanel() {
  const evaluation = useStudio((s) => s.evaluation);
  const runId = useStudio((s) => s.runId);
  const runStatus = useStudio((s) => s.runStatus);
  const model = useStudio((s) => s.model);
  const runClasses = useStudio((s) => s.runSettings?.classNames ?? NO_CLASSES);
  const [split, setSplit] = useState<SplitName>('validation');
  const groupName = useId();

  const current = evaluation && evaluation.runId === runId ? evaluation : null;
  const hasTest = !!current?.test;
  const shown: SplitName = split === 'test' && hasTest ? 'test' : 'validation';
  const set = current?.[shown] ?? null;
  const shape: ImageShape | null = model ? { ...model.inputShape, channels: model.inputShape.channels === 3 ? 3 : 1 } : null;

  let body: React.ReactNode;
  if (!current || runStatus === 'idle') {
    body = <p className="muted">Train a model: when the run ends, it is evaluated on the images it held out.</p>;
  } else if (runStatus === 'failed') {
    body = <p className="muted">The last run failed, so there is nothing to evaluate. Train again.</p>;
  } else if (!current.validation && !current.test) {
    body = <p className="muted">This run held out no images. Set a validation share above 0 in the data panel and train again to evaluate.</p>;
  } else if (current.status === 'pending') {
    // The worker predicts the held-out images with the weights the run ends with, right before it reports the end.
    const counts = [current.validation, current.test].filter((s): s is HeldOutSet => s !== null).reduce((n, s) => n + s.images.length, 0);
    body = <p className="muted">When this run ends, its {images(counts)} held out are predicted and evaluated here.</p>;
  } else if (current.status === 'failed') {
    body = (
      <p role="alert" className="error">
        {current.error} Train again to evaluate.
      </p>
    );
  } else if (!set || !set.probabilities || !shape) {
    body = <p className="muted">This run held out no {shown} images.</p>;
  } else {
    body = <SetEvaluation set={set as HeldOutSet & { probabilities: Float32Array }} classNames={runClasses} splitLabel={`${shown} set`} shape={shape} />;
  }

  return (
    <section className="panel eval-panel" aria-labelledby="eval-heading">
      <h2 id="eval-heading">4 · Evaluation</h2>
      {hasTest && current?.status === 'done' ? (
        <fieldset className="split-switch">
          <legend className="visually-hidden">Images to evaluate</legend>
          {(['validation', 'test'] as const).map((name) => (
            <label key={name} className={shown === name ? 'selected' : undefined}>
              <input type="radio" name={groupName} value={name} checked={shown === name} onChange={() => setSplit(name)} />
              {name === 'validation' ? 'Validation' : 'Test'} ({images(current[name]?.images.length ?? 0)})
            </label>
          ))}
        </fieldset>
      ) : null}
      <div role="status" aria-live="polite" className="visually-hidden">
        {current?.status === 'done' ? 'Evaluation done.' : ''}
      </div>
      {body}
    </section>
  );
}
