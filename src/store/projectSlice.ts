/** The project slice: which stored project this tab has open, whether it may write it, and what the autosave did. */
import type { StateCreator } from 'zustand';
import type { StudioState } from './state';

/** What the status bar says of the autosave. */
export type AutosaveStatus =
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'saved'; at: Date }
  | { kind: 'failed'; message: string }
  | { kind: 'restored'; message: string }
  | { kind: 'unusable'; message: string };

/**
 * Whether this tab writes its project: 'writer' (it holds the project's lock), 'read-only' (another tab has it
 * open: nothing is saved here), 'taken-over' (another tab took it over from this one), 'unlocked' (no lock yet).
 */
export type ProjectAccess = 'unlocked' | 'writer' | 'read-only' | 'taken-over';

/** The open project: its id in the browser's storage and its name; null before one is saved or opened. */
export interface OpenProject {
  id: string;
  name: string;
}

/** The open project, the tab's access to it, and the autosave's status. */
export interface ProjectSlice {
  project: OpenProject | null;
  projectAccess: ProjectAccess;
  autosave: AutosaveStatus;
  /** When another tab last saved the open project (ISO time; null: not since this tab opened it). */
  savedElsewhereAt: string | null;
  /** This tab now has `project` open (a switch, a new project, a rename). */
  projectOpened(project: OpenProject | null): void;
  /** Another tab saved the open project at `savedAt`. */
  projectSavedElsewhere(savedAt: string): void;
  projectAccessChanged(access: ProjectAccess): void;
  autosaveChanged(status: AutosaveStatus): void;
}

/** The slice, with no project open and nothing saved yet. */
export const createProjectSlice: StateCreator<StudioState, [], [], ProjectSlice> = (set) => ({
  project: null,
  projectAccess: 'unlocked',
  autosave: { kind: 'idle' },
  savedElsewhereAt: null,
  projectOpened: (project) => set((s) => ({ project, savedElsewhereAt: project?.id === s.project?.id ? s.savedElsewhereAt : null })),
  projectSavedElsewhere: (savedElsewhereAt) => set({ savedElsewhereAt }),
  // Writing it from here on: what another tab saved before is this tab's to overwrite now.
  projectAccessChanged: (projectAccess) => set(projectAccess === 'writer' ? { projectAccess, savedElsewhereAt: null } : { projectAccess }),
  autosaveChanged: (autosave) => set({ autosave }),
});
