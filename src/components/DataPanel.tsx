import { useMemo } from 'react';
import type { ImageShape } from '../data/types';
import { classCounts, datasetNotices } from '../store/selectors';
import { useStudio, type DatasetImage } from '../store/store';
import { ClassCard } from './data/ClassCard';
import { classSplit } from './data/classImages';
import { DropZone } from './data/DropZone';
import { NewClassForm } from './data/NewClassForm';
import { SplitSettings } from './data/SplitSettings';
import { usePasteIntoClass } from './data/usePasteIntoClass';
import { formatCount } from '../core/format';

/** Middle column: the drop zone, the classes with counts and thumbnails, the split, and what was rejected. */
export function DataPanel() {
  const images = useStudio((s) => s.images);
  const classNames = useStudio((s) => s.classNames);
  const notices = useStudio((s) => s.notices);
  const rejected = useStudio((s) => s.rejected);
  const source = useStudio((s) => s.datasetSource);
  const fromSample = useStudio((s) => s.fromSample);
  const datasetName = useStudio((s) => s.datasetName);
  const validationFraction = useStudio((s) => s.validationFraction);
  const testFraction = useStudio((s) => s.testFraction);
  const splitSeed = useStudio((s) => s.splitSeed);
  const selectedClass = useStudio((s) => s.selectedClass);
  const editable = useStudio((s) => s.ingest === null);
  const model = useStudio((s) => s.model);

  const counts = useMemo(() => classCounts({ images, classNames }), [images, classNames]);
  const allNotices = useMemo(() => datasetNotices({ images, classNames, notices }, counts), [images, classNames, notices, counts]);
  const imagesByClass = useMemo(() => {
    const byClass = new Map<string, DatasetImage[]>(classNames.map((n) => [n, []]));
    for (const image of images) byClass.get(image.className)?.push(image);
    return byClass;
  }, [images, classNames]);
  const splits = counts.map((count) => classSplit(count, validationFraction, testFraction));
  const total = splits.reduce((sum, s) => ({ train: sum.train + s.train, validation: sum.validation + s.validation, test: sum.test + s.test }), {
    train: 0,
    validation: 0,
    test: 0,
  });
  const shape: ImageShape | null = model ? { ...model.inputShape, channels: model.inputShape.channels === 3 ? 3 : 1 } : null;
  // Pasted images go to the selected class, or to the first one until the user picks.
  const pasteTarget = selectedClass !== null && classNames.includes(selectedClass) ? selectedClass : (classNames[0] ?? null);
  const pasteMessage = usePasteIntoClass(editable ? pasteTarget : null);

  return (
    <section className="pane panel data-panel" aria-labelledby="data-heading">
      <h2 id="data-heading">2 · Data</h2>
      <DropZone />
      {classNames.length > 0 ? (
        <div className="dataset-summary">
          <p>
            <strong data-testid="image-count">{formatCount(images.length)} images</strong> in {classNames.length} classes
            {source === 'sample' ? <span className="badge">built-in sample</span> : null}
            {source === 'user' && fromSample ? <span className="badge accent">your copy of the sample</span> : null}
          </p>
          <p className="muted small" data-testid="dataset-source">
            {source === 'sample'
              ? `${datasetName}. Your first folder replaces it; editing a class makes it yours.`
              : fromSample
                ? `${datasetName}, edited: it is now your dataset, and folders you add join it.`
                : `${datasetName}.`}{' '}
            Split (stratified, seed {splitSeed}): {formatCount(total.train)} train, {formatCount(total.validation)} validation
            {testFraction > 0 ? `, ${formatCount(total.test)} test (held out)` : ''}.
          </p>
          <SplitSettings />
        </div>
      ) : null}
      {allNotices.length ? (
        <ul className="notices" aria-label="Dataset problems">
          {allNotices.map((notice) => (
            <li key={notice.message} className={notice.level}>
              {notice.message}
            </li>
          ))}
        </ul>
      ) : null}
      {shape && classNames.length > 0 ? (
        <div className="paste-indicator small" role="status" aria-live="polite">
          <span>
            Paste target: <strong data-testid="paste-target">{pasteTarget}</strong>
          </span>
          <span className="muted"> — copy an image and press Ctrl+V (⌘V) to add it to this class.</span>
          {pasteMessage ? <span className="paste-message"> {pasteMessage}</span> : null}
        </div>
      ) : null}
      {shape ? (
        <>
          <ul className="class-list" aria-label="Classes">
            {classNames.map((name, i) => (
              <ClassCard
                key={name}
                name={name}
                images={imagesByClass.get(name) ?? []}
                split={splits[i]}
                shape={shape}
                otherClasses={classNames.filter((n) => n !== name)}
                pasteTarget={name === pasteTarget}
                editable={editable}
              />
            ))}
          </ul>
          <NewClassForm editable={editable} />
        </>
      ) : null}
      {rejected.length ? (
        <section className="rejected" aria-label="Rejected files">
          <h3>Rejected files ({formatCount(rejected.length)})</h3>
          <ul>
            {rejected.map((file, i) => (
              <li key={`${file.path}-${i}`}>
                <code>{file.path}</code> — {file.reason}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </section>
  );
}
