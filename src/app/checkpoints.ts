/**
 * A run survives a reload or a crash: after every complete epoch the worker posts a checkpoint (the weights
 * the run changes, by name, with the plan and rate factor in force), and this module keeps the latest one
 * per project in IndexedDB (its own database, `transfer-studio-checkpoints`, one record per project,
 * written in one put: a crash mid-write leaves the previous checkpoint). A run that ends deletes it. When a
 * project is opened and its checkpoint is there, the studio offers to resume the run from that epoch or
 * to keep it as a stopped run (ResumeRunAlert).
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { RunCheckpointMessage, StudioClient } from '../client/studioClient';
import type { BatchNormOverrides, FreezePlan, TrainConfig } from '../core/types';
import { isRunActive } from '../store/selectors';
import { useStudio, type ResumedHistory, type StudioState } from '../store/store';
import type { NamedWeightsWire, SetWeightsModel } from '../worker/protocol';
import { busyReason } from './projectFile';
import { studioClient } from './studio';

/** The checkpoints' database. */
export const CHECKPOINT_DB_NAME = 'transfer-studio-checkpoints';
/** The key of a checkpoint taken before the project was first saved. */
const UNSAVED = 'unsaved';

/** The latest checkpoint of one project's run. */
export interface CheckpointRecord {
  projectId: string;
  runId: number;
  /** Complete epochs (from 1). */
  epoch: number;
  savedAt: string;
  learningRateFactor: number;
  plan: FreezePlan;
  weights: NamedWeightsWire;
  cutLayer: string;
  /** The config the worker ran with (schedule and multipliers included). */
  workerConfig: TrainConfig;
  batchNormOverrides: BatchNormOverrides;
  history: ResumedHistory;
  trainedOnIds: number[];
}

interface CheckpointSchema extends DBSchema {
  checkpoints: { key: string; value: CheckpointRecord };
}

let database: Promise<IDBPDatabase<CheckpointSchema>> | null = null;
let databaseName = CHECKPOINT_DB_NAME;

function db(): Promise<IDBPDatabase<CheckpointSchema>> {
  database ??= openDB<CheckpointSchema>(databaseName, 1, {
    upgrade(upgrading) {
      upgrading.createObjectStore('checkpoints', { keyPath: 'projectId' });
    },
  });
  return database;
}

/** For tests: the checkpoints go to database `name` from now on. */
export function useCheckpointDatabase(name: string): void {
  databaseName = name;
  database = null;
}

function projectKey(state: Pick<StudioState, 'project'>): string {
  return state.project?.id ?? UNSAVED;
}

/** The record of `checkpoint` for the studio as it is now (its run's settings and streams so far). */
export function checkpointRecord(state: StudioState, checkpoint: RunCheckpointMessage, savedAt: Date): CheckpointRecord | null {
  const settings = state.runSettings;
  if (!settings || !state.cutLayer) return null;
  return {
    projectId: projectKey(state),
    runId: checkpoint.runId,
    epoch: checkpoint.epoch,
    savedAt: savedAt.toISOString(),
    learningRateFactor: checkpoint.learningRateFactor,
    plan: checkpoint.plan,
    weights: checkpoint.weights,
    cutLayer: state.cutLayer,
    workerConfig: state.runSetup?.config ?? settings.config,
    batchNormOverrides: state.runSetup?.batchNormOverrides ?? state.batchNormOverrides,
    history: {
      settings,
      setup: state.runSetup,
      epochs: state.epochs.filter((metrics) => metrics.epoch < checkpoint.epoch),
      batchPoints: state.batchPoints.filter((point) => point.epoch < checkpoint.epoch),
      trainableChanges: state.trainableChanges,
    },
    trainedOnIds: [...state.trainedOnIds],
  };
}

/** Why writing failed, in words: storage full says how much was needed and what to do. */
function problemOf(error: unknown, bytes: number): string {
  const name = (error as { name?: string })?.name;
  if (name === 'QuotaExceededError')
    return `The checkpoint after this epoch was not saved: the browser's storage is full (needed ~${Math.max(1, Math.ceil(bytes / 1e6))} MB). The run goes on; a reload would lose it. Delete a project to make room.`;
  return `The checkpoint after this epoch was not saved (${(error as Error)?.message ?? String(error)}). The run goes on; a reload would lose it.`;
}

/** Saves `record` over the project's previous checkpoint; resolves with the problem in words, or null. */
export async function saveCheckpoint(record: CheckpointRecord): Promise<string | null> {
  try {
    await (await db()).put('checkpoints', record);
    return null;
  } catch (error) {
    return problemOf(error, record.weights.weightData.byteLength);
  }
}

/** The project's checkpoint, or undefined. */
export async function readCheckpoint(projectId: string): Promise<CheckpointRecord | undefined> {
  return (await db()).get('checkpoints', projectId);
}

/** Deletes the project's checkpoint (nothing when there is none). */
export async function dropCheckpoint(projectId: string): Promise<void> {
  await (await db()).delete('checkpoints', projectId);
}

/** Why `record`'s run can be kept but not resumed here, or null. */
function resumeBlocker(record: CheckpointRecord, state: StudioState): string | null {
  if (record.epoch >= record.workerConfig.epochs) return 'It had completed all its epochs.';
  if (record.history.settings.config.fromPretrained === false && state.runStatus !== 'done')
    return 'It went on from an earlier run’s weights, which were not saved with the project.';
  return null;
}

/** Offers the open project's interrupted run, if it has one (else clears the offer). */
export async function lookForInterruptedRun(): Promise<void> {
  const state = useStudio.getState();
  const record = await readCheckpoint(projectKey(state)).catch(() => undefined);
  if (!record || isRunActive(useStudio.getState())) return useStudio.getState().runInterrupted(null);
  useStudio.getState().runInterrupted({
    runId: record.runId,
    epoch: record.epoch,
    epochsPlanned: record.workerConfig.epochs,
    name: `Run ${record.runId} · ${record.history.settings.freeze.text}`,
    savedAt: record.savedAt,
    resumeBlocker: resumeBlocker(record, useStudio.getState()),
  });
}

/** What setWeights builds the transfer model for, from `record`. */
function modelOf(record: CheckpointRecord): SetWeightsModel {
  const { settings } = record.history;
  return {
    cutLayer: record.cutLayer,
    classNames: settings.classNames,
    head: settings.head,
    plan: record.plan,
    batchNormOverrides: record.batchNormOverrides,
    preprocessing: settings.preprocessing,
    config: settings.config,
  };
}

/** The checkpoint of the offered run, after the checks every action makes; a string is the refusal. */
async function offered(action: string): Promise<CheckpointRecord | string> {
  const state = useStudio.getState();
  const busy = busyReason(state, action);
  if (busy) return busy;
  const record = await readCheckpoint(projectKey(state));
  if (!record || record.runId !== state.interruptedRun?.runId) return 'The interrupted run’s checkpoint is gone.';
  return record;
}

/** Puts the checkpoint's weights into the worker: onto the pretrained weights, or onto the reopened last run's. */
async function putBack(record: CheckpointRecord): Promise<void> {
  const weights = { weightSpecs: record.weights.weightSpecs, weightData: record.weights.weightData.slice(0) };
  await studioClient().setWeights(modelOf(record), weights, false);
}

/** "Resume": the checkpoint's weights back, then the run goes on from its next epoch with its history. Resolves with a refusal, or null. */
export async function resumeInterruptedRun(): Promise<string | null> {
  const record = await offered('resume the run');
  if (typeof record === 'string') return record;
  const blocker = resumeBlocker(record, useStudio.getState());
  if (blocker) return `Run ${record.runId} cannot be resumed: ${blocker}`;
  try {
    await putBack(record);
  } catch (error) {
    return `Run ${record.runId} was not resumed: ${(error as Error).message}`;
  }
  const runId = studioClient().train({
    runId: record.runId,
    epoch: record.epoch,
    learningRateFactor: record.learningRateFactor,
    plan: record.plan,
    workerConfig: record.workerConfig,
    batchNormOverrides: record.batchNormOverrides,
    resumed: record.history,
  });
  if (runId === null) return useStudio.getState().trainRefusal ?? `Run ${record.runId} was not resumed.`;
  useStudio.getState().runInterrupted(null);
  return null;
}

/** "Keep as a stopped run": the checkpoint's weights back as the last run, stopped after its last complete epoch. */
export async function keepInterruptedRun(): Promise<string | null> {
  const record = await offered('keep the run');
  if (typeof record === 'string') return record;
  try {
    await putBack(record);
  } catch (error) {
    return `Run ${record.runId} was not kept: ${(error as Error).message}`;
  }
  const last = record.history.epochs.at(-1) ?? null;
  useStudio.getState().runReopened({
    runId: record.runId,
    ...record.history,
    outcome: {
      stopped: true,
      epochsCompleted: record.epoch,
      batches: record.epoch * record.history.settings.batchesPerEpoch,
      validationLoss: last?.validationLoss ?? null,
      validationAccuracy: last?.validationAccuracy ?? null,
      restoredEpoch: record.epoch,
    },
    trainedOnIds: record.trainedOnIds,
  });
  useStudio.getState().runInterrupted(null);
  await dropCheckpoint(record.projectId);
  return null;
}

/** "Discard": the checkpoint goes; the project stays as it was saved. */
export async function discardInterruptedRun(): Promise<void> {
  const state = useStudio.getState();
  await dropCheckpoint(projectKey(state)).catch(() => undefined);
  state.runInterrupted(null);
}

/**
 * From now on: every checkpoint of the current run is saved for the open project (in a tab that writes it),
 * a run that ends deletes its project's checkpoint, and opening a project looks for one. Returns the unsubscribe.
 */
export function startCheckpoints(client: Pick<StudioClient, 'onCheckpoint'> = studioClient()): () => void {
  const stopListening = client.onCheckpoint((checkpoint) => {
    const state = useStudio.getState();
    if (state.projectAccess === 'read-only' || state.projectAccess === 'taken-over') return;
    const record = checkpointRecord(state, checkpoint, new Date());
    if (record) void saveCheckpoint(record).then((problem) => useStudio.getState().checkpointSaved(problem));
  });
  const stopWatching = useStudio.subscribe((state, previous) => {
    if (state.runStatus === 'done' && previous.runStatus !== 'done') void dropCheckpoint(projectKey(state)).catch(() => undefined);
    if (state.project?.id !== previous.project?.id) void lookForInterruptedRun();
  });
  return () => {
    stopListening();
    stopWatching();
  };
}
