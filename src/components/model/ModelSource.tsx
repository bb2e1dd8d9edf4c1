import { useState } from 'react';
import { BUILT_IN_MODELS } from '../../app/builtInModels';
import { importModelFiles, loadBuiltInModel, loadModelFromUrl } from '../../app/studio';
import { isRunActive, modelSourceLabel } from '../../store/selectors';
import { useStudio } from '../../store/store';

/**
 * Where the model comes from: the built-in picker, "Import model…" (model.json
 * with its weight files), or a URL. Every way keeps the current model when
 * the new one fails to load.
 */
export function ModelSource() {
  const origin = useStudio((s) => s.modelOrigin);
  const label = useStudio(modelSourceLabel);
  const status = useStudio((s) => s.modelStatus);
  const running = useStudio((s) => isRunActive(s));
  const busy = status === 'loading' || running;
  const [url, setUrl] = useState('');
  const [dragging, setDragging] = useState(false);
  const picked = origin?.kind === 'builtin' ? origin.id : 'other';
  const about = BUILT_IN_MODELS.find((m) => m.id === picked)?.about;
  return (
    <div className="model-source">
      <label className="field model-picker">
        {/* The pane's heading says "Model" beside it; the select's name stays "Model". */}
        <span className="visually-hidden">Model</span>
        <select aria-label="Model" value={picked} disabled={busy} aria-describedby="model-about" onChange={(e) => void loadBuiltInModel(e.target.value)}>
          {BUILT_IN_MODELS.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label} (built-in)
            </option>
          ))}
          {picked === 'other' ? (
            <option value="other" disabled>
              {label || 'Imported model'}
            </option>
          ) : null}
        </select>
      </label>
      {about ? (
        <p id="model-about" className="muted small" title={about}>
          {about}
        </p>
      ) : null}
      <div
        className={`import-row${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          if (busy || !e.dataTransfer.types.includes('Files')) return;
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          const files = Array.from(e.dataTransfer.files);
          if (!busy && files.length) void importModelFiles(files);
        }}
      >
        <label className="button import" title="Pick or drop a tfjs Layers model.json with its weight files (on this row), or give its URL.">
          Import model…
          <input
            className="visually-hidden"
            type="file"
            multiple
            accept=".json,.bin,application/json,application/octet-stream"
            aria-label="Import model"
            disabled={busy}
            onChange={async (e) => {
              const input = e.target;
              const files = Array.from(input.files ?? []);
              input.value = '';
              if (files.length) await importModelFiles(files);
            }}
          />
        </label>
        <form
          className="url-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (url.trim()) void loadModelFromUrl(url);
          }}
        >
          <input type="url" aria-label="Model URL" placeholder="https://…/model.json" value={url} disabled={busy} onChange={(e) => setUrl(e.target.value)} />
          <button type="submit" disabled={busy || !url.trim()}>
            Load URL
          </button>
        </form>
      </div>
    </div>
  );
}
