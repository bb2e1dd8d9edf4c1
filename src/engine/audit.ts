import * as tf from '@tensorflow/tfjs';
import { snapshotUpdates, type LayerUpdates, type WeightSnapshot, type WeightValues } from '../core/auditCompare';

export { compareSnapshots, fingerprint, maxAbsChange, relativeChange, snapshotUpdates } from '../core/auditCompare';
export type { AuditReport, LayerAudit, LayerUpdates, WeightAudit, WeightSnapshot } from '../core/auditCompare';

/** Every non-input layer of `model` in order, nested models opened (as applyFreezePlan walks them). */
function leafLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer instanceof tf.LayersModel) out.push(...leafLayers(layer));
    else out.push(layer);
  }
  return out;
}

/**
 * Copies every weight of every layer of `model` (trainable and not, BatchNorm
 * moving statistics included) to the CPU as float32, keyed by layer and
 * variable name. All reads start before the first await, so the snapshot is
 * of one moment even while a run goes on; `await data()`, never dataSync
 * (TFJS-FACTS #8). Creates no tensors.
 */
export async function captureWeights(model: tf.LayersModel): Promise<WeightSnapshot> {
  const layers = leafLayers(model);
  const reads = layers.map((layer) => layer.weights.map((w) => ({ name: w.name, shape: w.shape.map((d) => d ?? -1), data: w.read().data() })));
  const values = await Promise.all(reads.flat().map((r) => r.data));
  const snapshot: WeightSnapshot = { layers: [] };
  let k = 0;
  for (let i = 0; i < layers.length; i++) {
    // Copies: the cpu backend hands out its own backing arrays.
    const weights: WeightValues[] = reads[i].map((read) => ({ name: read.name, shape: read.shape, values: Float32Array.from(values[k++]) }));
    snapshot.layers.push({ name: layers[i].name, weights });
  }
  return snapshot;
}

/** ‖ΔW‖/‖W‖ per layer of `model` now against `before` (the run's start snapshot): the tree's bars mid-run. */
export async function relativeUpdates(before: WeightSnapshot, model: tf.LayersModel): Promise<LayerUpdates> {
  return snapshotUpdates(before, await captureWeights(model));
}
