/** ModelDescription fixtures for the main thread's tests (store, client, app), as the worker would describe a model. */
import type { LayerInfo } from '../../core/types';
import type { ModelDescription } from '../../worker/protocol';

/** One pretrained layer row; trainable unless `extra.frozenInSource`, at the top level unless `extra.parent`. */
export function layerRow(name: string, className: string, outputShape: number[], trainableParams = 0, extra: Partial<LayerInfo> = {}): LayerInfo {
  return { name, className, outputShape, trainableParams, nonTrainableParams: 0, frozenInSource: false, origin: 'pretrained', parent: null, ...extra };
}

/** The common gap → out tail of the fixtures: global pooling to 8 features, a 3-class Dense. */
export const GAP_AND_OUT: LayerInfo[] = [layerRow('gap', 'GlobalAveragePooling2D', [8]), layerRow('out', 'Dense', [3], 27)];

/** A model of `layers` taking 8×8×3 images in [-1, 1] (center crop), cut at 'gap' by default. */
export function describedModel(name: string, layers: LayerInfo[], extra: Partial<ModelDescription> = {}): ModelDescription {
  return {
    name,
    layers,
    defaultCutLayer: 'gap',
    inputShape: { height: 8, width: 8, channels: 3 },
    preprocessing: { range: [-1, 1], resize: 'center-crop' },
    provenance: null,
    sourceHash: 'ab',
    cutCandidates: layers.filter((l) => l.parent === null).map((l) => l.name),
    layerCount: layers.length,
    ...extra,
  };
}
