import { useMemo, useRef, useState, type DragEvent } from 'react';
import { addFiles } from '../app/studio';
import { filesFromDrop, filesFromPicker } from '../data/dropWalk';
import { validationCountFor } from '../data/split';
import type { ImageShape } from '../data/types';
import { classCounts, datasetNotices } from '../store/selectors';
import { useStudio, type DatasetImage } from '../store/store';
import { formatCount } from './format';
import { Thumbnail } from './Thumbnail';

const THUMBS_PER_CLASS = 8;

function ClassCard({ name, count, images, shape, validationFraction }: { name: string; count: number; images: DatasetImage[]; shape: ImageShape; validationFraction: number }) {
  const validation = validationCountFor(count, validationFraction);
  return (
    <li className="class-card" aria-label={`Class ${name}: ${count} images`}>
      <div className="class-head">
        <span className="class-name">{name}</span>
        <span className="muted small">
          {formatCount(count)} images · {formatCount(count - validation)} train / {formatCount(validation)} val
        </span>
      </div>
      <div className="thumbs">
        {images.map((image) => (
          <Thumbnail key={image.id} pixels={image.pixels} shape={shape} label={image.path} />
        ))}
      </div>
    </li>
  );
}

function DropZone() {
  const [dragging, setDragging] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const ingest = useStudio((s) => s.ingest);
  const modelReady = useStudio((s) => s.modelStatus === 'ready');

  async function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    const { files, emptyFolders } = await filesFromDrop(event.dataTransfer);
    await addFiles(files, emptyFolders);
  }

  return (
    <div
      className={`drop-zone${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
      // The whole zone is a click target; the keyboard reaches the "Add folder" input itself.
      onClick={(e) => {
        if (e.target === e.currentTarget || (e.target as HTMLElement).tagName === 'P') inputRef.current?.click();
      }}
    >
      <p className="drop-title">Drop a folder here</p>
      <p className="muted small">One subfolder per class, images inside (PNG, JPEG, WebP, GIF, BMP). Nothing leaves this computer.</p>
      <label className="button primary">
        Add folder
        <input
          ref={inputRef}
          className="visually-hidden"
          type="file"
          aria-label="Add folder"
          webkitdirectory=""
          multiple
          disabled={!modelReady || ingest !== null}
          onChange={async (e) => {
            const list = e.target.files;
            if (list && list.length) await addFiles(filesFromPicker(list));
            if (inputRef.current) inputRef.current.value = '';
          }}
        />
      </label>
      {ingest ? (
        <div className="ingest">
          <progress max={ingest.total} value={ingest.done} aria-label="Adding images" />
          <span className="small">{formatCount(ingest.done)} of {formatCount(ingest.total)} files</span>
        </div>
      ) : null}
    </div>
  );
}

/** Middle column: the drop zone, the classes with counts and thumbnails, the split, and what was rejected. */
export function DataPanel() {
  const images = useStudio((s) => s.images);
  const classNames = useStudio((s) => s.classNames);
  const notices = useStudio((s) => s.notices);
  const rejected = useStudio((s) => s.rejected);
  const source = useStudio((s) => s.datasetSource);
  const datasetName = useStudio((s) => s.datasetName);
  const validationFraction = useStudio((s) => s.validationFraction);
  const splitSeed = useStudio((s) => s.splitSeed);
  const model = useStudio((s) => s.model);

  const counts = useMemo(() => classCounts({ images, classNames }), [images, classNames]);
  const allNotices = useMemo(() => datasetNotices({ images, classNames, notices }, counts), [images, classNames, notices, counts]);
  const samplesByClass = useMemo(() => {
    const byClass = new Map<string, DatasetImage[]>(classNames.map((n) => [n, []]));
    for (const image of images) {
      const list = byClass.get(image.className)!;
      if (list.length < THUMBS_PER_CLASS) list.push(image);
    }
    return byClass;
  }, [images, classNames]);
  const validationTotal = counts.reduce((sum, c) => sum + validationCountFor(c, validationFraction), 0);
  const shape: ImageShape | null = model ? { ...model.inputShape, channels: model.inputShape.channels === 3 ? 3 : 1 } : null;

  return (
    <section className="panel data-panel" aria-labelledby="data-heading">
      <h2 id="data-heading">2 · Data</h2>
      <DropZone />
      {images.length > 0 ? (
        <div className="dataset-summary">
          <p>
            <strong data-testid="image-count">{formatCount(images.length)} images</strong> in {classNames.length} classes
            {source === 'sample' ? <span className="badge">built-in sample</span> : null}
          </p>
          <p className="muted small">
            {source === 'sample' ? `${datasetName}. Your first folder replaces it.` : `${datasetName}.`} Split (stratified, seed {splitSeed}):{' '}
            {formatCount(images.length - validationTotal)} train, {formatCount(validationTotal)} validation ({Math.round(validationFraction * 100)}%).
          </p>
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
      {shape ? (
        <ul className="class-list" aria-label="Classes">
          {classNames.map((name, i) => (
            <ClassCard key={name} name={name} count={counts[i]} images={samplesByClass.get(name) ?? []} shape={shape} validationFraction={validationFraction} />
          ))}
        </ul>
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
