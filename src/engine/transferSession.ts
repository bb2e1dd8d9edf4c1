import type * as tf from '@tensorflow/tfjs';
import { serializeModel } from './exportModel';
import { assignNamedWeights, originalNames, packWeights, type NamedWeights } from './namedWeights';
import type { ModelArtifactsWire } from '../core/exportModelFiles';
import { createFeatureCacheStore, type FeatureCacheOptions, type FeatureCacheStore } from './featureCacheStore';
import { applyFreezePlan } from './freeze';
import { guardFrozenLayers, setBatchNormOverrides } from './frozenLayers';
import { buildTransferModel, type TransferModel } from './head';
import type { LoadedModel } from './modelFiles';
import { predictProbabilities } from './predict';
import { serializeTransfer, type TransferArtifacts, type TransferExportRequest } from './transferExport';
import { capturePretrained, layersMatchingPretrained, restorePretrained, type PretrainedWeights } from './pretrainedWeights';
import { withStillLayers } from '../core/rateMultipliers';
import type { BatchNormOverrides, FreezePlan, HeadConfig, InputShape, Preprocessing, TrainConfig } from '../core/types';

/*
 * The worker's models and their policy: the loaded model and a CPU copy of
 * its weights as loaded, the transfer model (reused while cut, classes and
 * head stay the same), the restore to the pretrained weights before a run,
 * the freeze plan applied per run, and the feature cache those decide.
 */

/** What a run needs of the session: where to cut, which head, what to freeze, how pixels map. */
export interface RunModelRequest {
  cutLayer: string;
  classNames: readonly string[];
  head: HeadConfig;
  plan: FreezePlan;
  batchNormOverrides?: BatchNormOverrides;
  preprocessing: Preprocessing;
  config: TrainConfig;
}

/** The session; see the file comment. */
export interface TransferSession {
  readonly loaded: LoadedModel | null;
  /** The transfer model of the last run; null before one (or after a model load). */
  readonly transfer: TransferModel | null;
  readonly features: FeatureCacheStore;
  /** Identifies the current load: features of another load are never reused. */
  modelId(): string;
  /** Makes `loaded` the model (frozen layers guarded, its weights copied); a model that cannot be read is disposed and the current one kept. */
  load(loaded: LoadedModel): Promise<void>;
  /**
   * The transfer model for a run: the pretrained weights restored and a new head unless the run continues
   * (`config.fromPretrained === false`), rebuilt when cut, classes or head changed, with the plan (layers at
   * multiplier 0 frozen) and the BN modes applied. Check the request first: this changes weights.
   */
  prepareRun(request: RunModelRequest): TransferModel;
  /**
   * Saved weights back into the transfer model (a reopened project's last run, an interrupted run's checkpoint):
   * prepareRun for `request` (`config.fromPretrained` false: onto the weights held now), then every named weight
   * written, all or nothing (`complete`: the saved weights must cover the whole model). Afterwards export, predict
   * and a run that goes on from these weights work as after a run. Rejects with WeightsMismatchError naming the
   * weight; then no model is held as trained.
   */
  setWeights(request: RunModelRequest, weights: NamedWeights, complete: boolean): Promise<void>;
  /** After a run: when it trained pretrained layers, cached features are dropped and a later restore drops them again. */
  runEnded(trainedPretrained: boolean): void;
  /** The last run's model serialised, with which layers are still bit for bit as loaded (measured). */
  exportModel(): Promise<ModelArtifactsWire>;
  /**
   * The transfer model for `request` serialised without needing a run (the PyTorch project): the last run's model
   * when it was built for the same cut, classes and head, else the pretrained layers and a head fresh from the seed;
   * the `trainable` flags state the plan, and the live model's flags are left as they were.
   */
  exportTransfer(request: TransferExportRequest): Promise<TransferArtifacts>;
  /** Every weight of the loaded model as loaded (the copy made at load, BN statistics included), by original name: what a PyTorch run is audited against. */
  sourceWeights(): NamedWeights;
  /** Class probabilities of uint8 images from the last run's model, with that run's preprocessing and batch size. */
  predict(pixels: Uint8Array, shape: InputShape): Promise<{ probabilities: Float32Array; numClasses: number }>;
}

/** The session's state and its rules; see TransferSession. */
class TransferSessionImpl implements TransferSession {
  readonly features: FeatureCacheStore;
  private loadedModel: LoadedModel | null = null;
  private pretrained: PretrainedWeights | null = null;
  private transferModel: (TransferModel & { key: string }) | null = null;
  private modelLoads = 0;
  /** What the last run fed the transfer model: prediction maps pixels the same way, in batches of the same size. */
  private lastRun: { preprocessing: Preprocessing; batchSize: number } | null = null;
  /** A run trained pretrained layers since the load or the last restore. */
  private backboneTrained = false;

  constructor(cacheOptions: FeatureCacheOptions) {
    this.features = createFeatureCacheStore(cacheOptions);
  }

  get loaded(): LoadedModel | null {
    return this.loadedModel;
  }

  get transfer(): TransferModel | null {
    return this.transferModel;
  }

  modelId(): string {
    return `${this.modelLoads}:${this.loadedModel?.sourceHash ?? ''}`;
  }

  async load(next: LoadedModel): Promise<void> {
    let weights: PretrainedWeights;
    try {
      guardFrozenLayers(next.model);
      weights = await capturePretrained(next.model);
    } catch (error) {
      next.model.dispose(); // the new model never replaces the current one: nothing of it may stay behind
      throw error;
    }
    this.disposeTransferHead();
    this.features.clear();
    this.modelLoads++;
    this.loadedModel?.model.dispose();
    this.loadedModel = next;
    this.pretrained = weights;
    this.backboneTrained = false;
    this.lastRun = null;
  }

  prepareRun(request: RunModelRequest): TransferModel {
    if (!this.loadedModel) throw new Error('No model is loaded yet.');
    if (request.config.fromPretrained !== false && this.pretrained) {
      // Comparable runs: the loaded model's own weights and a head initialised afresh from the run's seed.
      restorePretrained(this.pretrained);
      this.disposeTransferHead();
      if (this.backboneTrained) this.features.clear(); // built from trained weights, not the pretrained ones
      this.backboneTrained = false;
    }
    const { model, headLayers } = this.transferFor(this.loadedModel.model, request);
    // From here the transfer model's weights belong to this run: prediction maps pixels as it does.
    this.lastRun = { preprocessing: request.preprocessing, batchSize: request.config.batchSize };
    // Layers at multiplier 0 are frozen for the run: inference mode, no gradient, no optimizer slot, audited as frozen.
    applyFreezePlan(model, withStillLayers(request.plan, request.config.rateMultipliers), headLayers);
    setBatchNormOverrides(model, request.batchNormOverrides ?? {});
    return { model, headLayers };
  }

  async setWeights(request: RunModelRequest, weights: NamedWeights, complete: boolean): Promise<void> {
    const { model, headLayers } = this.prepareRun(request);
    try {
      assignNamedWeights(model, weights, complete);
    } catch (error) {
      this.lastRun = null;
      throw error;
    }
    // Weights that differ from the loaded model's below the head change what the frozen part computes: no stale cached features.
    const same = this.pretrained ? await layersMatchingPretrained(model, this.pretrained, headLayers) : {};
    this.runEnded(Object.values(same).includes(false));
  }

  runEnded(trainedPretrained: boolean): void {
    if (!trainedPretrained) return;
    // Pretrained layers trained (or BN statistics updated) during the run: what the frozen part computes changed.
    this.features.clear();
    this.backboneTrained = true;
  }

  async exportModel(): Promise<ModelArtifactsWire> {
    const transfer = this.transferModel;
    if (!transfer || !this.lastRun) throw new Error('No model has been trained since this model was loaded.');
    const artifacts = await serializeModel(transfer.model);
    // Measured, not inferred from the plan: a layer whose weights or statistics moved (in this run or an earlier one) is not claimed as the source's.
    const identicalToSource = this.pretrained ? await layersMatchingPretrained(transfer.model, this.pretrained, transfer.headLayers) : {};
    return { ...artifacts, identicalToSource };
  }

  async exportTransfer(request: TransferExportRequest): Promise<TransferArtifacts> {
    if (!this.loadedModel) throw new Error('No model is loaded yet.');
    const current = this.transferModel;
    const trained = current && this.lastRun && current.key === transferKey(request) ? current : null;
    const pretrained = this.pretrained;
    return serializeTransfer(this.loadedModel.model, trained, pretrained, request, async (t) =>
      pretrained ? layersMatchingPretrained(t.model, pretrained, t.headLayers) : {},
    );
  }

  sourceWeights(): NamedWeights {
    if (!this.loadedModel || !this.pretrained) throw new Error('No model is loaded yet.');
    return packWeights(this.pretrained, originalNames(this.loadedModel.model));
  }

  async predict(pixels: Uint8Array, shape: InputShape): Promise<{ probabilities: Float32Array; numClasses: number }> {
    if (!this.transferModel || !this.lastRun) throw new Error('No model has been trained since this model was loaded.');
    return predictProbabilities(this.transferModel.model, pixels, shape, this.lastRun.preprocessing, this.lastRun.batchSize);
  }

  private disposeTransferHead(): void {
    const transfer = this.transferModel;
    if (!transfer) return;
    // A head layer is counted once per model it was applied in (the transfer model, the cached head-only model): dispose until its weights go.
    for (const name of transfer.headLayers) {
      const layer = transfer.model.getLayer(name);
      while (layer.dispose().refCountAfterDispose > 0);
    }
    this.transferModel = null;
  }

  private transferFor(base: tf.LayersModel, request: RunModelRequest): TransferModel & { key: string } {
    const key = transferKey(request);
    if (this.transferModel?.key !== key) {
      this.disposeTransferHead();
      const built = buildTransferModel(base, request.cutLayer, request.classNames.length, request.config.seed, request.head);
      guardFrozenLayers(built.model);
      this.transferModel = { ...built, key };
    }
    return this.transferModel;
  }
}

/** What the transfer model is built for: it is reused while this stays the same. */
function transferKey(request: Pick<RunModelRequest, 'cutLayer' | 'classNames' | 'head'>): string {
  const { pooling, hiddenUnits, dropout } = request.head;
  return JSON.stringify([request.cutLayer, [...request.classNames], pooling, hiddenUnits, dropout]);
}

/** An empty session. */
export function createTransferSession(cacheOptions: FeatureCacheOptions): TransferSession {
  return new TransferSessionImpl(cacheOptions);
}
