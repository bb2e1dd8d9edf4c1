import { useRef, useState, type DragEvent } from 'react';
import { addFiles } from '../../app/studio';
import { filesFromDrop, filesFromPicker } from '../../data/dropWalk';
import { useStudio } from '../../store/store';
import { IngestProgress } from './IngestProgress';

/** The large drop target for a folder of class folders (or a .zip of them), with the "Add folder" and "Add zip" pickers and the ingest progress. */
export function DropZone() {
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
      <p className="drop-title">Drop a folder or a .zip here</p>
      <p className="muted small">One subfolder per class, images inside (PNG, JPEG, WebP, GIF, BMP), or several class folders at once. Nothing leaves this computer.</p>
      <div className="drop-buttons">
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
        <label className="button">
          Add zip…
          <input
            className="visually-hidden"
            type="file"
            aria-label="Add zip"
            accept=".zip,application/zip"
            multiple
            disabled={!modelReady || ingest !== null}
            onChange={async (e) => {
              const input = e.target;
              const list = input.files;
              if (list && list.length) await addFiles(filesFromPicker(list));
              input.value = '';
            }}
          />
        </label>
      </div>
      <IngestProgress />
    </div>
  );
}
