import { useCallback, useEffect, useRef, useState } from 'react';
import { tabLock } from '../../app/autosave';
import { listProjects } from '../../app/projectCatalog';
import { onSavedElsewhere } from '../../app/projectChannel';
import { projectsHeld } from '../../app/projectLock';
import type { ProjectSummary } from '../../app/projectStore';
import {
  deleteStoredProject,
  duplicateStoredProject,
  newProject,
  renameStoredProject,
  switchBlocker,
  switchToProject,
  type ProjectOutcome,
} from '../../app/projects';
import { isRunActive } from '../../store/selectors';
import { useStudio } from '../../store/store';
import { ProjectRow } from './ProjectRow';
import { StorageStatus } from './StorageStatus';

/**
 * The header's project switcher: a "Projects" button opening a dialog that lists the projects kept in this
 * browser (size, counts, saved time) with Open, Rename, Duplicate and Delete, makes a New project (the
 * default model, no images) or a Sample project (the built-in sample), and shows the storage used, the
 * quota and "Keep data persistent".
 */
export function ProjectSwitcher() {
  const dialog = useRef<HTMLDialogElement>(null);
  const openId = useStudio((s) => s.project?.id ?? null);
  const openName = useStudio((s) => s.project?.name ?? null);
  const busy = useStudio((s) => isRunActive(s) || s.ingest !== null || s.modelStatus === 'loading');
  const autosave = useStudio((s) => s.autosave);
  const [projects, setProjects] = useState<ProjectSummary[] | null>(null);
  const [elsewhere, setElsewhere] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [working, setWorking] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<ProjectOutcome | null>(null);
  const [refresh, setRefresh] = useState(0);
  const [shown, setShown] = useState(false);

  const reload = useCallback(async () => {
    try {
      setProjects(await listProjects());
      const held = await projectsHeld();
      held.delete(tabLock.held() ?? '');
      setElsewhere(held);
      setError(null);
    } catch (e) {
      setError(`The projects saved in this browser could not be read (${(e as Error).message}).`);
    }
    setRefresh((n) => n + 1);
  }, []);

  // The list follows the saves made while it is open, here and in other tabs.
  useEffect(() => {
    if (shown) void reload();
  }, [shown, autosave, openId, openName, reload]);
  useEffect(() => (shown ? onSavedElsewhere(() => void reload()) : undefined), [shown, reload]);

  const act = async (label: string, task: () => Promise<ProjectOutcome>) => {
    setWorking(label);
    setOutcome(null);
    try {
      setOutcome(await task());
    } finally {
      setWorking(null);
      await reload();
    }
  };
  const blocked = busy || working !== null;
  const blocker = busy ? switchBlocker() : null;

  return (
    <div className="project-switcher">
      <button
        type="button"
        aria-haspopup="dialog"
        onClick={() => {
          dialog.current?.showModal();
          setShown(true);
        }}
      >
        Projects
      </button>
      <dialog ref={dialog} aria-labelledby="projects-heading" className="projects-dialog" onClose={() => setShown(false)}>
        <h2 id="projects-heading">Projects</h2>
        <p className="muted small">Kept in this browser and saved as you work. Switching saves the open project first.</p>
        <div className="toolbar">
          <button type="button" disabled={blocked} onClick={() => void act('new', () => newProject('empty'))}>
            New project
          </button>
          <button type="button" disabled={blocked} onClick={() => void act('sample', () => newProject('sample'))}>
            Sample project
          </button>
        </div>
        {blocker ? <p className="muted small">{blocker}</p> : null}
        {working ? (
          <p className="muted small" aria-live="polite">
            Working…
          </p>
        ) : outcome ? (
          <p className={outcome.ok ? 'muted small' : 'error small'} role={outcome.ok ? 'status' : 'alert'} data-testid="projects-outcome">
            {outcome.message}
          </p>
        ) : null}
        {error ? <p className="error small">{error}</p> : null}
        {projects && projects.length === 0 ? (
          <p className="muted">No project is saved yet: it is saved once you add images, change a setting or train.</p>
        ) : null}
        <ul className="project-list" aria-label="Saved projects">
          {(projects ?? []).map((p) => (
            <ProjectRow
              key={p.id}
              project={p}
              open={p.id === openId}
              elsewhere={elsewhere.has(p.id)}
              blocked={blocked}
              onOpen={() => void act('open', () => switchToProject(p.id))}
              onRename={(name) => void act('rename', () => renameStoredProject(p.id, name))}
              onDuplicate={() => void act('duplicate', () => duplicateStoredProject(p.id))}
              onDelete={() => void act('delete', () => deleteStoredProject(p.id))}
            />
          ))}
        </ul>
        <StorageStatus refresh={refresh} />
        <form method="dialog">
          <button type="submit">Close</button>
        </form>
      </dialog>
    </div>
  );
}
