/** The shapes a training run is described by: its hooks, its result, and what it trains on. */
import type * as tf from '@tensorflow/tfjs';
import type { BatchSource } from './batchSource';
import type { LivePlan } from '../core/planChange';
import type { BatchPoint, EpochMetrics, TrainableChange } from '../core/types';

/** Callbacks a training run reports through; all optional. */
export interface TrainHooks {
  /** After every batch, with its loss. */
  onBatch?(point: BatchPoint): void;
  /** After every epoch, with train and validation metrics. */
  onEpoch?(metrics: EpochMetrics): void;
  /** Polled at every batch boundary; true ends the run there. */
  shouldStop?(): boolean;
  /** Polled at every batch boundary: a live freeze plan (and BN overrides) to apply there, handed over once; null when none. */
  takeLivePlan?(): LivePlan | null;
  /** After every change of the trainable set (schedule step or live plan), before the first batch trained with it. */
  onTrainableChange?(change: TrainableChange): void;
  /** Polled at every batch boundary: a promise to wait for while the run is paused, or null to go on. */
  pauseGate?(): Promise<void> | null;
  /**
   * After every complete epoch whose weights are good (finite), after onEpoch: what a checkpoint holds — CPU copies
   * of every variable the run changes or may change (WeightKeeper's), the epoch (from 1) they end, and the
   * learning-rate factor in force. The copies are the keeper's own: read them, do not keep or change them.
   */
  onCheckpoint?(checkpoint: RunCheckpoint): void;
}

/** The state of a run after a complete epoch: enough to go on from there (TrainOptions.resume) with the same batches and rates. */
export interface RunCheckpoint {
  /** Epochs completed (from 1). */
  epoch: number;
  values: ReadonlyMap<tf.Variable, tf.TypedArray>;
  /** The factor of the last unfreezing step that set one (1 when none). */
  learningRateFactor: number;
}

/** Where a run starts: from its first epoch, or where an interrupted run's checkpoint left it. */
export interface TrainOptions {
  /**
   * Go on after `epoch` complete epochs (the model already holds that checkpoint's weights and the plan in force
   * then): batch order, step count, learning rate and the unfreezing steps still due are those of the uninterrupted
   * run; the optimizer's state (Adam's moments, momentum) starts afresh, and the best weights are tracked from here.
   */
  resume?: { epoch: number; learningRateFactor: number };
}

/** How a run ended. */
export interface TrainResult {
  /** The user stopped the run (shouldStop returned true). */
  stopped: boolean;
  /** Early stopping ended the run: no better validation loss for `patience` epochs. */
  stoppedEarly: boolean;
  epochsCompleted: number;
  batches: number;
  /**
   * Which epoch's end-of-epoch weights the model holds now, counted from 1
   * (0: the weights of the start of the run); null when it holds weights from
   * the middle of an epoch (a run stopped mid-epoch with nothing to restore).
   */
  restoredEpoch: number | null;
  /** Whether weights were written back at the end (best epoch, or last good weights after a non-finite loss). */
  restored: boolean;
  /** Why the run failed (a non-finite loss), saying what to try; null when it did not. */
  failure: string | null;
  /** Why the run ended early on its own other than early stopping (a change that left nothing to train); null otherwise. */
  endNote: string | null;
  /** Validation metrics of the weights as they are at the end (null without a validation set). */
  validationLoss: number | null;
  validationAccuracy: number | null;
  /** The variables the optimizer updated, in order. */
  optimizerVariables: { name: string; shape: number[] }[];
}

/** What a run trains on for the flags set now: the model to call and its batch sources. */
export interface RunTarget {
  model: tf.LayersModel;
  train: BatchSource;
  validation: BatchSource | null;
}

/** A run whose trainable set may change at batch boundaries (schedule steps, live plans). */
export interface TrainableRun {
  /** The full model the freeze plans apply to (the transfer model), with the start plan applied and frozen layers guarded. */
  model: tf.LayersModel;
  /** Layers trained whatever a plan says (the studio's head). */
  headLayers: ReadonlySet<string>;
  /**
   * The model and sources to train for the flags as they are now: called at
   * the start and after every change (a head-only model on cached features
   * while everything below the head is frozen, the full model otherwise).
   * Its models must share `model`'s variables.
   */
  currentTarget(): RunTarget;
}
