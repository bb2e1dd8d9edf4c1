/**
 * Autosave in the browser and reopen on load: the same snapshot as "Save project file" (snapshotOfStudio)
 * kept in IndexedDB (app/projectStore), and put back with the same restoreProject when the studio starts.
 * A save runs 1 s after the last change of what a project keeps, never while a run, an ingest or a model
 * load is in progress, and only once the user has done something (a pristine built-in demo is not saved).
 * The trained weights and the evaluation are not kept here yet.
 */
import { create } from 'zustand';
import type { ProjectSnapshot } from '../core/project';
import { useStudio, type StudioState } from '../store/store';
import { busyReason, restoredText, restoreProject, snapshotOfStudio } from './projectFile';
import { contentKey, loadStoredProject, saveStoredProject, type PartSource } from './projectStore';

/** What the status bar says of the autosave. */
export type AutosaveStatus =
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'saved'; at: Date }
  | { kind: 'failed'; message: string }
  | { kind: 'restored'; message: string }
  | { kind: 'unusable'; message: string };

export const useAutosave = create<{ status: AutosaveStatus }>(() => ({ status: { kind: 'idle' } }));

const setStatus = (status: AutosaveStatus) => useAutosave.setState({ status });

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

/** The parts of `snapshot` as the store takes them: each file's content key, read again only when it is new. */
async function partSources(files: ReadonlyMap<string, Blob>): Promise<Map<string, PartSource>> {
  const sources = new Map<string, PartSource>();
  for (const [part, blob] of files) sources.set(part, { key: await keyOf(blob), read: async () => new Uint8Array(await blob.arrayBuffer()) });
  return sources;
}

function failureText(outcome: { reason: 'quota' | 'error'; message: string; neededBytes: number }): string {
  if (outcome.reason === 'quota') {
    const mb = Math.max(1, Math.ceil(outcome.neededBytes / 1e6));
    return `Not saved: the browser's storage is full (needed ~${mb} MB). Delete data or Save project file.`;
  }
  return `Not saved in the browser: ${outcome.message}. The studio keeps working; use Save project file to keep this project.`;
}

let saving = false;
let again = false;
/** A change not saved yet (set while the studio is busy, or by a save that found it busy). */
let pending = false;

/** Saves the studio's project now (skipped while it is busy; a save asked for during a save runs after it). */
export async function saveNow(): Promise<void> {
  if (saving) {
    again = true;
    return;
  }
  const state = useStudio.getState();
  if (busyReason(state, 'save')) {
    pending = true;
    return;
  }
  saving = true;
  setStatus({ kind: 'saving' });
  try {
    let snapshot: ProjectSnapshot;
    let files: Map<string, Blob>;
    try {
      ({ snapshot, files } = await snapshotOfStudio(state, { readFiles: false }));
    } catch (error) {
      setStatus({ kind: 'failed', message: failureText({ reason: 'error', message: (error as Error).message, neededBytes: 0 }) });
      return;
    }
    // Images were hashed (SHA-256 of their bytes) when they were added: their content key is known without reading them again.
    for (const image of state.images)
      if (image.source && image.hash && !keys.has(image.source)) keys.set(image.source, Promise.resolve(`sha256:${image.hash}`));
    const outcome = await saveStoredProject(snapshot, await partSources(files));
    setStatus(outcome.ok ? { kind: 'saved', at: new Date(outcome.savedAt) } : { kind: 'failed', message: failureText(outcome) });
  } finally {
    saving = false;
    if (again) {
      again = false;
      schedule();
    }
  }
}

let timer: ReturnType<typeof setTimeout> | null = null;

function schedule(): void {
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = null;
    void saveNow();
  }, DEBOUNCE_MS);
}

/**
 * Starts saving: from now on, a change of what a project keeps (or the end of a run, an ingest or a model
 * load after one) is saved 1 s after the last change. `touched`: a project was reopened, so it is the
 * user's already; otherwise the first change made after the start turns saving on.
 */
export function startAutosave(touched = false): () => void {
  pending = touched;
  return useStudio.subscribe((state, previous) => {
    const changed = keptChanged(state, previous);
    if (changed) pending = true;
    const busy = !!busyReason(state, 'save');
    const freed = !busy && !!busyReason(previous, 'save');
    if (pending && !busy && (changed || freed)) {
      pending = false;
      schedule();
    }
  });
}

/** Puts back the project saved in this browser, if there is one; what happened is the autosave's status. True when one was restored. */
export async function reopenStoredProject(): Promise<boolean> {
  const stored = await loadStoredProject();
  if (stored.kind === 'none') return false;
  if (stored.kind === 'unusable') {
    setStatus({ kind: 'unusable', message: `The project saved in this browser was not reopened: ${stored.reason}. Starting fresh.` });
    return false;
  }
  const restored = await restoreProject(stored.snapshot, stored.parts);
  if (!restored.ok) {
    setStatus({ kind: 'unusable', message: `The project saved in this browser was not reopened: ${restored.reason}. Starting fresh.` });
    return false;
  }
  setStatus({ kind: 'restored', message: `Reopened the project saved ${new Date(stored.savedAt).toLocaleString('en-GB')}: ${restoredText(restored)}` });
  return true;
}
