/** The training settings slice: what the next run is set to do (the Train panel's fields, schedule, per-block rates). */
import type { StateCreator } from 'zustand';
import { DEFAULT_TRAIN_CONFIG } from '../core/trainDefaults';
import type { TrainConfig } from '../core/types';
import type { ScheduleDraftStep } from '../core/unfreezeSchedule';
import type { StudioState } from './state';

/** The settings of the next run. */
export interface TrainSettingsSlice {
  config: TrainConfig;
  setConfig(patch: Partial<TrainConfig>): void;
  /** The "Auto" checkbox beside Epochs (on by default): see engine/autoEpochs.ts. */
  autoEpochs: boolean;
  setAutoEpochs(on: boolean): void;
  /** The unfreezing schedule as the editor holds it (block labels, epochs from 1); empty = none. */
  scheduleSteps: ScheduleDraftStep[];
  /** Learning-rate multiplier per block label (discriminative rates); blocks left out get 1. */
  blockMultipliers: Record<string, number>;
  setScheduleSteps(steps: ScheduleDraftStep[]): void;
  setBlockMultipliers(multipliers: Record<string, number>): void;
}

/** What a model load resets here: schedules and multipliers name blocks of the previous model. */
export const TRAIN_SETTINGS_ON_MODEL_LOAD = { scheduleSteps: [], blockMultipliers: {} } satisfies Partial<TrainSettingsSlice>;

/** The training settings slice. */
export const createTrainSettingsSlice: StateCreator<StudioState, [], [], TrainSettingsSlice> = (set) => ({
  config: DEFAULT_TRAIN_CONFIG,
  setConfig: (patch) => set((s) => ({ config: { ...s.config, ...patch } })),
  autoEpochs: true,
  setAutoEpochs: (on) => set({ autoEpochs: on }),
  scheduleSteps: [],
  blockMultipliers: {},
  setScheduleSteps: (steps) => set({ scheduleSteps: steps }),
  setBlockMultipliers: (multipliers) => set({ blockMultipliers: multipliers }),
});
