/** The worker slice: the training backend, and a crashed worker and its restart. */
import type { StateCreator } from 'zustand';
import { sourceFreezePlan } from '../core/params';
import type { BackendName, BackendPreference, ModelDescription } from '../worker/protocol';
import { RUN_ON_NEW_WEIGHTS } from './runSlice';
import { isRunActive } from './selectors';
import type { StudioState } from './state';

/** The training worker stopped: why, and where restarting it stands. */
export interface WorkerCrash {
  /** What the worker said (or that it said nothing), e.g. "out of memory". */
  message: string;
  /** A restart is under way. */
  restarting: boolean;
  /** Why the last restart failed; null before one. */
  restartError: string | null;
}

/** The backend the worker trains on, and the worker's health. */
export interface WorkerSlice {
  backend: BackendName | null;
  backendNotes: string[];
  /** What the studio asked the backend to be at start-up (`?backend=`), so a restarted worker asks the same. */
  backendRequest: { preference: BackendPreference; allowSoftwareWebgl: boolean };
  backendRequested(preference: BackendPreference, allowSoftwareWebgl: boolean): void;
  backendReady(backend: BackendName, notes: string[]): void;
  /** The training worker stopped; null while it runs. */
  workerCrash: WorkerCrash | null;
  /** The worker crashed: the active run fails, a model load in progress fails, and the studio offers a restart. */
  workerCrashed(message: string): void;
  workerRestarting(): void;
  workerRestartFailed(message: string): void;
  /**
   * A fresh worker loaded `model` again: the same file keeps the tree, plan, head and run history, and the last
   * run's record goes (its trained weights died with the old worker); another file is loaded as a new model;
   * null: no model had loaded yet, only the backend was started again.
   */
  workerRestarted(model: ModelDescription | null): void;
}

/** The worker slice. */
export const createWorkerSlice: StateCreator<StudioState, [], [], WorkerSlice> = (set, get) => ({
  backend: null,
  backendNotes: [],
  backendRequest: { preference: 'auto', allowSoftwareWebgl: false },
  backendRequested: (preference, allowSoftwareWebgl) => set({ backendRequest: { preference, allowSoftwareWebgl } }),
  backendReady: (backend, notes) => set({ backend, backendNotes: notes }),
  workerCrash: null,
  workerCrashed: (message) =>
    set((s) => {
      const said = `The training worker crashed: ${message}`;
      return {
        workerCrash: { message, restarting: false, restartError: s.workerCrash?.restarting ? `It crashed again while restarting: ${message}` : null },
        ...(isRunActive(s) ? { runStatus: 'failed' as const, runError: said, paused: false, cacheProgress: null } : {}),
        ...(s.modelStatus === 'loading' ? { modelStatus: s.model ? ('ready' as const) : ('failed' as const), modelError: said } : {}),
      };
    }),
  workerRestarting: () => set((s) => (s.workerCrash ? { workerCrash: { ...s.workerCrash, restarting: true, restartError: null } } : {})),
  workerRestartFailed: (message) => set((s) => ({ workerCrash: { message: s.workerCrash?.message ?? message, restarting: false, restartError: message } })),
  workerRestarted: (model) => {
    const s = get();
    if (model === null) {
      set({ workerCrash: null, trainRefusal: null });
      return;
    }
    const same = s.model !== null && s.model.sourceHash === model.sourceHash && s.modelOrigin !== null;
    if (!same) {
      // Another file answered (it changed on disk): start over with it, as a load would.
      s.modelLoaded(model, sourceFreezePlan(model.layers), s.modelOrigin ?? { kind: 'url', url: model.name });
      set({ workerCrash: null, trainRefusal: null });
      return;
    }
    // The worker's trained head and weights are gone: nothing to export, predict or audit until the next run.
    set({ model, modelStatus: 'ready', modelError: null, ...RUN_ON_NEW_WEIGHTS, workerCrash: null, trainRefusal: null });
  },
});
