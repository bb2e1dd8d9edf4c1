import { useEffect, useMemo, useState } from 'react';
import type { ImageShape } from '../../data/types';
import { cellMembers, probabilityRow, topK } from '../../core/evaluation';
import type { HeldOutSet } from '../../store/store';
import { formatCount, formatPercent } from '../../core/format';
import { Thumbnail } from '../Thumbnail';

/** Images listed at first; "Show more" adds as many again. */
const PAGE = 24;

/** Horizontal bars of class probabilities, as a list a screen reader reads as "dog: 81.2%". */
export function ProbabilityBars({ items, label }: { items: { className: string; probability: number; note?: string }[]; label: string }) {
  return (
    <ul className="prob-bars" aria-label={label}>
      {items.map((item) => (
        <li key={item.className}>
          <span className="prob-name">
            {item.className}
            {item.note ? <span className="muted"> ({item.note})</span> : null}
          </span>
          <span className="prob-track" aria-hidden="true">
            <span className="prob-fill" style={{ width: `${Math.max(0, Math.min(1, item.probability)) * 100}%` }} />
          </span>
          <span className="prob-value">{formatPercent(item.probability)}</span>
        </li>
      ))}
    </ul>
  );
}

/**
 * The images of one confusion cell, largest mistakes first (lowest probability of the true class; see
 * `cellMembers`), each with its three most probable classes and, when it is not among them, the true class.
 */
export function CellImages({
  set,
  classNames,
  trueClass,
  predictedClass,
  shape,
  onClose,
}: {
  set: HeldOutSet & { probabilities: Float32Array };
  classNames: string[];
  trueClass: number;
  predictedClass: number;
  shape: ImageShape;
  onClose(): void;
}) {
  const numClasses = classNames.length;
  const rows = useMemo(() => cellMembers(set.probabilities, set.labels, numClasses, trueClass, predictedClass), [set, numClasses, trueClass, predictedClass]);
  const [shown, setShown] = useState(PAGE);
  useEffect(() => setShown(PAGE), [rows]);
  const title = `${classNames[trueClass]} predicted as ${classNames[predictedClass]}`;
  const correct = trueClass === predictedClass;
  return (
    <section className="cell-images" aria-label={`Images of ${title}`}>
      <div className="cell-images-head">
        <h3>
          {correct ? `${classNames[trueClass]}, predicted correctly` : title} · {formatCount(rows.length)} image{rows.length === 1 ? '' : 's'}
        </h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <p className="muted small">{correct ? 'Least confident first.' : 'Largest mistakes first: lowest probability of the true class.'}</p>
      <ul className="cell-image-list">
        {rows.slice(0, shown).map((row) => {
          const image = set.images[row];
          const probs = probabilityRow(set.probabilities, numClasses, row);
          const top = topK(probs, 3).map((c) => ({
            className: classNames[c.classIndex],
            probability: c.probability,
            note: c.classIndex === trueClass ? 'true' : undefined,
          }));
          if (!top.some((c) => c.className === classNames[trueClass]))
            top.push({ className: classNames[trueClass], probability: probs[trueClass], note: 'true' });
          return (
            <li key={image.id} className="cell-image">
              <Thumbnail pixels={image.pixels} shape={shape} label={image.path} />
              <div className="cell-image-info">
                <span className="small cell-image-name" title={image.path}>
                  {image.path}
                </span>
                <ProbabilityBars items={top} label={`Probabilities for ${image.path}`} />
              </div>
            </li>
          );
        })}
      </ul>
      {rows.length > shown ? (
        <button type="button" onClick={() => setShown((n) => n + PAGE)}>
          Show more ({formatCount(rows.length - shown)} left)
        </button>
      ) : null}
    </section>
  );
}
