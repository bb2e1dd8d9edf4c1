import * as tf from '@tensorflow/tfjs';
import type { ModelArtifactsWire } from '../core/exportModelFiles';
import { withStillLayers } from '../core/rateMultipliers';
import type { FreezePlan, HeadConfig, TrainConfig } from '../core/types';
import { serializeModel, ExportError } from './exportModel';
import { applyFreezePlan, leafLayers } from './freeze';
import { buildTransferModel, type TransferModel } from './head';
import type { PretrainedWeights } from './pretrainedWeights';

/*
 * The transfer model as the studio holds it, serialised without needing a run (the PyTorch project, issue 14):
 * the last run's model when one matches the settings, else the pretrained layers up to the cut and a head
 * initialised afresh from the run's seed. The layers' `trainable` flags state the plan; the live model's flags
 * are put back afterwards, so an export changes nothing the next run or a Verify reads.
 */

/** What the transfer model is built for: cut, classes, head, the plan (layers at multiplier 0 frozen) and the seed. */
export interface TransferExportRequest {
  cutLayer: string;
  classNames: readonly string[];
  head: HeadConfig;
  plan: FreezePlan;
  config: Pick<TrainConfig, 'seed' | 'rateMultipliers'>;
}

/** The serialised transfer model and which weights it holds: 'trained' = the last run's, 'pretrained' = the loaded model's and a fresh head. */
export type TransferArtifacts = ModelArtifactsWire & { weightsFrom: 'trained' | 'pretrained' };

/** Every layer's `trainable` flag (nested models and their layers included), to put back after the export. */
function captureFlags(model: tf.LayersModel): () => void {
  const containers: tf.layers.Layer[] = [];
  const walk = (m: tf.LayersModel) => {
    for (const layer of m.layers) {
      if (!(layer instanceof tf.LayersModel)) continue;
      containers.push(layer);
      walk(layer);
    }
  };
  walk(model);
  const leaves = leafLayers(model);
  const flags = [...containers, ...leaves].map((layer) => layer.trainable);
  return () => {
    // Containers first: setting a nested model's flag writes every inner one, which the leaves then correct.
    [...containers, ...leaves].forEach((layer, i) => (layer.trainable = flags[i]));
  };
}

/** Writes the pretrained copy's bytes over the serialised weights they belong to (a base a run trained); returns which layers hold them. */
function withPretrainedBytes(model: tf.LayersModel, artifacts: ModelArtifactsWire, pretrained: PretrainedWeights, headLayers: ReadonlySet<string>) {
  const byName = new Map<string, tf.Variable>();
  for (const weight of model.weights) byName.set(weight.originalName, weight.read() as tf.Variable);
  const bytes = new Uint8Array(artifacts.weightData);
  let offset = 0;
  for (const spec of artifacts.weightSpecs) {
    const size = spec.shape.reduce((p, d) => p * d, 1) * 4;
    const source = byName.get(spec.name);
    const copy = source ? pretrained.get(source) : undefined;
    if (copy && copy.byteLength === size) bytes.set(new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength), offset);
    offset += size;
  }
  const identical: Record<string, boolean> = {};
  for (const layer of leafLayers(model)) {
    if (headLayers.has(layer.name) || layer.weights.length === 0) continue;
    identical[layer.name] = layer.weights.every((w) => pretrained.has(w.read() as tf.Variable));
  }
  return identical;
}

/** A weight that is not float32 cannot go into the bundle (recipe.md: float32); named. */
function checkFloat32(artifacts: ModelArtifactsWire): void {
  const other = artifacts.weightSpecs.find((spec) => spec.dtype !== 'float32' || spec.quantization);
  if (other) {
    throw new ExportError(
      `Weight '${other.name}' is ${other.quantization ? `quantised to ${other.quantization.dtype}` : other.dtype}; the PyTorch project needs float32 weights. Import an unquantised model.`,
    );
  }
}

/**
 * Serialises the transfer model for `request`: `trained` (the last run's model, when the caller found it matches
 * cut, classes and head) with its weights as they are, or else one built on `base` with a head from
 * `request.config.seed` whose pretrained layers take the bytes of `pretrained` (the copy made at load: a run that
 * trained the base does not leak into it). Flags follow the plan; `identicalToSource` is measured (trained) or
 * stated by construction (pretrained). Creates no lasting tensors or layers; throws ExportError for a non-float32 weight.
 */
export async function serializeTransfer(
  base: tf.LayersModel,
  trained: TransferModel | null,
  pretrained: PretrainedWeights | null,
  request: TransferExportRequest,
  measure: (transfer: TransferModel) => Promise<Record<string, boolean>>,
): Promise<TransferArtifacts> {
  const transfer = trained ?? buildTransferModel(base, request.cutLayer, request.classNames.length, request.config.seed, request.head);
  const restoreFlags = captureFlags(transfer.model);
  try {
    applyFreezePlan(transfer.model, withStillLayers(request.plan, request.config.rateMultipliers), transfer.headLayers);
    const artifacts = await serializeModel(transfer.model);
    checkFloat32(artifacts);
    if (trained) return { ...artifacts, identicalToSource: await measure(trained), weightsFrom: 'trained' };
    const identicalToSource = pretrained ? withPretrainedBytes(transfer.model, artifacts, pretrained, transfer.headLayers) : undefined;
    return { ...artifacts, identicalToSource, weightsFrom: 'pretrained' };
  } finally {
    restoreFlags();
    if (!trained) {
      // The temporary head's layers were applied once; the pretrained layers stay with the loaded model.
      for (const name of transfer.headLayers) {
        const layer = transfer.model.getLayer(name);
        while (layer.dispose().refCountAfterDispose > 0);
      }
    }
  }
}
