import * as tf from '@tensorflow/tfjs';

/**
 * BatchNormalization in training mode (batch statistics) with a closed-form
 * gradient, for the wasm backend.
 *
 * tfjs-layers normalises a training batch with `tf.moments` and then
 * `tf.batchNorm`, and its gradient is FusedBatchNorm's generic one plus the
 * gradients of moments' Mean, Sub and Square: some twenty passes over the
 * activation. On wasm, FusedBatchNorm itself is a plain loop (~17 ms on a
 * `[4, 112, 112, 96]` activation, where a vectorised per-channel multiply-add
 * takes 1.5 ms). Here the forward pass and its gradient are one
 * `tf.customGrad`:
 *
 * - forward: μ and σ² exactly as `tf.moments` computes them (the same ops, so
 *   the moving statistics are bit-identical to tfjs'), then
 *   `y = (x − μ)·(γ·rstd) + β` with `rstd = 1/√(σ² + ε)` as one 1×1 depthwise
 *   convolution with a bias (XNNPACK);
 * - backward, with `x̂ = (x − μ)·rstd` and N values per channel: `dβ = Σdy`,
 *   `dγ = Σ(dy·x̂)`, `dx = (γ·rstd/N)·(N·dy − Σdy − x̂·Σ(dy·x̂))`, computed as
 *   `dy·a + c + (x − μ)·b` (per-channel a, b, c): four full-size passes and two
 *   reductions over the leading axes (one average pooling each on wasm).
 *
 * The moving mean and variance are updated as tfjs-layers does it
 * (`moving −= (moving − batch)·(1 − momentum)`, with the biased batch
 * variance). Only channels-last layers (axis −1) with a float32 input of rank
 * 2 or more take this path; any other configuration, and every backend but
 * wasm, keeps tfjs' own (except layers without γ or β, which tfjs-layers
 * cannot train: see trainingBatchNorm).
 */

/** The parts of tfjs-layers' BatchNormalization this module reads (its fields are not public in the typings). */
type BatchNormFields = {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma?: { read(): tf.Tensor };
  beta?: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(value: tf.Tensor): unknown };
  movingVariance: { read(): tf.Tensor; write(value: tf.Tensor): unknown };
};

/** The result of normalizeInTraining: the normalised batch and the batch statistics it used (each `[c]`). */
export type TrainingNormalized = { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor };

/** `t·scale + offset` per channel (the last axis), as one 1×1 depthwise convolution of a `[1, 1, n, c]` view. */
function channelAffine(t: tf.Tensor, scale: tf.Tensor1D, offset: tf.Tensor1D | null): tf.Tensor {
  const c = t.shape[t.rank - 1];
  const view = t.reshape([1, 1, t.size / c, c]) as tf.Tensor4D;
  const filter = scale.reshape([1, 1, c, 1]) as tf.Tensor4D;
  return tf.fused.depthwiseConv2d({ x: view, filter, strides: 1, pad: 'valid', bias: offset ?? undefined }).reshape(t.shape);
}

/**
 * Normalises `x` over every axis but the last with its batch statistics, scaled by `gamma` and shifted by
 * `beta` (either may be null: 1 and 0), differentiable in x, gamma and beta with the closed-form gradient
 * (module comment). Works on every backend; the mean and variance are computed as `tf.moments(x, axes)`
 * computes them. The caller owns all three results.
 */
export function normalizeInTraining(x: tf.Tensor, gamma: tf.Tensor | null, beta: tf.Tensor | null, epsilon: number): TrainingNormalized {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const keepShape = x.shape.map((size, i) => (i < x.rank - 1 ? 1 : size));
  const n = x.size / x.shape[x.rank - 1];
  let stats: [tf.Tensor, tf.Tensor] | null = null;
  const inputs = [x, gamma, beta].filter((t): t is tf.Tensor => t !== null);
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const input = args[0] as tf.Tensor;
    const g = gamma ? (args[1] as tf.Tensor1D) : null;
    const b = beta ? (args[gamma ? 2 : 1] as tf.Tensor1D) : null;
    // As tf.moments: mean, x − mean (reshaped to keep the dimensions), its square, that mean.
    const mean = tf.mean(input, axes);
    const centered = tf.sub(input, mean.reshape(keepShape));
    const variance = tf.mean(tf.square(centered), axes);
    stats = [tf.keep(mean), tf.keep(variance)];
    const rstd = tf.rsqrt(tf.add(variance, epsilon)) as tf.Tensor1D;
    const a = g ? (tf.mul(g, rstd) as tf.Tensor1D) : rstd;
    save([centered, rstd, a]);
    const value = channelAffine(centered, a, b);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xc, r, ar] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D];
        const sumDy = tf.sum(dy, axes) as tf.Tensor1D;
        const sumDyXc = tf.sum(tf.mul(dy, xc), axes) as tf.Tensor1D;
        // dx = a·dy − a·Σdy/N − (x − μ)·a·rstd²·Σ(dy·(x − μ))/N
        const offset = tf.mul(ar, tf.div(sumDy, -n)) as tf.Tensor1D;
        const slope = tf.mul(tf.mul(ar, tf.square(r)), tf.div(sumDyXc, -n));
        const dx = tf.add(channelAffine(dy, ar, offset), tf.mul(xc, slope));
        const grads = [dx];
        if (gamma) grads.push(tf.mul(sumDyXc, r));
        if (beta) grads.push(sumDy);
        return grads;
      });
    return { value, gradFunc };
  });
  const y = run(...inputs);
  const [mean, variance] = stats as unknown as [tf.Tensor, tf.Tensor];
  return { y, mean, variance };
}

/** `variable −= (variable − value)·(1 − momentum)`, the ops of tfjs-layers' own moving average (so the same bits). */
function movingAverage(variable: BatchNormFields['movingMean'], value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const decay = 1 - momentum;
    const original = variable.read();
    variable.write(tf.sub(original, tf.mul(tf.sub(original, value), decay)));
  });
}

/** Whether `layer` called on `input` can take this module's path (channels last, float32, rank 2 or more). */
export function fitsClosedForm(layer: tf.layers.Layer, input: tf.Tensor): boolean {
  const bn = layer as unknown as BatchNormFields;
  if (layer.getClassName() !== 'BatchNormalization' || input.dtype !== 'float32' || input.rank < 2) return false;
  if (!layer.built) return false;
  if (bn.axis !== -1 && bn.axis !== input.rank - 1) return false;
  return (!bn.scale || bn.gamma !== undefined) && (!bn.center || bn.beta !== undefined);
}

/**
 * A BatchNormalization layer's training-mode call through normalizeInTraining, with the moving mean and
 * variance updated as tfjs-layers updates them. The caller has checked fitsClosedForm.
 */
export function batchNormTrainingCall(layer: tf.layers.Layer, input: tf.Tensor): tf.Tensor {
  const bn = layer as unknown as BatchNormFields;
  return tf.tidy(() => {
    const gamma = bn.scale && bn.gamma ? bn.gamma.read() : null;
    const beta = bn.center && bn.beta ? bn.beta.read() : null;
    const { y, mean, variance } = normalizeInTraining(input, gamma, beta, bn.epsilon);
    try {
      movingAverage(bn.movingMean, mean, bn.momentum);
      movingAverage(bn.movingVariance, variance, bn.momentum);
    } finally {
      tf.dispose([mean, variance]);
    }
    return y;
  });
}

/**
 * The wiring frozenLayers' guard uses for a layer that runs in training mode: a BatchNormalization layer
 * called with `training: true` whose configuration fits (fitsClosedForm) is computed here on wasm, and on
 * every backend when it has no γ or no β (tfjs-layers' own training call reads both and fails without
 * either); null for every other call (the caller then runs the layer's own call).
 */
export function trainingBatchNorm(layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | null {
  if (!kwargs.training) return null;
  const input = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : null) : inputs;
  if (!input || !fitsClosedForm(layer, input)) return null;
  const bn = layer as unknown as BatchNormFields;
  if (tf.getBackend() !== 'wasm' && bn.scale && bn.center) return null;
  return batchNormTrainingCall(layer, input);
}
