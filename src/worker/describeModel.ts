import { cutCandidates, defaultCutLayer } from '../engine/head';
import type { LoadedModel } from '../engine/modelFiles';
import { summarizeLayers } from '../engine/summary';
import type { ModelDescription } from './protocol';

/** What the UI is told of a loaded model: its layers, cut points, input, preprocessing and origin. */
export function describeModel(loaded: LoadedModel): ModelDescription {
  return {
    name: loaded.model.name,
    layers: summarizeLayers(loaded.model),
    defaultCutLayer: defaultCutLayer(loaded.model),
    inputShape: loaded.inputShape,
    preprocessing: loaded.preprocessing,
    provenance: loaded.provenance,
    sourceHash: loaded.sourceHash,
    cutCandidates: cutCandidates(loaded.model),
    layerCount: loaded.model.layers.length,
  };
}
