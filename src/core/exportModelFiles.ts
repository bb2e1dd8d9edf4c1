/**
 * The exported model as files: model.json, weights.bin, metadata.json, and
 * the zip that holds them. No tfjs at run time (the main thread builds the
 * zip; the worker only serialises, see exportModel.ts).
 */
import { strToU8, zipSync } from 'fflate';
import { HEAD_LAYER_NAMES } from './headSpec';
import type { BatchNormOverrides, EpochMetrics, FreezePlan, HeadConfig, InputShape, Preprocessing, TrainConfig, TrainableChange } from './types';

/** One weight in a tfjs weights manifest (tfjs' io.WeightsManifestEntry, as much of it as the export reads and writes). */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | 'string' | 'complex64';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

/** What `LayersModel.save` produces, in a form that crosses the worker boundary (weightData is one transferable buffer). */
export interface ModelArtifactsWire {
  /** "layers-model". */
  format: string;
  /** "TensorFlow.js tfjs-layers v4.22.0". */
  generatedBy: string;
  /** The Keras-style model config: `{class_name, config: {name, layers, input_layers, output_layers}, …}`. */
  modelTopology: KerasModelTopology;
  /** One entry per weight, in the byte order of `weightData`; names are the layers' original weight names ("conv1/kernel"). */
  weightSpecs: WeightSpec[];
  /** Every weight's bytes, concatenated in `weightSpecs` order (float32 little-endian for float weights). */
  weightData: ArrayBuffer;
  /**
   * Measured by the worker at export: pretrained layer (with weights) → every weight, BatchNorm
   * statistics included, holds exactly the bits of the model as loaded. Absent when not measured.
   */
  identicalToSource?: Record<string, boolean>;
}

/** One layer of a Keras model config, as much of it as the export reads. */
export interface KerasLayerJson {
  name: string;
  class_name: string;
  config: { name: string; trainable?: boolean; units?: number; rate?: number; activation?: string; [key: string]: unknown };
  /** `[[[inboundLayerName, nodeIndex, tensorIndex, kwargs], …]]`. */
  inbound_nodes: unknown[];
}

/** A functional Keras model config. */
export interface KerasModelTopology {
  class_name: string;
  config: { name: string; layers: KerasLayerJson[]; [key: string]: unknown };
  [key: string]: unknown;
}

/** How a run ended (the worker's RunOutcome; repeated here so the engine does not import the protocol). */
export interface ExportOutcome {
  stopped: boolean;
  epochsCompleted: number;
  batches: number;
  validationLoss: number | null;
  validationAccuracy: number | null;
}

/** What the model and its file layout alone say: read from the serialised topology, so it is what the file holds. */
export interface ExportedStructure {
  /** The layer the head is attached to. */
  cutLayer: string;
  /** Pretrained layer → frozen, for every pretrained layer in the exported model, in model order. */
  freezePlan: FreezePlan;
  /** The studio's head, in order: name, class and the settings that shape it. */
  headLayers: { name: string; className: string; units?: number; activation?: string; rate?: number }[];
  /** Units of the softmax: the number of classes. */
  outputUnits: number;
}

/** One change of the trainable set as metadata.json states it: epoch and batch counted from 1. */
export interface ExportedPlanChange {
  /** The first step (from 0 over the run) trained with the new set. */
  step: number;
  epoch: number;
  batch: number;
  cause: TrainableChange['cause'];
  label: string;
  unfrozen: string[];
  frozen: string[];
  learningRateFactor: number;
}

/** The metadata.json written next to model.json: everything needed to reproduce or audit the fine-tuning. */
export interface ExportMetadata {
  format: 'transfer-studio-export';
  /** 2: freezePlan is per layer as the run applied it, with planChanges, freezePlanAtEnd, batchNormModes and identicalToSource. */
  formatVersion: 2;
  studio: { name: string; version: string };
  /** ISO 8601 time of the export. */
  exportedAt: string;
  /** Class names in output order: softmax unit i is `classNames[i]`. */
  classNames: string[];
  /** How a picture becomes model input: resized to inputSize ([height, width]) by `resize`, uint8 x → x / 255 * (max - min) + min. */
  preprocessing: Preprocessing & { inputSize: [number, number]; channels: number };
  /** The pretrained model the export was fine-tuned from. */
  sourceModel: { name: string; label: string; sourceHash: string; provenance: string | null };
  cutLayer: string;
  /** The head settings as chosen, and the layers they produced. */
  head: { config: HeadConfig; layers: ExportedStructure['headLayers'] };
  /**
   * Pretrained layer → frozen, as the run applied it at its start: every layer (nested models opened),
   * layers at learning-rate multiplier 0 frozen. Frozen is not a claim about the bits: see identicalToSource.
   */
  freezePlan: FreezePlan;
  /** Each change of the trainable set during the run (unfreezing-schedule steps, live edits), in order. */
  planChanges: ExportedPlanChange[];
  /** The plan after the last change (equal to freezePlan when there was none). */
  freezePlanAtEnd: FreezePlan;
  /** BatchNorm layers whose mode the run set ('train-stats': frozen, statistics trained; 'inference': trained, statistics kept). */
  batchNormModes: BatchNormOverrides;
  /**
   * Pretrained layer with weights → every weight, BatchNorm statistics included, holds exactly the bits of
   * the source model as loaded: measured at export, so a layer whose statistics moved, one unfrozen and
   * refrozen, or one trained by an earlier run this run continued from is false. Empty when not measured.
   */
  identicalToSource: Record<string, boolean>;
  training: {
    config: TrainConfig;
    backend: string | null;
    dataset: { name: string; images: number; validationFraction: number; splitSeed: number };
  };
  metrics: { outcome: ExportOutcome; finalEpoch: EpochMetrics | null };
}

/** The inputs of `buildExportMetadata` that come from the studio's state. */
export interface ExportContext {
  studio: { name: string; version: string };
  exportedAt: Date;
  classNames: string[];
  inputShape: InputShape;
  preprocessing: Preprocessing;
  sourceModel: ExportMetadata['sourceModel'];
  head: HeadConfig;
  config: TrainConfig;
  backend: string | null;
  dataset: ExportMetadata['training']['dataset'];
  outcome: ExportOutcome;
  epochs: readonly EpochMetrics[];
  /** The plan the worker applied at the run's start (RunSetup.appliedPlan); absent: read from the saved flags. */
  appliedPlan?: FreezePlan;
  /** The run's changes of the trainable set. */
  changes?: readonly TrainableChange[];
  batchNormOverrides?: BatchNormOverrides;
  /** The worker's measurement at export (ModelArtifactsWire.identicalToSource). */
  identicalToSource?: Record<string, boolean>;
}

/** The files of an export, by name: model.json and metadata.json as text, weights.bin as bytes. */
export interface ExportFiles {
  'model.json': string;
  'weights.bin': Uint8Array;
  'metadata.json': string;
}

/** The weight file's name, as model.json's manifest lists it. */
export const WEIGHTS_FILE_NAME = 'weights.bin';

const HEAD_NAMES: ReadonlySet<string> = new Set(HEAD_LAYER_NAMES);

/**
 * Reads the cut layer, the freeze plan (a layer saved with `trainable: false`
 * is frozen), the head layers and the number of classes from a serialised
 * transfer model. Throws when the topology has no studio head.
 */
export function readExportedStructure(topology: KerasModelTopology): ExportedStructure {
  const layers = topology.config.layers;
  const head = layers.filter((layer) => HEAD_NAMES.has(layer.name));
  const output = head[head.length - 1];
  if (!output || output.class_name !== 'Dense') {
    throw new Error(
      `Model '${topology.config.name}' has no studio head (no layer named ${HEAD_LAYER_NAMES.map((n) => `'${n}'`).join(', ')}); only a model trained in the studio can be exported.`,
    );
  }
  const firstInbound = (head[0].inbound_nodes[0] as unknown[][] | undefined)?.[0]?.[0];
  const freezePlan: FreezePlan = {};
  for (const layer of layers) {
    if (layer.class_name === 'InputLayer' || HEAD_NAMES.has(layer.name)) continue;
    freezePlan[layer.name] = layer.config.trainable === false;
  }
  return {
    cutLayer: String(firstInbound),
    freezePlan,
    headLayers: head.map((layer) => ({
      name: layer.name,
      className: layer.class_name,
      ...(layer.config.units !== undefined ? { units: layer.config.units } : {}),
      ...(layer.class_name === 'Dense' && layer.config.activation !== undefined ? { activation: layer.config.activation } : {}),
      ...(layer.config.rate !== undefined ? { rate: layer.config.rate } : {}),
    })),
    outputUnits: output.config.units ?? 0,
  };
}

/**
 * Builds metadata.json's content from the serialised model (cut, freeze plan,
 * head layers: what the file holds) and the studio's state (names, settings,
 * metrics). Throws when the class names do not match the model's outputs,
 * e.g. after the dataset changed since the run.
 */
export function buildExportMetadata(topology: KerasModelTopology, context: ExportContext): ExportMetadata {
  const structure = readExportedStructure(topology);
  if (structure.outputUnits !== context.classNames.length) {
    throw new Error(
      `The trained model has ${structure.outputUnits} outputs but the dataset now has ${context.classNames.length} classes (${context.classNames.map((n) => `'${n}'`).join(', ')}). Train again, then export.`,
    );
  }
  return {
    format: 'transfer-studio-export',
    formatVersion: 2,
    studio: context.studio,
    exportedAt: context.exportedAt.toISOString(),
    classNames: [...context.classNames],
    preprocessing: {
      ...context.preprocessing,
      inputSize: [context.inputShape.height, context.inputShape.width],
      channels: context.inputShape.channels,
    },
    sourceModel: context.sourceModel,
    cutLayer: structure.cutLayer,
    head: { config: context.head, layers: structure.headLayers },
    ...planProvenance(context.appliedPlan ?? structure.freezePlan, context.changes ?? []),
    batchNormModes: { ...context.batchNormOverrides },
    identicalToSource: context.identicalToSource ?? {},
    training: { config: context.config, backend: context.backend, dataset: context.dataset },
    metrics: { outcome: context.outcome, finalEpoch: context.epochs[context.epochs.length - 1] ?? null },
  };
}

/** The plan at the start, each change with its layers (epoch and batch from 1), and the plan they lead to. */
function planProvenance(start: FreezePlan, changes: readonly TrainableChange[]): Pick<ExportMetadata, 'freezePlan' | 'planChanges' | 'freezePlanAtEnd'> {
  const atEnd = { ...start };
  const planChanges = changes.map((change) => {
    const unfrozen = (change.unfrozen ?? []).filter((name) => name in atEnd);
    const frozen = (change.frozen ?? []).filter((name) => name in atEnd);
    for (const name of unfrozen) atEnd[name] = false;
    for (const name of frozen) atEnd[name] = true;
    return {
      step: change.step,
      epoch: change.epoch + 1,
      batch: change.batch + 1,
      cause: change.cause,
      label: change.label,
      unfrozen,
      frozen,
      learningRateFactor: change.learningRateFactor,
    };
  });
  return { freezePlan: { ...start }, planChanges, freezePlanAtEnd: atEnd };
}

/**
 * The file set of an export. model.json is a plain tfjs Layers model whose
 * manifest names one weight file, `weights.bin`; its userDefinedMetadata
 * carries the preprocessing (which the studio's import reads back), the class
 * labels and where the model came from.
 */
export function buildExportFiles(artifacts: ModelArtifactsWire, metadata: ExportMetadata): ExportFiles {
  const modelJson = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: `${metadata.studio.name} ${metadata.studio.version}`,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE_NAME], weights: artifacts.weightSpecs }],
    userDefinedMetadata: {
      preprocessing: metadata.preprocessing,
      classLabels: metadata.classNames,
      trainedOn: `${metadata.training.dataset.name}, fine-tuned in ${metadata.studio.name} from '${metadata.sourceModel.name}'`,
      sourceModel: { name: metadata.sourceModel.name, sourceHash: metadata.sourceModel.sourceHash },
    },
  };
  return {
    'model.json': JSON.stringify(modelJson),
    'weights.bin': new Uint8Array(artifacts.weightData),
    'metadata.json': `${JSON.stringify(metadata, null, 2)}\n`,
  };
}

/**
 * Zips the file set. The weights are stored uncompressed (float32 weights
 * hardly compress, and deflating megabytes would hold up the main thread).
 */
export function zipExportFiles(files: ExportFiles, modified: Date): Uint8Array {
  return zipSync(
    {
      'model.json': strToU8(files['model.json']),
      [WEIGHTS_FILE_NAME]: [files['weights.bin'], { level: 0 }],
      'metadata.json': strToU8(files['metadata.json']),
    },
    { mtime: modified },
  );
}

/** A file name made from `name`: letters, digits, '.', '_' and '-' kept, runs of anything else become '-'. */
export function exportFileName(name: string): string {
  const slug = name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '');
  return `${slug || 'model'}-transfer.zip`;
}
