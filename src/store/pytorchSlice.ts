/** The PyTorch slice: the last run train.py trained that was brought back with Import model, and its freeze audit. */
import type { StateCreator } from 'zustand';
import type { AuditReport } from '../core/auditCompare';
import type { StudioState } from './state';

/** A PyTorch run brought back: which run of Compare runs it is, the torch build, and its audit against the source. */
export interface PytorchRunImport {
  runId: number;
  /** "Run 4 · PyTorch · head only". */
  name: string;
  torch: string;
  processes: number;
  /** Against the model the export was made from; null when that model is not the one loaded (`note` says what to do). */
  audit: AuditReport | null;
  /** One line on what was compared with what, or why nothing was. */
  note: string;
}

/** The last PyTorch run imported. */
export interface PytorchSlice {
  pytorchRun: PytorchRunImport | null;
  pytorchRunImported(run: PytorchRunImport | null): void;
}

/** What a model load resets here: the audit compared with the previous model. */
export const PYTORCH_ON_MODEL_LOAD = { pytorchRun: null } satisfies Partial<StudioState>;

/** The PyTorch slice. */
export const createPytorchSlice: StateCreator<StudioState, [], [], PytorchSlice> = (set) => ({
  pytorchRun: null,
  pytorchRunImported: (pytorchRun) => set({ pytorchRun }),
});
