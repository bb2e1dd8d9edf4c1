/** The studio's default training settings: the Train panel starts from these, and tests that check "the defaults" read them here. */
import type { TrainConfig } from './types';

/** Epochs 10 (auto epochs trains a head on cached features to convergence instead), batch 32, Adam at 0.001, seed 1. */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 10,
  batchSize: 32,
  learningRate: 0.001,
  seed: 1,
  optimizer: 'adam',
  schedule: 'constant',
  earlyStopping: null,
};
