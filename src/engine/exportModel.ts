import * as tf from '@tensorflow/tfjs';
import type { KerasModelTopology, ModelArtifactsWire } from '../core/exportModelFiles';

/** A problem that makes a model impossible to export faithfully. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportError';
  }
}

function concatBuffers(buffers: readonly ArrayBuffer[]): ArrayBuffer {
  if (buffers.length === 1) return buffers[0];
  const out = new Uint8Array(buffers.reduce((sum, b) => sum + b.byteLength, 0));
  let offset = 0;
  for (const buffer of buffers) {
    out.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return out.buffer;
}

/**
 * Serialises `model` as `LayersModel.save` does (topology + weights, no
 * optimizer), through `tf.io.withSaveHandler` so it works inside a worker
 * (`downloads://` does not, TFJS-FACTS #15). Weights are named by their
 * original names ("conv1/kernel"), never by the engine-unique variable names
 * ("conv1/kernel_1") a second load of the same model gets. Throws when two
 * weights would share a name, since loading would then mix them up.
 */
export async function serializeModel(model: tf.LayersModel): Promise<ModelArtifactsWire> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const artifacts = saved as tf.io.ModelArtifacts | null;
  if (!artifacts?.modelTopology || !artifacts.weightSpecs || artifacts.weightData === undefined) {
    throw new ExportError(`Model '${model.name}' was saved without topology or weights; it cannot be exported.`);
  }
  const seen = new Set<string>();
  for (const spec of artifacts.weightSpecs) {
    if (seen.has(spec.name)) {
      throw new ExportError(
        `Two weights of model '${model.name}' are both named '${spec.name}'; a loader could not tell them apart. Rename one of the layers and import the model again.`,
      );
    }
    seen.add(spec.name);
  }
  const data = artifacts.weightData;
  return {
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    modelTopology: artifacts.modelTopology as unknown as KerasModelTopology,
    weightSpecs: artifacts.weightSpecs,
    weightData: Array.isArray(data) ? concatBuffers(data) : data,
  };
}
