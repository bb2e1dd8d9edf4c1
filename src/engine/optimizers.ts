import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../core/types';

/** Momentum of the 'momentum' optimizer. */
export const MOMENTUM = 0.9;

/** A fresh optimizer for one run (TFJS-FACTS #2: never reused across variable sets). */
export function createOptimizer(config: TrainConfig): tf.Optimizer {
  switch (config.optimizer ?? 'adam') {
    case 'sgd':
      return tf.train.sgd(config.learningRate);
    case 'momentum':
      return tf.train.momentum(config.learningRate, MOMENTUM);
    case 'adam':
      return tf.train.adam(config.learningRate);
    default:
      throw new Error(`Unknown optimizer "${String(config.optimizer)}": use 'adam', 'sgd' or 'momentum'.`);
  }
}

/**
 * Sets the learning rate of the next step. SGD and Momentum multiply by a
 * scalar tensor cached by `setLearningRate` (assigning the field alone does
 * nothing there); Adam reads its `learningRate` number at every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  // Not `instanceof`: tfjs's Optimizer[Symbol.hasInstance] is duck-typed, so every optimizer is "an SGDOptimizer".
  const sgd = optimizer as unknown as { setLearningRate?: (rate: number) => void; learningRate: number };
  if (typeof sgd.setLearningRate === 'function') sgd.setLearningRate(rate);
  else sgd.learningRate = rate;
}

/** Disposes `optimizer` entirely: MomentumOptimizer.dispose forgets the learning-rate scalar it inherits from SGD. */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  if (optimizer.getClassName() === 'Momentum') {
    const c = (optimizer as unknown as { c?: tf.Scalar }).c;
    if (c && !c.isDisposed) c.dispose();
  }
}
