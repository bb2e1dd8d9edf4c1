import { useRef, useState, type DragEvent, type RefObject } from 'react';
import { addDropped } from '../../app/dropFiles';
import { filesFromDrop, filesFromPicker } from '../../data/dropWalk';
import { useStudio } from '../../store/store';
import { IngestProgress } from './IngestProgress';

/** A button-styled file input whose picks (files, or a folder's files) are added to the dataset. */
function FilePicker(props: {
  label: string;
  text: string;
  disabled: boolean;
  primary?: boolean;
  folder?: boolean;
  accept?: string;
  inputRef?: RefObject<HTMLInputElement | null>;
}) {
  return (
    <label className={`button${props.primary ? ' primary' : ''}`}>
      {props.text}
      <input
        ref={props.inputRef}
        className="visually-hidden"
        type="file"
        aria-label={props.label}
        accept={props.accept}
        multiple
        {...(props.folder ? { webkitdirectory: '' } : {})}
        disabled={props.disabled}
        onChange={async (e) => {
          const input = e.target;
          const list = input.files;
          if (list && list.length) await addDropped(filesFromPicker(list));
          input.value = '';
        }}
      />
    </label>
  );
}

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
    // A project file dropped here opens as a project; anything else joins the dataset.
    await addDropped(files, emptyFolders);
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
      <p className="muted small">
        One subfolder per class, images inside (PNG, JPEG, WebP, GIF, BMP), or several class folders at once. Nothing leaves this computer.
      </p>
      <div className="drop-buttons">
        <FilePicker label="Add folder" text="Add folder" primary inputRef={inputRef} disabled={!modelReady || ingest !== null} folder />
        <FilePicker label="Add zip" text="Add zip…" accept=".zip,application/zip" disabled={!modelReady || ingest !== null} />
      </div>
      <IngestProgress />
    </div>
  );
}
