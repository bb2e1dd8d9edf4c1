/**
 * Autosave in the browser: the same snapshot as "Save project file" (snapshotOfStudio) kept as the open
 * project in IndexedDB (app/projectStore), with the last run's trained weights (fetched from the worker once
 * per run). A save runs 1 s after the last change of what a project keeps, never while a run, an ingest or a
 * model load is in progress, only once the user has done something (a pristine built-in demo is not saved),
 * and only from the tab that holds the project's lock (app/projectLock): a read-only tab saves nothing.
 * The status is the store's `autosave` (store/projectSlice); opening and switching projects is app/projects.
 */
import type { ModelArtifactsWire } from '../core/exportModelFiles';
import type { AutosaveStatus } from '../store/projectSlice';
import { useStudio, type StudioState } from '../store/store';
import { announceSaved } from './projectChannel';
import { rememberLastProject } from './projectCatalog';
import { busyReason, snapshotOfStudio } from './projectFile';
import { browserLocks, createProjectLock } from './projectLock';
import { contentKey, newProjectId, saveStoredProject, type PartSource, type StoreSaveOutcome } from './projectStore';
import { studioClient } from './studio';
import { estimateText, formatBytes, storageEstimate } from './storageInfo';

export type { AutosaveStatus } from '../store/projectSlice';

const setStatus = (status: AutosaveStatus) => useStudio.getState().autosaveChanged(status);

/** This tab's id: the writer a save names, so a tab that lost the project cannot write it. */
export const TAB_ID = `tab-${crypto.randomUUID()}`;

/** This tab's project lock; losing it (another tab took the project over) makes the tab read-only. */
export const tabLock = createProjectLock(browserLocks(), () => {
  cancelScheduled();
  useStudio.getState().projectAccessChanged('taken-over');
});

/** The status as the status bar's sentence, or '' when there is nothing to say. */
export function autosaveText(status: AutosaveStatus): string {
  switch (status.kind) {
    case 'idle':
      return '';
    case 'saving':
      return 'Saving…';
    case 'saved':
      return `Saved ${status.at.toLocaleTimeString('en-GB', { hour12: false })}`;
    default:
      return status.message;
  }
}

/** The store fields a project is made of: a change of any of them is something to save. */
const KEPT = [
  'model',
  'modelOrigin',
  'cutLayer',
  'head',
  'preprocessing',
  'freezePlan',
  'batchNormOverrides',
  'images',
  'classNames',
  'rejected',
  'datasetName',
  'datasetSource',
  'validationFraction',
  'testFraction',
  'splitSeed',
  'config',
  'autoEpochs',
  'scheduleSteps',
  'blockMultipliers',
  'runs',
] as const satisfies readonly (keyof StudioState)[];

function keptChanged(a: StudioState, b: StudioState): boolean {
  return KEPT.some((field) => a[field] !== b[field]);
}

const DEBOUNCE_MS = 1000;
/** The storage key of each original file, computed once per Blob. */
const keys = new WeakMap<Blob, Promise<string>>();

function keyOf(blob: Blob): Promise<string> {
  let key = keys.get(blob);
  if (!key) {
    key = blob.arrayBuffer().then((buffer) => contentKey(new Uint8Array(buffer)));
    keys.set(blob, key);
  }
  return key;
}

/** The parts as the store takes them: each file's content key and the file itself (stored as a Blob), and bytes made in memory (the weights). */
async function partSources(files: ReadonlyMap<string, Blob>, bytes: ReadonlyMap<string, Uint8Array>): Promise<Map<string, PartSource>> {
  const sources = new Map<string, PartSource>();
  for (const [part, blob] of files) sources.set(part, { key: await keyOf(blob), read: async () => blob });
  for (const [part, data] of bytes) sources.set(part, { key: await contentKey(data), read: async () => data });
  return sources;
}

/** The last done run's trained weights, fetched from the worker once per run (null: none, or the worker has none). */
let weights: { runId: number; model: StudioState['model']; artifacts: Promise<ModelArtifactsWire | null> } | null = null;

function runWeights(state: StudioState): Promise<ModelArtifactsWire | null> {
  if (state.runStatus !== 'done' || !state.runOutcome) return Promise.resolve(null);
  if (!weights || weights.runId !== state.runId || weights.model !== state.model) {
    const artifacts = studioClient()
      .exportModel()
      .catch(() => null);
    weights = { runId: state.runId, model: state.model, artifacts };
  }
  return weights.artifacts;
}

/** The status bar's sentence for a save that failed: how much was needed and what to do. */
export function failureText(outcome: Extract<StoreSaveOutcome, { ok: false }>): string {
  if (outcome.reason === 'quota') {
    return (
      `Not saved: the browser's storage is full (this save needed ${formatBytes(Math.max(1, outcome.neededBytes))} more). ` +
      `Delete a project (Projects) or use Save project file; the studio keeps working with what is in memory, and the last saved version is kept.`
    );
  }
  if (outcome.reason === 'taken-over') return 'Not saved: another tab took this project over.';
  return `Not saved in the browser: ${outcome.message}. The studio keeps working; use Save project file to keep this project.`;
}

/** When the open project was last saved or opened in this tab (a take-over reopens it when another tab saved since). */
let knownSavedAt: string | null = null;

/** Notes the time of the version this tab has open (null: none saved yet). */
export function noteSavedAt(savedAt: string | null): void {
  knownSavedAt = savedAt;
}

/** The time of the version this tab has open, or null. */
export function savedAtInThisTab(): string | null {
  return knownSavedAt;
}

let saving: Promise<void> | null = null;
let again = false;
/** A change not saved yet (set while the studio is busy, or by a save that found it busy). */
let pending = false;
/** While a project is being switched or restored, changes are not saved (they are the restore's, not the user's). */
let suspended = false;

/** True when this tab may write its project. */
function mayWrite(state: StudioState): boolean {
  return state.projectAccess === 'writer' || state.projectAccess === 'unlocked';
}

/** Saves the studio's project now (skipped while it is busy; a save asked for during a save runs after it). */
export async function saveNow(): Promise<void> {
  if (saving) {
    again = true;
    return saving;
  }
  const state = useStudio.getState();
  if (suspended || !mayWrite(state)) return;
  if (busyReason(state, 'save')) {
    pending = true;
    return;
  }
  saving = saveState(state);
  try {
    await saving;
  } finally {
    saving = null;
    if (again) {
      again = false;
      schedule();
    }
  }
}

async function saveState(state: StudioState): Promise<void> {
  setStatus({ kind: 'saving' });
  let project = state.project;
  try {
    const artifacts = await runWeights(state);
    const { snapshot, files, parts } = await snapshotOfStudio(state, { readFiles: false, weights: artifacts });
    // Images were hashed (SHA-256 of their bytes) when they were added: their content key is known without reading them again.
    for (const image of state.images)
      if (image.source && image.hash && !keys.has(image.source)) keys.set(image.source, Promise.resolve(`sha256:${image.hash}`));
    if (!project) {
      project = { id: newProjectId(), name: snapshot.name };
      await tabLock.acquire(project.id);
      useStudio.getState().projectAccessChanged('writer');
    }
    const outcome = await saveStoredProject(project.id, { ...snapshot, name: project.name }, await partSources(files, parts), {
      name: project.name,
      writer: TAB_ID,
    });
    if (!outcome.ok) {
      if (outcome.reason === 'taken-over') useStudio.getState().projectAccessChanged('taken-over');
      // Not saved: the next change (or the end of a run, an ingest or a model load) tries again.
      if (outcome.reason !== 'taken-over') pending = true;
      const storage = outcome.reason === 'quota' ? ` ${estimateText(await storageEstimate())}` : '';
      setStatus({ kind: 'failed', message: `${failureText(outcome)}${storage}` });
      return;
    }
    if (useStudio.getState().project?.id !== project.id) {
      useStudio.getState().projectOpened({ id: project.id, name: outcome.summary.name });
      await rememberLastProject(project.id).catch(() => undefined);
    }
    knownSavedAt = outcome.savedAt;
    setStatus({ kind: 'saved', at: new Date(outcome.savedAt) });
    announceSaved(project.id, outcome.savedAt);
  } catch (error) {
    setStatus({ kind: 'failed', message: failureText({ ok: false, reason: 'error', message: (error as Error).message, neededBytes: 0 }) });
  }
}

let timer: ReturnType<typeof setTimeout> | null = null;

function cancelScheduled(): void {
  if (timer) clearTimeout(timer);
  timer = null;
}

function schedule(): void {
  cancelScheduled();
  timer = setTimeout(() => {
    timer = null;
    void saveNow();
  }, DEBOUNCE_MS);
}

/** Saves at once what is waiting to be saved (a scheduled save, a change held back), and waits for a save under way. */
export async function flushAutosave(): Promise<void> {
  const waiting = timer !== null || pending || again;
  cancelScheduled();
  if (saving) await saving.catch(() => undefined);
  if (waiting || again) {
    pending = false;
    again = false;
    await saveNow();
  }
}

/** Stops (true) or resumes (false) saving while a project is switched or restored; resuming forgets the changes made meanwhile. */
export function suspendAutosave(on: boolean): void {
  suspended = on;
  if (on) cancelScheduled();
  else pending = false;
}

/** Marks the open project as changed by the user, so the next moment the studio is free it is saved (a new project to list). */
export function markChanged(): void {
  pending = true;
  if (!busyReason(useStudio.getState(), 'save')) schedule();
}

/**
 * Starts saving: from now on, a change of what a project keeps (or the end of a run, an ingest or a model
 * load after one) is saved 1 s after the last change. `touched`: a project was reopened, so it is the
 * user's already; otherwise the first change made after the start turns saving on.
 */
export function startAutosave(touched = false): () => void {
  pending = touched;
  return useStudio.subscribe((state, previous) => {
    if (suspended) return;
    const changed = keptChanged(state, previous);
    if (changed) pending = true;
    const busy = !!busyReason(state, 'save');
    const freed = !busy && !!busyReason(previous, 'save');
    if (pending && !busy && (changed || freed) && mayWrite(state)) {
      pending = false;
      schedule();
    }
  });
}
