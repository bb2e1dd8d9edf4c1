import { useState } from 'react';
import { saveProjectFile, type ProjectFileOutcome } from '../../app/projectFile';
import { openProjectFileAsProject } from '../../app/projects';
import { isRunActive } from '../../store/selectors';
import { useStudio } from '../../store/store';

/**
 * The header's project controls: "Save project file" (the model, its settings, the dataset's original files
 * and the runs, as one .zip) and "Open project file" (such a .zip back into the studio), with a line saying
 * what was saved or opened, or why not (an alert; the studio keeps what it has).
 */
export function ProjectFileControls() {
  const running = useStudio((s) => isRunActive(s));
  const ingesting = useStudio((s) => s.ingest !== null);
  const loading = useStudio((s) => s.modelStatus === 'loading');
  const [working, setWorking] = useState<'save' | 'open' | null>(null);
  const [outcome, setOutcome] = useState<ProjectFileOutcome | null>(null);
  const busy = working !== null || running || ingesting || loading;
  const act = async (kind: 'save' | 'open', task: () => Promise<ProjectFileOutcome>) => {
    setWorking(kind);
    setOutcome(null);
    try {
      setOutcome(await task());
    } finally {
      setWorking(null);
    }
  };
  return (
    <div className="project-file">
      <div className="project-file-buttons">
        <button type="button" disabled={busy} onClick={() => void act('save', () => saveProjectFile())}>
          Save project file
        </button>
        <label className={`button import${busy ? ' disabled' : ''}`}>
          Open project file…
          <input
            className="visually-hidden"
            type="file"
            accept=".zip,application/zip"
            aria-label="Open project file"
            disabled={busy}
            onChange={(e) => {
              const input = e.target;
              const file = input.files?.[0];
              input.value = '';
              if (file) void act('open', () => openProjectFileAsProject(file));
            }}
          />
        </label>
      </div>
      {working ? (
        <p className="muted small" aria-live="polite">
          {working === 'save' ? 'Saving the project…' : 'Opening the project…'}
        </p>
      ) : outcome?.ok ? (
        <p className="muted small" aria-live="polite" data-testid="project-file-status">
          {outcome.message}
        </p>
      ) : outcome ? (
        <p className="error small" role="alert" data-testid="project-file-status">
          {outcome.message}
        </p>
      ) : (
        <p className="muted small">Saves the model, its settings, the images, the runs and the last run’s trained weights and evaluation.</p>
      )}
    </div>
  );
}
