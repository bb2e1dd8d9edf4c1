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
  /** Shape of the layer's (first) input without the batch dimension; absent in rows made before it was sent (the step cost then takes the row above's output). */
  inputShape?: (number | null)[];
  /** Shape of the layer's kernel (Conv2D/Dense `kernel`, DepthwiseConv2D `depthwise_kernel`), e.g. [3, 3, 16, 32]; absent for layers without one. */
  kernelShape?: number[];
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
  /** Steps that unfreeze layers at the start of chosen epochs (two-phase recipe, gradual unfreezing); absent or empty = none. */
  unfreezeSchedule?: UnfreezeStep[];
  /** Learning-rate multiplier per layer name (discriminative rates); layers left out get 1; 0 = never updated. */
  rateMultipliers?: Record<string, number>;
  /** Random flips, crops, rotation, brightness and contrast applied to training images; null or absent = off. */
  augmentation?: AugmentationConfig | null;
  /** Start from the loaded model's own weights and a freshly initialised head (absent = true); false goes on from the weights the last run left. */
  fromPretrained?: boolean;
  /**
   * Epochs to run instead of `epochs` when the worker cannot train on cached features after all (auto epochs
   * plans up to 100 cheap epochs on the cache; through the whole model the Epochs field's number holds). Absent = `epochs`.
   */
  epochsWithoutCache?: number;
}

/**
 * One step of an unfreezing schedule: at the start of `epoch` (counted from
 * 0, so ≥ 1 to leave a first phase) the listed layers become trainable, and
 * the learning rate becomes `learningRateFactor` × the base rate (schedule
 * included) until the next step that sets one.
 */
export interface UnfreezeStep {
  epoch: number;
  /** Pretrained layer names made trainable by the step. */
  unfreeze: string[];
  /** Multiplies the base learning rate from this step on (0.1: the Keras recipe's "divide by 10"); absent = keep the current factor. */
  learningRateFactor?: number;
  /** What the chart marker says, e.g. "unfreeze block_15–16". */
  label: string;
}

/**
 * Data augmentation of training images (never of validation or test images),
 * drawn per image from the run's seed. Each field at 0/false is off.
 */
export interface AugmentationConfig {
  /** Mirror left–right with probability ½. */
  flip: boolean;
  /** Random crop keeping at least 1 − crop of each side, scaled back to the input size (0 ≤ crop < 0.5). */
  crop: number;
  /** Rotation by a uniform angle in ±rotation degrees (0 ≤ rotation ≤ 45). */
  rotation: number;
  /** Brightness shift by a uniform amount in ±brightness of the pixel range (0 ≤ brightness ≤ 1). */
  brightness: number;
  /** Contrast scale by a uniform factor in [1 − contrast, 1 + contrast] about the image mean (0 ≤ contrast ≤ 1). */
  contrast: number;
}

/**
 * A BatchNormalization layer's mode when it differs from the default: a
 * frozen BN layer runs in inference mode (moving statistics, never updated:
 * Keras semantics) and a trainable one uses batch statistics and updates
 * them. 'train-stats' makes a frozen BN layer use and update batch
 * statistics while its gamma and beta stay frozen; 'inference' makes a
 * trainable BN layer train gamma and beta while it normalises with its
 * moving statistics and never updates them (the Keras fine-tuning guide:
 * small batches wreck batch statistics).
 */
export type BatchNormMode = 'train-stats' | 'inference';

/** BatchNorm modes by layer name (see BatchNormMode); layers left out follow the default. */
export type BatchNormOverrides = Record<string, BatchNormMode>;

/** A change of the trainable set during a run: a schedule step or a live toggle, applied at a batch boundary. */
export interface TrainableChange {
  /** The first step (batch counted from 0 over the run) trained with the new set. */
  step: number;
  /** Epoch (from 0) and batch within it where the change took effect. */
  epoch: number;
  batch: number;
  cause: 'schedule' | 'live';
  /** What the chart marker says. */
  label: string;
  /** Scalar parameters the new optimizer updates. */
  trainableParams: number;
  /** The learning-rate factor in force from this step on. */
  learningRateFactor: number;
  /** The variables the new optimizer(s) update, in model order. */
  optimizerVariables: { name: string; shape: number[] }[];
  /** Layers the change made trainable, and layers it froze, as applied (head and still layers of multiplier 0 as they stay). */
  unfrozen?: string[];
  frozen?: string[];
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

/** A tfjs backend the studio can train on, in order of preference. */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
/** What the user (or a test, through `?backend=`) asks for. */
export type BackendPreference = BackendName | 'auto';
