/**
 * Weightless layer classes whose result depends on `training` (they drop or add noise in training mode): a
 * trainable one makes a forward pass random, so it blocks the feature cache, costs a mask in a step, and
 * cannot be part of a frozen prefix run outside the tape. One list for core/ and engine/.
 */
export const STOCHASTIC_LAYER_CLASSES: ReadonlySet<string> = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
]);
