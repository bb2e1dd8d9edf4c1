/**
 * tfjs's Dropout with a `seed` rebuilds its generator from that seed on every
 * call, so every batch of one shape gets the same mask; without a seed it
 * draws from Math.random and no two runs agree. This layer seeds each
 * training-mode call afresh, from the run's seed and the call's index.
 */
import * as tf from '@tensorflow/tfjs';

type CallFn = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
/** The Dropout fields this module touches; `seed` is private in tfjs' typings and read in `call`. */
type Seedable = { call: CallFn; seed?: number | string };

/** What a seeded Dropout layer is made of: its name and its rate in [0, 1). */
export interface SeededDropoutArgs {
  name: string;
  rate: number;
}

/**
 * A plain tfjs Dropout layer (class 'Dropout', no seed in its config, so an
 * exported model drops at random like any other) whose n-th training-mode
 * call draws its mask from the seed `"${seed}:${n}"`: a new mask each step,
 * the same sequence of masks for the same `seed`. The seed is a string so
 * that run seeds s and s + 1 do not draw the same masks one step apart, as
 * `seed + n` would. Inference-mode calls pass the input through and do not
 * advance the sequence, so evaluating between steps leaves the masks alone.
 * The seed is set only for the forward call: the gradient reuses the mask
 * tensor the tape recorded.
 */
export function seededDropout(args: SeededDropoutArgs, seed: number): tf.layers.Layer {
  const layer = tf.layers.dropout({ name: args.name, rate: args.rate });
  const target = layer as unknown as Seedable;
  const original = target.call.bind(layer) as CallFn;
  let calls = 0;
  target.call = (inputs, kwargs) => {
    // The same test as tfjs' K.inTrainPhase, which picks the dropout branch.
    if (!kwargs.training) return original(inputs, kwargs);
    target.seed = `${seed}:${calls++}`;
    try {
      return original(inputs, kwargs);
    } finally {
      target.seed = undefined;
    }
  };
  return layer;
}
