/** The run slice: the live run, its streamed metrics and audit, the run history, and which images the weights have seen. */
import type { StateCreator } from 'zustand';
import { countParams } from '../core/params';
import { reportUpdates, type AuditReport, type LayerUpdates } from '../core/auditCompare';
import { freezeSummary, makeRunRecord, type RunRecord } from '../core/runRecords';
import type { BatchPoint, EpochMetrics, TrainConfig, TrainableChange } from '../core/types';
import type { RunOutcome, RunSettings, RunSetup } from '../core/runTypes';

export type { RunSettings };
import { runPlanSettings, transferLayers } from './selectors';
import type { StudioState } from './state';

/** Where a training run stands. */
export type RunStatus = 'idle' | 'starting' | 'running' | 'stopping' | 'done' | 'failed';

/** What the client knows of a run as it starts it, beyond the store's own settings. */
export interface RunStart {
  /** The config the run really gets (auto epochs resolved); absent = `config` as set. */
  config?: TrainConfig;
  /** What auto epochs decided, in one line; null or absent when auto is off. */
  autoEpochs?: string | null;
  /** Ids (DatasetImage.id) of the images the run trains on. */
  trainImageIds?: readonly number[];
  /** How many of the run's validation images the weights it starts from were trained on. */
  validationTrainedOn?: number;
  /** Going on with an interrupted run: its settings and what it streamed up to its checkpoint are kept. */
  resumed?: ResumedHistory;
}

/** What an interrupted run had when its last checkpoint was taken: its settings, its setup, and its streams so far. */
export interface ResumedHistory {
  settings: RunSettings;
  setup: RunSetup | null;
  epochs: EpochMetrics[];
  batchPoints: BatchPoint[];
  trainableChanges: TrainableChange[];
}

/** A run cut short by a reload or crash whose checkpoint is saved: what the offer to resume it says. */
export interface InterruptedRun {
  runId: number;
  /** Complete epochs the checkpoint ends (from 1), of `epochsPlanned`. */
  epoch: number;
  epochsPlanned: number;
  /** "Run 3 · head only". */
  name: string;
  /** ISO 8601 time the checkpoint was written. */
  savedAt: string;
  /** Why it can only be kept or discarded, not resumed; null when it can be resumed. */
  resumeBlocker: string | null;
}

/** A run that ended in an earlier session, back as the last run: its weights are in the worker again (setWeights). */
export interface ReopenedRun extends ResumedHistory {
  runId: number;
  outcome: RunOutcome;
  trainedOnIds: readonly number[];
}

/** No image ids: the weights of a fresh model (or a fresh worker) were trained on nothing yet. */
export const NO_IMAGE_IDS: ReadonlySet<number> = new Set();

/** The live run, what it streams, and the runs before it. */
export interface RunSlice {
  runId: number;
  runStatus: RunStatus;
  runSetup: RunSetup | null;
  runSettings: RunSettings | null;
  runOutcome: RunOutcome | null;
  runError: string | null;
  batchPoints: BatchPoint[];
  epochs: EpochMetrics[];
  /** Changes of the trainable set during the run (schedule steps, live toggles), in order: the chart marks each. */
  trainableChanges: TrainableChange[];
  /** The run is held at a batch boundary. */
  paused: boolean;
  /** Feature-cache build progress of the starting run; null when no cache is being built. */
  cacheProgress: { done: number; total: number } | null;
  /** The freeze audit of the last run (from the worker, after the run or a Verify); null before one. */
  audit: AuditReport | null;
  /** ‖ΔW‖/‖W‖ per layer since the start of the run, from the worker after each epoch and the audit; null before one. */
  layerUpdates: LayerUpdates | null;
  auditArrived(report: AuditReport): void;
  layerUpdatesArrived(updates: LayerUpdates): void;
  /**
   * A run is being started with id `runId`: records what it starts with (`start.config`, the resolved config,
   * in `runSettings`) and which images the weights will have been trained on.
   */
  runRequested(runId: number, batchesPerEpoch: number, start?: RunStart): void;
  runStarted(setup: RunSetup): void;
  batchesArrived(points: BatchPoint[]): void;
  epochArrived(metrics: EpochMetrics): void;
  stopRequested(): void;
  trainableChanged(change: TrainableChange): void;
  runPaused(paused: boolean): void;
  cacheProgressed(done: number, total: number): void;
  runEnded(outcome: RunOutcome): void;
  runFailed(message: string): void;
  /** Every finished or stopped run since the model was loaded, in run order: "Compare runs" reads them. */
  runs: RunRecord[];
  /** Why the last press of Train was refused (a run in progress, no data…), quoting what to do; null once a run starts. The live run is left alone. */
  trainRefusal: string | null;
  trainRefused(message: string): void;
  /**
   * Ids (DatasetImage.id) of the images the worker's current weights were trained on: the training images of
   * every run since the last one that started from the pretrained weights (that run's included). Empty after a model load.
   */
  trainedOnIds: ReadonlySet<number>;
  /** Opening a project: its runs become the history of "Compare runs"; the next run's id comes after theirs. */
  runsRestored(runs: RunRecord[]): void;
  /**
   * A run of an earlier session is the last run again (its weights were put back in the worker): Export,
   * Predict and the evaluation read it as after the run. Its record is added to the history when it has none
   * (an interrupted run kept as a stopped one).
   */
  runReopened(run: ReopenedRun): void;
  /** The open project's interrupted run, offered for resuming (null: none, or it was resumed, kept or discarded). */
  interruptedRun: InterruptedRun | null;
  /** Why the last checkpoint of the run was not saved (storage full…), saying what that means; null when it was. */
  checkpointProblem: string | null;
  runInterrupted(run: InterruptedRun | null): void;
  checkpointSaved(problem: string | null): void;
}

/** What a run streams in and what is derived from it, empty: a new run starts here, and a model load clears the last one's. */
export const NO_RUN_RECORD = {
  runOutcome: null,
  runError: null,
  batchPoints: [],
  epochs: [],
  trainableChanges: [],
  paused: false,
  cacheProgress: null,
  audit: null,
  layerUpdates: null,
  evaluation: null,
} satisfies Partial<StudioState>;

/** What a model load (or a fresh worker) resets here: the last run belongs to the old weights, and nothing has been trained on yet. */
export const RUN_ON_NEW_WEIGHTS = {
  runStatus: 'idle',
  runSetup: null,
  runSettings: null,
  ...NO_RUN_RECORD,
  trainedOnIds: NO_IMAGE_IDS,
} satisfies Partial<StudioState>;

/** What a model load resets here: also the run history (its blocks and parameter counts are the previous model's). */
export const RUN_ON_MODEL_LOAD = { ...RUN_ON_NEW_WEIGHTS, runs: [] } satisfies Partial<StudioState>;

/** The run's freeze plan, what it keeps frozen and trains, and its schedule, at the start (a cut the model lacks: nothing to count). */
function freezeAtStart(s: StudioState): Pick<RunSettings, 'freezePlan' | 'freeze' | 'trainableParams' | 'unfreezeSchedule'> {
  const cutFound = s.model?.layers.some((layer) => layer.name === s.cutLayer || layer.parent === s.cutLayer) ?? false;
  const layers = cutFound ? transferLayers(s) : [];
  return {
    freezePlan: s.freezePlan,
    freeze: freezeSummary(layers, s.freezePlan),
    trainableParams: countParams(layers, s.freezePlan).trainable,
    unfreezeSchedule: cutFound ? runPlanSettings(s).unfreezeSchedule : [],
  };
}

/** The run slice. */
export const createRunSlice: StateCreator<StudioState, [], [], RunSlice> = (set) => ({
  runId: 0,
  ...RUN_ON_MODEL_LOAD,
  // The report's own relative updates are the latest reading: the tree's bars follow it.
  auditArrived: (report) => set({ audit: report, layerUpdates: reportUpdates(report) }),
  layerUpdatesArrived: (updates) => set({ layerUpdates: updates }),
  runRequested: (runId, batchesPerEpoch, start = {}) =>
    set((s) => {
      const config = start.config ?? s.config;
      const trained = start.trainImageIds ?? [];
      // From the pretrained weights, the run's own images are all the weights will have seen; otherwise they add to the earlier runs'.
      const trainedOnIds = config.fromPretrained === false ? new Set([...s.trainedOnIds, ...trained]) : new Set(trained);
      return {
        runId,
        runStatus: 'starting',
        runSetup: null,
        runSettings: {
          config,
          head: s.head,
          preprocessing: s.preprocessing!,
          classNames: s.classNames,
          dataset: { name: s.datasetName, images: s.images.length, validationFraction: s.validationFraction, splitSeed: s.splitSeed },
          ...freezeAtStart(s),
          autoEpochs: start.autoEpochs ?? null,
          validationTrainedOn: start.validationTrainedOn ?? 0,
          batchesPerEpoch,
        },
        trainRefusal: null,
        trainedOnIds,
        ...NO_RUN_RECORD,
        ...(start.resumed && {
          runSettings: start.resumed.settings,
          epochs: start.resumed.epochs,
          batchPoints: start.resumed.batchPoints,
          trainableChanges: start.resumed.trainableChanges,
        }),
      };
    }),
  runStarted: (setup) => set({ runStatus: 'running', runSetup: setup }),
  trainableChanged: (change) => set((s) => ({ trainableChanges: [...s.trainableChanges, change] })),
  runPaused: (paused) => set({ paused }),
  cacheProgressed: (done, total) => set({ cacheProgress: done >= total ? null : { done, total } }),
  batchesArrived: (points) => set((s) => ({ batchPoints: s.batchPoints.concat(points) })),
  epochArrived: (metrics) => set((s) => ({ epochs: [...s.epochs, metrics] })),
  stopRequested: () => set((s) => (s.runStatus === 'running' || s.runStatus === 'starting' ? { runStatus: 'stopping' } : {})),
  runEnded: (outcome) =>
    set((s) => {
      const run = s.runSettings;
      const record =
        run && !s.runs.some((r) => r.runId === s.runId)
          ? makeRunRecord({ runId: s.runId, ...run, setup: s.runSetup, outcome, epochs: s.epochs, trainableChanges: s.trainableChanges })
          : null;
      return { runStatus: 'done', runOutcome: outcome, paused: false, cacheProgress: null, trainRefusal: null, runs: record ? [...s.runs, record] : s.runs };
    }),
  runFailed: (message) => set({ runStatus: 'failed', runError: message, paused: false, cacheProgress: null, trainRefusal: null }),
  trainRefusal: null,
  trainRefused: (message) => set({ trainRefusal: message }),
  runsRestored: (runs) => set((s) => ({ runs, runId: Math.max(s.runId, ...runs.map((run) => run.runId)) })),
  interruptedRun: null,
  checkpointProblem: null,
  runInterrupted: (interruptedRun) => set({ interruptedRun }),
  checkpointSaved: (checkpointProblem) => set((s) => (s.checkpointProblem === checkpointProblem ? {} : { checkpointProblem })),
  runReopened: (run) =>
    set((s) => {
      const record = s.runs.some((r) => r.runId === run.runId)
        ? null
        : makeRunRecord({
            runId: run.runId,
            ...run.settings,
            setup: run.setup,
            outcome: run.outcome,
            epochs: run.epochs,
            trainableChanges: run.trainableChanges,
          });
      return {
        ...RUN_ON_NEW_WEIGHTS,
        runId: Math.max(s.runId, run.runId),
        runStatus: 'done',
        runSettings: run.settings,
        runSetup: run.setup,
        runOutcome: run.outcome,
        epochs: run.epochs,
        batchPoints: run.batchPoints,
        trainableChanges: run.trainableChanges,
        trainedOnIds: new Set(run.trainedOnIds),
        runs: record ? [...s.runs, record] : s.runs,
      };
    }),
});
