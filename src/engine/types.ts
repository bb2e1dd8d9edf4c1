/**
 * Plain data shared by the engine, the worker protocol and the UI.
 * No tfjs import here: the main thread imports this file.
 */

/** One layer of a model as the tree shows it. */
export interface LayerInfo {
  /** The layer's unique name inside the model, e.g. "conv1". */
  name: string;
  /** The Keras/tfjs class name, e.g. "Conv2D", "BatchNormalization". */
  className: string;
  /** Output shape without the batch dimension, e.g. [14, 14, 16]; null dims are unknown. */
  outputShape: (number | null)[];
  /** Parameters in weights the optimizer may update when the layer is not frozen (kernels, biases, BN gamma/beta). */
  trainableParams: number;
  /** Parameters that are never trained by gradient (BN moving mean and variance). */
  nonTrainableParams: number;
  /** Whether the layer is frozen in the model as loaded (the file's own `trainable` flags). */
  frozenInSource: boolean;
  /** "pretrained" for layers of the loaded model, "head" for the classifier the studio adds. */
  origin: 'pretrained' | 'head';
  /** Name of the nested model (a Keras application used as one layer) this layer sits in; null at the top level. */
  parent: string | null;
}

/** Layer name → frozen. Layers missing from the plan are trainable. */
export type FreezePlan = Record<string, boolean>;

/** What the user sets before pressing Train. */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Seeds the head initialiser and the batch order. */
  seed: number;
  /** Adam (the default), plain SGD, or SGD with momentum 0.9. */
  optimizer?: OptimizerName;
  /** How the learning rate moves over the run (see learningRateAt); default constant. */
  schedule?: LearningRateSchedule;
  /** Stop when the validation loss has not improved for `patience` epochs; null or absent = off. Needs a validation set. */
  earlyStopping?: { patience: number } | null;
}

/** The optimizers a run can use. */
export type OptimizerName = 'adam' | 'sgd' | 'momentum';

/** Learning-rate schedules: constant, cosine decay to 0, or one-cycle (warm-up then cosine decay). */
export type LearningRateSchedule = 'constant' | 'cosine' | 'one-cycle';

/** One image tensor layout: height × width × channels, uint8 pixels. */
export interface InputShape {
  height: number;
  width: number;
  channels: number;
}

/**
 * How an image is fitted to the model's input size: `stretch` scales both
 * sides (aspect ratio lost), `center-crop` scales the short side and cuts the
 * middle, `letterbox` scales the long side and pads with black.
 */
export type ResizeMode = 'stretch' | 'center-crop' | 'letterbox';

/** How a picture becomes model input: resized by `resize`, then uint8 x → x / 255 * (max - min) + min. */
export interface Preprocessing {
  range: [number, number];
  resize: ResizeMode;
}

/** The classifier the studio puts on the cut layer: pooling (spatial cuts only), an optional hidden Dense, dropout, then softmax. */
export interface HeadConfig {
  /** Global pooling applied when the cut output is spatial ([H, W, C]). */
  pooling: 'avg' | 'max';
  /** Units of a hidden ReLU Dense layer before the softmax; 0 for none. */
  hiddenUnits: number;
  /** Dropout rate before the softmax, in [0, 1); 0 for none. */
  dropout: number;
}

/** The metrics of one finished epoch; validation fields are null without a validation set. */
export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  validationLoss: number | null;
  validationAccuracy: number | null;
  /** Wall time of the epoch's training batches, in milliseconds. */
  millis: number;
}

/** One training batch's loss, as streamed to the charts. `step` counts batches from 0 over the run. */
export interface BatchPoint {
  step: number;
  epoch: number;
  batch: number;
  loss: number;
}
