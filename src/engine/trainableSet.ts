import * as tf from '@tensorflow/tfjs';
import { describeVariables, leafLayers, trainableVariables } from './freeze';
import { createOptimizer, disposeOptimizer, setLearningRate } from './optimizers';
import type { TrainConfig } from '../core/types';

/**
 * The optimizers of one trainable set: one per distinct learning-rate
 * multiplier, created for this set and disposed with it — an optimizer is
 * never reused across variable sets (TFJS-FACTS #2: its slots are indexed
 * by position).
 */
export interface TrainableSet {
  /** Every variable the set updates: grouped by multiplier, model order within a group. */
  variables: tf.Variable[];
  /** Sets base rate × multiplier on each optimizer whose rate changed. */
  setRate(rate: number): void;
  /** Applies each optimizer's share of `grads` (keyed by variable name). */
  applyGradients(grads: tf.NamedTensorMap): void;
  dispose(): void;
}

interface OptimizerGroup {
  multiplier: number;
  variables: tf.Variable[];
  optimizer: tf.Optimizer;
  /** The rate last set on the optimizer. */
  rate: number;
}

/** The layer each weight variable of `model` belongs to, by variable. */
function layerOfVariables(model: tf.LayersModel): Map<tf.Variable, string> {
  const out = new Map<tf.Variable, string>();
  for (const layer of leafLayers(model)) for (const weight of layer.weights) out.set(weight.read() as tf.Variable, layer.name);
  return out;
}

/** The multiplier of `layer` in `config` (default 1), checked. */
function multiplierOf(config: Pick<TrainConfig, 'rateMultipliers'>, layer: string): number {
  const multiplier = config.rateMultipliers?.[layer] ?? 1;
  if (!(Number.isFinite(multiplier) && multiplier >= 0)) {
    throw new Error(`The learning-rate multiplier of '${layer}' is ${multiplier}; use a number ≥ 0 (0 keeps the layer still).`);
  }
  return multiplier;
}

/**
 * Fresh optimizers for the trainable variables of `model` (flags as set
 * now), each at `rate` × its layers' multiplier. Variables of multiplier 0
 * are left out: they get no gradient and never move. Null when nothing is
 * left to train.
 */
export function createTrainableSet(model: tf.LayersModel, config: TrainConfig, rate: number): TrainableSet | null {
  const layerOf = layerOfVariables(model);
  const byMultiplier = new Map<number, tf.Variable[]>();
  for (const variable of trainableVariables(model)) {
    const multiplier = multiplierOf(config, layerOf.get(variable) ?? '');
    if (multiplier === 0) continue;
    if (!byMultiplier.has(multiplier)) byMultiplier.set(multiplier, []);
    byMultiplier.get(multiplier)!.push(variable);
  }
  if (byMultiplier.size === 0) return null;
  const groups: OptimizerGroup[] = [...byMultiplier].map(([multiplier, variables]) => ({
    multiplier,
    variables,
    optimizer: createOptimizer({ ...config, learningRate: rate * multiplier }),
    rate: rate * multiplier,
  }));
  return {
    variables: groups.flatMap((g) => g.variables),
    setRate(base) {
      for (const group of groups) {
        if (group.rate === base * group.multiplier) continue;
        setLearningRate(group.optimizer, base * group.multiplier);
        group.rate = base * group.multiplier;
      }
    },
    applyGradients(grads) {
      for (const group of groups) {
        const own: tf.NamedTensorMap = {};
        for (const v of group.variables) own[v.name] = grads[v.name];
        group.optimizer.applyGradients(own);
      }
    },
    dispose() {
      for (const group of groups) disposeOptimizer(group.optimizer);
    },
  };
}

/** The variables a run of `config` on `model` (flags as set now) updates, in model order: trainable ones whose layer's rate multiplier is not 0. */
export function optimizedVariables(model: tf.LayersModel, config: Pick<TrainConfig, 'rateMultipliers'>): { name: string; shape: number[] }[] {
  const layerOf = layerOfVariables(model);
  return describeVariables(trainableVariables(model).filter((v) => multiplierOf(config, layerOf.get(v) ?? '') !== 0));
}
