/**
 * The messages between the main thread and the training worker. Types only:
 * both sides import it, neither runs it.
 */
import type {
  BackendName,
  BackendPreference,
  BatchNormOverrides,
  BatchPoint,
  EpochMetrics,
  FreezePlan,
  HeadConfig,
  InputShape,
  LayerInfo,
  Preprocessing,
  TrainConfig,
  TrainableChange,
} from '../core/types';
import type { ModelArtifactsWire, WeightSpec } from '../core/exportModelFiles';
import type { AuditReport, LayerUpdates } from '../core/auditCompare';
import type { FeatureCacheUse, RunOutcome, RunSetup } from '../core/runTypes';
import type { ModelSource } from '../engine/modelSources';

export type { FeatureCacheUse, ModelSource, RunOutcome, RunSetup };

export type { BackendName, BackendPreference };

/** An error as it crosses the worker boundary. */
export interface WireError {
  name: string;
  message: string;
  /** The stable code of a typed error or a refused input (e.g. 'missing-shard'), kept across the boundary. */
  code?: string;
  stack?: string;
}

/** Labelled images in one transferable buffer: count × H × W × C uint8. */
export interface WireImageSet {
  pixels: Uint8Array;
  labels: Int32Array;
  shape: InputShape;
}

/** What the UI needs to know of a loaded model. */
export interface ModelDescription {
  name: string;
  /** Every layer (input layers left out), in model order, including the original classifier. */
  layers: LayerInfo[];
  /** The layer the head is attached to by default: the input of the original classifier. */
  defaultCutLayer: string;
  inputShape: InputShape;
  preprocessing: Preprocessing;
  /** Free text from the file: what it was trained on, how well it did. */
  provenance: string | null;
  /** Hex SHA-256 of model.json text followed by the weight bytes, as loaded. */
  sourceHash: string;
  /** Layers as Keras counts them (`len(model.layers)`: input layers included, a nested model as one). */
  layerCount: number;
  /** Layers that can carry the head: top-level layers with one output tensor, in model order. */
  cutCandidates: string[];
}

/** Weights by original name: a tfjs weights manifest and its bytes (float32/int32, in spec order; the buffer is transferred). */
export interface NamedWeightsWire {
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
}

/** What 'setWeights' builds the transfer model for: the run's cut, head, classes, plan, BN modes, preprocessing and config. */
export interface SetWeightsModel {
  cutLayer: string;
  classNames: string[];
  head: HeadConfig;
  plan: FreezePlan;
  batchNormOverrides: BatchNormOverrides;
  preprocessing: Preprocessing;
  config: TrainConfig;
}

/** Main thread → worker. */
export type WorkerRequest =
  | { type: 'init'; requestId: number; backend: BackendPreference; allowSoftwareWebgl: boolean }
  | { type: 'loadModel'; requestId: number; source: ModelSource }
  | {
      type: 'train';
      runId: number;
      plan: FreezePlan;
      cutLayer: string;
      head: HeadConfig;
      /** The preprocessing as the user set it (starts as the model's own). */
      preprocessing: Preprocessing;
      classNames: string[];
      train: WireImageSet;
      validation: WireImageSet | null;
      /** Held-out test images: never trained on, predicted once when the run ends (the evaluation); absent or null = none. */
      test?: WireImageSet | null;
      config: TrainConfig;
      /** Frozen BN layers that still use and update batch statistics; absent = none. */
      batchNormOverrides?: BatchNormOverrides;
      /** Post a 'checkpoint' after every complete epoch (what a reload or crash can resume from); absent = no. */
      checkpoints?: boolean;
      /**
       * Go on with an interrupted run after `epoch` complete epochs: the worker already holds its checkpoint (setWeights,
       * `plan` is the plan in force then); the pretrained weights are not restored, and the run continues its batches,
       * steps, rates and schedule (engine TrainOptions.resume). Absent = a new run.
       */
      resume?: { epoch: number; learningRateFactor: number };
    }
  /**
   * Saved weights into the transfer model for `model` (cut, head, classes, plan as the run had them): a reopened
   * project's trained weights (`complete`, from the pretrained model) or an interrupted run's checkpoint (the
   * weights the run changed, onto the pretrained ones, or onto the weights held now with `config.fromPretrained` false).
   */
  | { type: 'setWeights'; requestId: number; model: SetWeightsModel; weights: NamedWeightsWire; complete: boolean }
  | { type: 'stop'; runId: number }
  /** Live freezing: the new plan (and BN overrides) take effect at the run's next batch boundary. */
  | { type: 'setPlan'; runId: number; plan: FreezePlan; batchNormOverrides?: BatchNormOverrides }
  /** Holds the run at the next batch boundary until 'resume' (or 'stop'). */
  | { type: 'pause'; runId: number }
  | { type: 'resume'; runId: number }
  /** Serialise the transfer model of the last run (topology + weights) for download on the main thread. */
  | { type: 'exportModel'; requestId: number }
  /**
   * Serialise the transfer model for `model` without needing a run (the PyTorch project): the last run's when it was built
   * for the same cut, classes and head, else the pretrained layers and a head fresh from `config.seed`; flags = the plan.
   */
  | { type: 'exportTransfer'; requestId: number; model: SetWeightsModel }
  /** Every weight of the loaded model as loaded, by original name (a PyTorch run's freeze audit compares against them). */
  | { type: 'readSourceWeights'; requestId: number }
  /** Re-read every weight of the last run's model and audit it against the run's start snapshot. */
  | { type: 'verify'; requestId: number }
  /** Class probabilities of `images` (labels ignored) from the transfer model of the last run, with that run's preprocessing. */
  | { type: 'predict'; requestId: number; images: WireImageSet };

/** Worker → main thread. */
export type WorkerReply =
  | { type: 'ready'; requestId: number; backend: BackendName; notes: string[] }
  | { type: 'modelLoaded'; requestId: number; model: ModelDescription }
  | { type: 'requestFailed'; requestId: number; error: WireError }
  /** The transfer model as `save()` writes it; `artifacts.weightData` is transferred. */
  | { type: 'modelExported'; requestId: number; artifacts: ModelArtifactsWire }
  /** Answer to 'exportTransfer': the artifacts (weightData transferred) and whose weights they hold. */
  | { type: 'transferExported'; requestId: number; artifacts: ModelArtifactsWire; weightsFrom: 'trained' | 'pretrained' }
  /** Answer to 'readSourceWeights': the loaded model's sourceHash and its weights as loaded (buffer transferred). */
  | { type: 'sourceWeights'; requestId: number; sourceHash: string; weights: NamedWeightsWire }
  /** Answer to 'predict': [count × numClasses] float32 probabilities, row-major (buffer transferred). */
  | { type: 'predictions'; requestId: number; probabilities: Float32Array; numClasses: number }
  | { type: 'runStarted'; runId: number; setup: RunSetup }
  | { type: 'batches'; runId: number; points: BatchPoint[] }
  | { type: 'epoch'; runId: number; metrics: EpochMetrics }
  /** The trainable set changed mid-run (schedule step or live toggle); a fresh optimizer took over. */
  | { type: 'trainableChanged'; runId: number; change: TrainableChange }
  /** The run is held at a batch boundary (paused: true) or goes on (false). */
  | { type: 'paused'; runId: number; paused: boolean }
  /** Feature-cache build progress: images done of total (sent after runStarted, before the first batch). */
  | { type: 'cacheProgress'; runId: number; done: number; total: number }
  /** ‖ΔW‖/‖W‖ per layer name since the start of the run, read after `epoch` (from 0). */
  | { type: 'layerUpdates'; runId: number; epoch: number; updates: LayerUpdates }
  /** The freeze audit of run `runId`: right after it (requestId null, sent before runEnded) or answering a Verify. */
  | { type: 'audit'; runId: number; requestId: number | null; report: AuditReport }
  /**
   * The evaluation of run `runId`, sent right before runEnded: [count × numClasses] float32 probabilities of its
   * validation and test images from the weights the run ended with (buffers transferred), or why they could not be made.
   */
  | { type: 'heldOutPredictions'; runId: number; numClasses: number; validation: Float32Array | null; test: Float32Array | null; error?: string }
  | { type: 'runEnded'; runId: number; outcome: RunOutcome }
  /** Answer to 'setWeights': the transfer model holds them (export, predict and a run that goes on from them work). */
  | { type: 'weightsSet'; requestId: number }
  /**
   * After epoch `epoch` (from 1) of a run asked for checkpoints: the weights the run changes or may change, as they
   * are at the end of that epoch, the plan in force (every leaf layer → frozen, head left out) and the rate factor.
   */
  | { type: 'checkpoint'; runId: number; epoch: number; learningRateFactor: number; plan: FreezePlan; weights: NamedWeightsWire }
  | { type: 'runFailed'; runId: number; error: WireError };
