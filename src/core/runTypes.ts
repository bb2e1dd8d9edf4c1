/** What a run is started with, what the worker says when it starts, and how it ends: shared by the worker, the store and projects. */
import type { BackendProbe } from './backendChoice';
import type { FreezeSummary } from './runRecords';
import type { BackendName, BatchNormOverrides, FreezePlan, HeadConfig, Preprocessing, TrainConfig, UnfreezeStep } from './types';

/** How a run used the feature cache. */
export interface FeatureCacheUse {
  /** The head was trained on cached features. */
  used: boolean;
  /** Features were computed for this run (false: all reused from an earlier run). */
  built: boolean;
  /** Milliseconds the features took to build this run; null when nothing was built. */
  millis: number | null;
  /** Images whose features were built this run. */
  images?: number;
  /** Why the cache was not used, e.g. "'conv3' is trained". */
  reason?: string;
  /** The backend the forward pass ran on (the fastest probed; see engine/forwardBackend.ts). */
  backend?: string;
  /** Milliseconds per image of each backend probed for the pass (the training backend first); null: could not run. */
  probes?: { backend: string; msPerImage: number | null }[];
}

/** What a run was started with, kept so that later edits do not rewrite its record (the export reads this). */
export interface RunSettings {
  config: TrainConfig;
  head: HeadConfig;
  preprocessing: Preprocessing;
  classNames: string[];
  dataset: { name: string; images: number; validationFraction: number; splitSeed: number };
  /** The freeze plan at the start, what it kept frozen, and the trainable parameters it left (Keras count). */
  freezePlan: FreezePlan;
  freeze: FreezeSummary;
  trainableParams: number;
  /** The unfreezing schedule the run was sent (layer names, epochs from 0); empty = none. */
  unfreezeSchedule: UnfreezeStep[];
  /** What "Auto" epochs decided for the run, in one line (engine/autoEpochs.ts); null when the run was started without it. */
  autoEpochs?: string | null;
  /** Validation images the weights the run started from were already trained on (a run not from the pretrained weights); 0 = none. */
  validationTrainedOn?: number;
  /** Batches per epoch of the run (fixed batch size; the last batch may be smaller). */
  batchesPerEpoch: number;
}

/** Summary of a run's setup, sent once before its first batch. */
export interface RunSetup {
  backend: BackendName;
  /** The variables the optimizer updates, read from the model in the worker. */
  optimizerVariables: { name: string; shape: number[] }[];
  trainableParams: number;
  /** Whether the head was trained on cached features of the frozen part (TFJS-FACTS #5, #19). */
  featureCache?: FeatureCacheUse;
  /** The freeze plan as the run applied it at its start: every leaf layer (nested models opened, head left out) → frozen; layers at multiplier 0 count as frozen. */
  appliedPlan?: FreezePlan;
  /** The config the run was started with, as the worker received it (schedule, multipliers, augmentation included). */
  config?: TrainConfig;
  /** The BatchNorm modes the run was started with. */
  batchNormOverrides?: BatchNormOverrides;
  /** Auto only, training through the model: each backend's measured step of this plan; the run trains on `backend`, the fastest. */
  backendProbes?: BackendProbe[];
}

/** How a run ended. */
export interface RunOutcome {
  stopped: boolean;
  epochsCompleted: number;
  batches: number;
  validationLoss: number | null;
  validationAccuracy: number | null;
  /** Early stopping ended the run (no better validation loss for `patience` epochs). */
  stoppedEarly?: boolean;
  /** Which epoch's weights (counted from 1; 0 = start of the run) the model holds; null: mid-epoch weights. See TrainResult. */
  restoredEpoch?: number | null;
  /** A non-finite loss stopped the run: what happened, which weights were restored, what to try. */
  failure?: string | null;
  /** The run ended on its own for another reason (a live change left nothing to train); null otherwise. */
  endNote?: string | null;
}
