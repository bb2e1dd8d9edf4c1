import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from './batches';
import { featureCacheBlocker, featureCacheKey, hashImageSet, type FeatureSet } from './featureCache';
import { buildFeaturesOn, chooseForwardBackend, type ForwardBackendChoice } from './forwardBackend';
import type { Preprocessing } from '../core/types';
import type { FeatureCacheUse } from '../core/runTypes';

export type { FeatureCacheUse };

/*
 * The feature cache's policy in one place: which cached features a run may
 * reuse (its key: the model load, cut, preprocessing and each set's content),
 * when they are built (every pretrained layer frozen, no augmentation) and on
 * which backend, and when they are dropped (a new model, a run that trains
 * pretrained layers, a restore of the pretrained weights after one).
 */

/** The features of a run's sets, on the CPU side. */
export interface RunFeatures {
  train: FeatureSet;
  validation: FeatureSet | null;
}

/** What a run asks of the cache. */
export interface FeatureCacheRequest {
  /** The transfer model with the run's plan applied. */
  model: tf.LayersModel;
  headLayers: ReadonlySet<string>;
  /** Identifies the loaded model: features of another load are never reused. */
  modelId: string;
  cutLayer: string;
  preprocessing: Preprocessing;
  train: ImageSet;
  validation: ImageSet | null;
  batchSize: number;
  /** Augmentation draws new pixels every epoch: nothing can be cached. */
  augmented: boolean;
  shouldStop(): boolean;
  /** Images done of the total to build, while building. */
  onProgress(done: number, total: number): void;
}

/** The cache of the last run's sets; see the file comment for its rules. */
export interface FeatureCacheStore {
  /** Drops every cached feature (a new model; pretrained weights that changed). */
  clear(): void;
  /** Features for the run (reused or built), or why it trains without them. */
  forRun(request: FeatureCacheRequest): Promise<{ features: RunFeatures | null; use: FeatureCacheUse }>;
}

/** Options: the other backends worth probing for the forward pass, and the build time below which none is probed. */
export interface FeatureCacheOptions {
  candidates(): string[];
  minProbeBuildMs: number;
}

/** An empty cache. */
export function createFeatureCacheStore(options: FeatureCacheOptions): FeatureCacheStore {
  let cached = new Map<string, FeatureSet>();

  async function build(request: FeatureCacheRequest): Promise<{ features: RunFeatures; use: FeatureCacheUse }> {
    const { model, headLayers, preprocessing } = request;
    const parts = { modelId: request.modelId, cutLayer: request.cutLayer, preprocessing };
    const kept = new Map<string, FeatureSet>();
    const total = request.train.labels.length + (request.validation?.labels.length ?? 0);
    let millis = 0;
    let images = 0;
    let forward = null as ForwardBackendChoice | null; // set inside featuresOf: a plain annotation would narrow it to null here
    const featuresOf = async (set: ImageSet): Promise<FeatureSet> => {
      const key = featureCacheKey(parts, hashImageSet(set));
      let features = kept.get(key) ?? cached.get(key);
      if (!features) {
        const offset = images;
        // The forward-only pass runs on the fastest backend here (probed once per run, only for a build worth it).
        forward ??= await chooseForwardBackend(model, headLayers, set, preprocessing, options.candidates(), {
          imagesToBuild: total,
          minBuildMs: options.minProbeBuildMs,
        });
        features = await buildFeaturesOn(forward.backend, model, headLayers, set, preprocessing, request.batchSize, {
          shouldStop: request.shouldStop,
          onProgress: (done) => request.onProgress(offset + done, total),
        });
        millis += features.millis;
        images += set.labels.length;
      }
      kept.set(key, features);
      return features;
    };
    const features = { train: await featuresOf(request.train), validation: request.validation ? await featuresOf(request.validation) : null };
    cached = kept; // only the sets of this run stay cached
    let use: FeatureCacheUse = { used: true, built: images > 0, millis: images > 0 ? millis : null, images };
    if (forward) use = { ...use, backend: forward.backend, probes: forward.probes.map(({ backend, msPerImage }) => ({ backend, msPerImage })) };
    return { features, use };
  }

  return {
    clear() {
      cached = new Map();
    },
    async forRun(request) {
      const blocker = request.augmented ? 'augmentation is on (every epoch sees new pixels)' : featureCacheBlocker(request.model, request.headLayers);
      if (blocker !== null) {
        // A run that trains pretrained layers changes what the frozen part computes: drop every cached feature.
        if (!request.augmented) cached = new Map();
        return { features: null, use: { used: false, built: false, millis: null, reason: blocker } };
      }
      try {
        return await build(request);
      } catch (error) {
        if (!request.shouldStop()) throw error;
        return { features: null, use: { used: false, built: false, millis: null, reason: 'the run was stopped while the cache was built' } };
      }
    },
  };
}
