import { useId, useState, type DragEvent, type ReactNode } from 'react';
import { filesFromDrop } from '../../data/dropWalk';
import type { ImageShape } from '../../data/types';
import { reasonOf } from '../../core/result';
import { useStudio, type ClassEdit, type DatasetImage } from '../../store/store';
import { formatCount } from '../../core/format';
import { CameraCapture } from './CameraCapture';
import { addImagesToClass, type ClassSplit } from './classImages';
import { ThumbnailGrid } from './ThumbnailGrid';

type Mode = 'idle' | 'rename' | 'merge' | 'delete';

/** Props of `ClassCard`: one class, its images, its split counts, and the other classes (merge targets). */
export interface ClassCardProps {
  name: string;
  images: DatasetImage[];
  split: ClassSplit;
  shape: ImageShape;
  otherClasses: string[];
  /** True when pasted images go to this class. */
  pasteTarget: boolean;
  /** False while images are being added: edits wait for the ingest to end. */
  editable: boolean;
}

function plural(count: number, word: string): string {
  return `${formatCount(count)} ${word}${count === 1 ? '' : 's'}`;
}

/** A class card's inline edit (rename, merge): its field, the submit button it passes, and Cancel. */
function InlineEditForm({ onSubmit, onCancel, submit, children }: { onSubmit(): void; onCancel(): void; submit: ReactNode; children: ReactNode }) {
  return (
    <form
      className="class-edit"
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
      {submit}
      <button type="button" className="small-button" onClick={onCancel}>
        Cancel
      </button>
    </form>
  );
}

/**
 * One class: name, counts per split, the paste-target toggle, Rename / Merge / Delete (with a
 * confirm step that says how many images go), an "Add images" picker, and its thumbnails with
 * Remove per image. The card is a drop target for image files, which join this class.
 */
export function ClassCard({ name, images, split, shape, otherClasses, pasteTarget, editable }: ClassCardProps) {
  const [mode, setMode] = useState<Mode>('idle');
  const [draft, setDraft] = useState(name);
  const [mergeInto, setMergeInto] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const errorId = useId();
  const count = images.length;

  const open = (next: Mode) => {
    setError(null);
    setDraft(name);
    setMergeInto(otherClasses[0] ?? '');
    setMode(next);
  };
  const close = () => {
    setError(null);
    setMode('idle');
  };
  const finish = (result: ClassEdit) => {
    setError(reasonOf(result));
    if (result.ok) setMode('idle');
  };

  async function onDrop(event: DragEvent) {
    event.preventDefault();
    event.stopPropagation();
    setDragging(false);
    if (!editable) return;
    const { files } = await filesFromDrop(event.dataTransfer);
    await addImagesToClass(name, files);
  }

  return (
    <li
      className={`class-card${dragging ? ' dragging' : ''}${pasteTarget ? ' paste-target' : ''}`}
      aria-label={`Class ${name}: ${plural(count, 'image')}`}
      onDragOver={(e) => {
        e.preventDefault();
        e.stopPropagation();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <div className="class-head">
        <span className="class-title">
          <span className="class-name">{name}</span>
          <button
            type="button"
            className={`small-button paste-toggle${pasteTarget ? ' on' : ''}`}
            aria-pressed={pasteTarget}
            // The visible words lead the name (WCAG 2.5.3, label in name).
            aria-label={`${pasteTarget ? 'Paste target' : 'Paste here'}: select ${name} for pasted images`}
            title={pasteTarget ? 'Pasted images go to this class' : 'Send pasted images to this class'}
            onClick={() => useStudio.getState().selectClass(name)}
          >
            {pasteTarget ? '● Paste target' : '○ Paste here'}
          </button>
        </span>
        <span className="muted small class-counts">
          {plural(count, 'image')} · {formatCount(split.train)} train / {formatCount(split.validation)} val / {formatCount(split.test)} test
        </span>
      </div>

      <div className="class-actions">
        <label className={`button small-button${editable ? '' : ' disabled'}`}>
          Add images
          <input
            className="visually-hidden"
            type="file"
            accept="image/*"
            multiple
            aria-label={`Add images to ${name}`}
            disabled={!editable}
            onChange={async (e) => {
              const input = e.currentTarget;
              const picked = Array.from(input.files ?? [], (file) => ({ path: file.name, blob: file }));
              input.value = '';
              await addImagesToClass(name, picked);
            }}
          />
        </label>
        <button
          type="button"
          className="small-button"
          aria-label={`Rename ${name}`}
          disabled={!editable}
          aria-expanded={mode === 'rename'}
          onClick={() => open('rename')}
        >
          Rename
        </button>
        <button
          type="button"
          className="small-button"
          aria-label={`Merge into…: merge ${name} into another class`}
          disabled={!editable || otherClasses.length === 0}
          aria-expanded={mode === 'merge'}
          onClick={() => open('merge')}
        >
          Merge into…
        </button>
        <button
          type="button"
          className="small-button danger"
          aria-label={`Delete ${name}`}
          disabled={!editable}
          aria-expanded={mode === 'delete'}
          onClick={() => open('delete')}
        >
          Delete
        </button>
      </div>
      <CameraCapture name={name} editable={editable} />

      {mode === 'rename' ? (
        <InlineEditForm
          onSubmit={() => finish(useStudio.getState().renameClass(name, draft))}
          onCancel={close}
          submit={
            <button type="submit" className="primary small-button" disabled={!editable}>
              Save name
            </button>
          }
        >
          <label className="field inline">
            <span>New name for {name}</span>
            <input
              type="text"
              value={draft}
              autoFocus
              aria-invalid={error !== null}
              aria-describedby={error ? errorId : undefined}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => e.key === 'Escape' && close()}
            />
          </label>
        </InlineEditForm>
      ) : null}

      {mode === 'merge' ? (
        <InlineEditForm
          onSubmit={() => finish(useStudio.getState().mergeClasses(name, mergeInto))}
          onCancel={close}
          submit={
            <button type="submit" className="primary small-button" disabled={!editable || !mergeInto}>
              Merge {plural(count, 'image')}
            </button>
          }
        >
          <label className="field inline">
            <span>Merge {name} into</span>
            <select value={mergeInto} onChange={(e) => setMergeInto(e.target.value)} autoFocus>
              {otherClasses.map((other) => (
                <option key={other} value={other}>
                  {other}
                </option>
              ))}
            </select>
          </label>
        </InlineEditForm>
      ) : null}

      {mode === 'delete' ? (
        <div className="class-edit" role="group" aria-label={`Confirm deleting ${name}`}>
          <p className="small">
            Delete class ‘{name}’ and its {plural(count, 'image')}? The files on your computer are not touched.
          </p>
          <button type="button" className="danger small-button" autoFocus disabled={!editable} onClick={() => finish(useStudio.getState().deleteClass(name))}>
            Delete {name} and {plural(count, 'image')}
          </button>
          <button type="button" className="small-button" onClick={close}>
            Cancel
          </button>
        </div>
      ) : null}

      {error ? (
        <p id={errorId} className="error small" role="alert">
          {error}
        </p>
      ) : null}

      {count > 0 ? (
        <ThumbnailGrid
          images={images}
          shape={shape}
          label={`Images of class ${name}`}
          onRemove={editable ? (id) => useStudio.getState().removeImage(id) : undefined}
        />
      ) : (
        <p className="muted small class-empty">No images yet: drop images on this card, use Add images, or paste one while this class is the paste target.</p>
      )}
    </li>
  );
}
