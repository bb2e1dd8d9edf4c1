/**
 * The user's projects as the studio sees them: reopen the last one on load, switch (the open project is
 * saved first, the other put back through restoreProject), New project (the default model, no images),
 * Sample project (the default model and the built-in sample, as the studio starts), rename, duplicate,
 * delete, open a project file as a new project, and take a project over from another tab. Each action
 * answers a sentence; none throws.
 */
import type { ProjectSnapshot } from '../core/project';
import { useStudio } from '../store/store';
import { flushAutosave, markChanged, noteSavedAt, saveNow, savedAtInThisTab, suspendAutosave, tabLock, TAB_ID } from './autosave';
import {
  claimWriter,
  deleteProject,
  duplicateProject,
  lastProjectId,
  listProjects,
  projectSummary,
  rememberLastProject,
  renameProject,
} from './projectCatalog';
import { busyReason, openProjectFile, restoredText, restoreProject, snapshotOfStudio, type ProjectFileOutcome } from './projectFile';
import { projectsHeld } from './projectLock';
import { onSavedElsewhere } from './projectChannel';
import { onUpgradeBlocked } from './projectDb';
import { clearUnfinishedSave, loadStoredProject, newProjectId } from './projectStore';
import { formatBytes } from './storageInfo';

/** What a project action answers: a sentence, and whether it is an error. */
export type ProjectOutcome = ProjectFileOutcome;

/** The studio as it starts (the default model and the built-in sample), taken before any project is reopened: what New and Sample project start from. */
let pristine: ProjectSnapshot | null = null;

const fail = (message: string): ProjectOutcome => ({ ok: false, message });

/** Holds the lock of project `id` (or learns another tab has it) and says so in the store; the tab's id becomes its writer when granted. */
async function lockProject(id: string): Promise<'writer' | 'read-only'> {
  const access = await tabLock.acquire(id);
  if (access === 'writer') await claimWriter(id, TAB_ID).catch(() => undefined);
  useStudio.getState().projectAccessChanged(access);
  return access;
}

/** Runs `restore` with the autosave suspended (what a restore changes is not the user's change), resuming it after. */
async function quietly<T>(restore: () => Promise<T>): Promise<T> {
  suspendAutosave(true);
  try {
    return await restore();
  } finally {
    suspendAutosave(false);
  }
}

/** Reads project `id` and puts it back into the studio as the open project; the sentence (to follow "Opened ") says what came back and what was recovered. */
async function openStored(id: string, what: string): Promise<ProjectOutcome> {
  const stored = await loadStoredProject(id);
  if (stored.kind === 'none') return fail(`${what} is not in this browser any more.`);
  if (stored.kind === 'unusable') return fail(`${what} was not opened: ${stored.reason}.`);
  const previous = useStudio.getState().project;
  const access = await lockProject(id);
  const restored = await quietly(() => restoreProject(stored.snapshot, stored.parts));
  if (!restored.ok) {
    if (previous) await lockProject(previous.id);
    return fail(`${what} was not opened: ${restored.reason}.`);
  }
  useStudio.getState().projectOpened({ id, name: stored.summary.name });
  noteSavedAt(stored.savedAt);
  // A save cut short is said once (below); its leftovers go, so the next load does not say it again.
  if (access === 'writer') await clearUnfinishedSave(id).catch(() => undefined);
  await rememberLastProject(id).catch(() => undefined);
  const recovered = stored.recovered ? ` Recovered: ${stored.recovered}.` : '';
  const readOnly = access === 'read-only' ? ' It is open in another tab: read-only here.' : '';
  const saved = new Date(stored.savedAt).toLocaleString('en-GB');
  return { ok: true, message: `the project '${stored.summary.name}' saved ${saved}: ${restoredText(restored)}${recovered}${readOnly}` };
}

/**
 * On load, after the default model and the sample: keeps that studio as the pristine one (New and Sample
 * project), then reopens the project last open in this browser (else the most recently saved one). What
 * happened is the autosave's status. True when a project was reopened.
 */
export async function reopenStoredProject(): Promise<boolean> {
  const state = useStudio.getState();
  onSavedElsewhere(({ id, savedAt }) => {
    if (useStudio.getState().project?.id === id) useStudio.getState().projectSavedElsewhere(savedAt);
  });
  onUpgradeBlocked(() =>
    useStudio.getState().autosaveChanged({
      kind: 'unusable',
      message: 'The saved projects wait for another Transfer Studio tab (an older version) to close, so their storage can be upgraded: close that tab.',
    }),
  );
  if (state.model && state.datasetSource === 'sample') pristine = (await snapshotOfStudio(state, { readFiles: false }).catch(() => null))?.snapshot ?? null;
  let id: string | undefined;
  try {
    // The last open project, unless another tab deleted it since: then the most recently saved one.
    id = await lastProjectId();
    if (!id || !(await projectSummary(id))) id = (await listProjects())[0]?.id;
  } catch (error) {
    state.autosaveChanged({ kind: 'unusable', message: `The projects saved in this browser could not be read (${(error as Error).message}). Starting fresh.` });
    return false;
  }
  if (!id) return false;
  const opened = await openStored(id, 'The project saved in this browser');
  if (!opened.ok) {
    tabLock.release();
    useStudio.getState().projectAccessChanged('unlocked');
    useStudio.getState().projectOpened(null);
    useStudio.getState().autosaveChanged({ kind: 'unusable', message: `${opened.message} Starting fresh.` });
    return false;
  }
  useStudio.getState().autosaveChanged({ kind: 'restored', message: `Reopened ${opened.message}` });
  return true;
}

/** Why the studio cannot switch projects now (a run, an ingest, a model load), or null. */
export function switchBlocker(): string | null {
  return busyReason(useStudio.getState(), 'switch projects');
}

/**
 * Saves the open project (when this tab writes it) before another one replaces it; when its last save failed
 * (a full disk) it is tried again, and if it fails still, the reason not to leave (null: saved, or nothing to save).
 */
async function leaveOpenProject(): Promise<string | null> {
  await flushAutosave();
  const state = useStudio.getState();
  if (state.autosave.kind !== 'failed' || state.projectAccess === 'read-only' || state.projectAccess === 'taken-over') return null;
  await saveNow();
  const after = useStudio.getState().autosave;
  if (after.kind !== 'failed') return null;
  return `Not switched, so the open project's latest changes are not lost. ${after.message}`;
}

/** Opens stored project `id` in place of the open one, which is saved first. */
export async function switchToProject(id: string): Promise<ProjectOutcome> {
  const busy = switchBlocker();
  if (busy) return fail(busy);
  if (useStudio.getState().project?.id === id) return { ok: true, message: 'This project is open already.' };
  const unsaved = await leaveOpenProject();
  if (unsaved) return fail(unsaved);
  const summary = await projectSummary(id).catch(() => undefined);
  const outcome = await openStored(id, `'${summary?.name ?? 'The project'}'`);
  if (!outcome.ok) return outcome;
  const message = `Opened ${outcome.message}`;
  useStudio.getState().autosaveChanged({ kind: 'restored', message });
  return { ok: true, message };
}

/** The pristine studio with no images, no runs and no weights: New project. */
function emptyOf(start: ProjectSnapshot): ProjectSnapshot {
  return {
    ...start,
    name: 'New project',
    dataset: { ...start.dataset, name: '', source: 'none', fromSample: false, classNames: [], images: [], rejected: [] },
    runs: [],
    weights: null,
    evaluation: null,
  };
}

/** A fresh project, saved and listed at once: 'empty' (the default model, no images) or 'sample' (the default model and the built-in sample). */
export async function newProject(kind: 'empty' | 'sample'): Promise<ProjectOutcome> {
  const busy = switchBlocker();
  if (busy) return fail(busy);
  if (!pristine) return fail('The built-in model and sample did not load when the studio started; reload the page, then try again.');
  const unsaved = await leaveOpenProject();
  if (unsaved) return fail(unsaved);
  const start = kind === 'empty' ? emptyOf(pristine) : { ...pristine, name: 'Sample project' };
  const id = newProjectId();
  const access = await lockProject(id);
  const restored = await quietly(() => restoreProject(start, new Map()));
  if (!restored.ok) return fail(`The new project could not be made: ${restored.reason}.`);
  useStudio.getState().projectOpened({ id, name: start.name });
  noteSavedAt(null);
  if (access === 'writer') await saveNow();
  return { ok: true, message: `'${start.name}' is open: ${restoredText(restored)}` };
}

/** Renames project `id` (the open one or another). */
export async function renameStoredProject(id: string, name: string): Promise<ProjectOutcome> {
  const trimmed = name.trim().slice(0, 120);
  if (!trimmed) return fail('A project needs a name: type one, then Save name.');
  const renamed = await renameProject(id, trimmed).catch((error: Error) => error);
  if (renamed instanceof Error) return fail(`Not renamed: ${renamed.message}.`);
  if (!renamed) return fail('That project is not in this browser any more.');
  const open = useStudio.getState().project;
  if (open?.id === id) useStudio.getState().projectOpened({ id, name: trimmed });
  return { ok: true, message: `Renamed to '${trimmed}'.` };
}

/** A copy of project `id` (the open one is saved first), listed as `<name> (copy)`; it shares every stored file, so it costs almost nothing. */
export async function duplicateStoredProject(id: string): Promise<ProjectOutcome> {
  if (useStudio.getState().project?.id === id) await leaveOpenProject();
  const summary = await projectSummary(id).catch(() => undefined);
  if (!summary) return fail('That project is not in this browser any more.');
  const copy = await duplicateProject(id, `${summary.name} (copy)`).catch((error: Error) => error);
  if (!copy || copy instanceof Error) return fail(`Not duplicated: ${copy instanceof Error ? copy.message : 'the project is gone'}.`);
  return { ok: true, message: `Made '${copy.name}' (it shares the stored images, so it takes almost no space).` };
}

/**
 * Deletes project `id` and frees what no other project uses. Deleting the open project leaves the studio
 * with a new, empty one (not listed until something is done in it).
 */
export async function deleteStoredProject(id: string): Promise<ProjectOutcome> {
  const open = useStudio.getState().project?.id === id;
  if (open) {
    const busy = switchBlocker();
    if (busy) return fail(busy);
  }
  const summary = await projectSummary(id).catch(() => undefined);
  const name = summary?.name ?? 'the project';
  if (tabLock.held() !== id && (await projectsHeld()).has(id))
    return fail(`'${name}' is open in another tab: close it there (or open another project there), then delete it.`);
  // Nothing of the open project is saved from here on: a save landing after the delete would bring it back.
  if (open) suspendAutosave(true);
  try {
    if (open) await flushAutosave();
    const freed = await deleteProject(id).catch((error: Error) => error);
    if (freed instanceof Error) return fail(`Not deleted: ${freed.message}.`);
    if (!open) {
      // The space freed may be what the open project's failed save needed: it is tried again now.
      const retried = useStudio.getState().autosave.kind === 'failed';
      if (retried) await saveNow();
      const saved = retried && useStudio.getState().autosave.kind === 'saved' ? ' The open project is saved now.' : '';
      return { ok: true, message: `Deleted '${name}': ${formatBytes(freed)} freed.${saved}` };
    }
    tabLock.release();
    useStudio.getState().projectOpened(null);
    useStudio.getState().projectAccessChanged('unlocked');
    noteSavedAt(null);
    if (pristine) await restoreProject(emptyOf(pristine), new Map());
    useStudio.getState().autosaveChanged({ kind: 'idle' });
    return { ok: true, message: `Deleted '${name}': ${formatBytes(freed)} freed. This is a new, empty project.` };
  } finally {
    if (open) suspendAutosave(false);
  }
}

/** Opens a project file as a new project (the open one is saved first and stays as it was saved). */
export async function openProjectFileAsProject(file: File): Promise<ProjectOutcome> {
  const busy = busyReason(useStudio.getState(), 'open the project');
  if (busy) return fail(busy);
  const unsaved = await leaveOpenProject();
  if (unsaved) return fail(unsaved);
  const previous = useStudio.getState().project;
  const outcome = await quietly(() => openProjectFile(file));
  if (!outcome.ok) return outcome;
  const id = newProjectId();
  const access = await lockProject(id);
  useStudio.getState().projectOpened({ id, name: useStudio.getState().datasetName || file.name.replace(/\.transfer-project\.zip$|\.zip$/i, '') });
  noteSavedAt(null);
  if (access === 'writer') await saveNow();
  else markChanged();
  return previous ? { ...outcome, message: `${outcome.message} It is a new project; '${previous.name}' stays as it was saved.` } : outcome;
}

/**
 * "Take over here": this tab becomes the open project's writer and the tab that had it becomes read-only.
 * When that tab saved since this one opened the project, the newer version is opened first.
 */
export async function takeOverProject(): Promise<ProjectOutcome> {
  const project = useStudio.getState().project;
  if (!project) return fail('No project is open.');
  const busy = switchBlocker();
  if (busy) return fail(busy);
  await tabLock.takeOver(project.id);
  await claimWriter(project.id, TAB_ID);
  useStudio.getState().projectAccessChanged('writer');
  const summary = await projectSummary(project.id).catch(() => undefined);
  if (summary && summary.savedAt !== savedAtInThisTab()) {
    const reopened = await openStored(project.id, `'${summary.name}'`);
    if (!reopened.ok) return reopened;
    return { ok: true, message: `This tab writes '${summary.name}' now; its latest version (saved in the other tab) is open.` };
  }
  return { ok: true, message: `This tab writes '${project.name}' now.` };
}
