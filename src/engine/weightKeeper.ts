import * as tf from '@tensorflow/tfjs';
import { leafLayers } from './freeze';
import { isStatistic } from '../core/auditCompare';
import { runsInTrainingMode } from './frozenLayers';

/** CPU-side copies of variables' values at the end of an epoch (`epoch` counted from 1; 0 = start of the run). */
export interface Snapshot {
  epoch: number;
  values: Map<tf.Variable, tf.TypedArray>;
  /** Validation loss and accuracy of these weights; null without a validation set. */
  validation: { loss: number; accuracy: number } | null;
}

/**
 * The weight copies of a run: the last good one (end of the last complete
 * epoch, or the start), the best one (lowest validation loss), and the
 * variables they cover — every variable the run has changed or may change,
 * so a restore puts back layers unfrozen mid-run too, and never assigns a
 * layer that stayed frozen.
 */
export interface WeightKeeper {
  readonly lastGood: Snapshot;
  readonly best: Snapshot | null;
  /** Starts covering the run-state variables of `model` for `variables` (trainable set now); their values now are their start values. */
  track(model: tf.LayersModel, variables: readonly tf.Variable[]): Promise<void>;
  /** Copies every covered variable after epoch `epoch` (from 1). */
  capture(epoch: number): Promise<Snapshot>;
  /** Makes `snapshot` the last good one; returns true when it is also the best so far (a NaN best is always replaced). */
  accept(snapshot: Snapshot): boolean;
  /** Assigns a snapshot's values back to its variables (one tidy, nothing left behind). */
  restore(snapshot: Snapshot): void;
}

/**
 * The variables a run changes: the trainable ones, plus the non-trainable
 * weights (BatchNorm moving statistics) of layers that run in training mode
 * (trainable, or a frozen BN layer set to train its statistics).
 */
function runStateVariables(model: tf.LayersModel, trainable: readonly tf.Variable[]): tf.Variable[] {
  const out = new Set<tf.Variable>(trainable);
  for (const layer of leafLayers(model)) {
    if (!runsInTrainingMode(layer)) continue;
    // A frozen layer's nonTrainableWeights are all its weights (tfjs): of a frozen BN layer training its statistics, take those only.
    const weights = layer.trainable ? layer.nonTrainableWeights : layer.weights.filter((w) => isStatistic(w.name));
    for (const weight of weights) out.add(weight.read() as tf.Variable);
  }
  return [...out];
}

/** CPU copies of `variables`, read back concurrently (one GPU round trip per batch of reads, not per variable). */
async function readValues(variables: Iterable<tf.Variable>): Promise<Map<tf.Variable, tf.TypedArray>> {
  const list = [...variables];
  const data = await Promise.all(list.map((variable) => variable.data()));
  return new Map(list.map((variable, i) => [variable, data[i].slice() as tf.TypedArray]));
}

/** True when no value of the snapshot is NaN or infinite. */
export function allFinite(snapshot: Snapshot): boolean {
  for (const values of snapshot.values.values()) if (!values.every((v) => Number.isFinite(v))) return false;
  return true;
}

/** A keeper with nothing covered yet; its last good snapshot is the start of the run. */
export function createWeightKeeper(): WeightKeeper {
  const tracked = new Set<tf.Variable>();
  let lastGood: Snapshot = { epoch: 0, values: new Map(), validation: null };
  let best: Snapshot | null = null;
  return {
    get lastGood() {
      return lastGood;
    },
    get best() {
      return best;
    },
    async track(model, variables) {
      const added = runStateVariables(model, variables).filter((v) => !tracked.has(v));
      if (added.length === 0) return;
      // Newly tracked variables were frozen until now: their current values are those of the start of the run.
      const values = await readValues(added);
      for (const v of added) {
        tracked.add(v);
        lastGood.values.set(v, values.get(v)!);
        if (best && best !== lastGood) best.values.set(v, values.get(v)!);
      }
    },
    async capture(epoch) {
      return { epoch, values: await readValues(tracked), validation: null };
    },
    accept(snapshot) {
      lastGood = snapshot;
      const val = snapshot.validation;
      if (val === null) return false;
      if (best === null || !(best.validation!.loss <= val.loss)) {
        best = snapshot;
        return true;
      }
      return false;
    },
    restore(snapshot) {
      tf.tidy(() => {
        for (const [variable, values] of snapshot.values) variable.assign(tf.tensor(values, variable.shape, variable.dtype));
      });
    },
  };
}
