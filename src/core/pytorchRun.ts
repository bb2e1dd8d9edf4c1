/**
 * A run trained by the PyTorch project's train.py, brought back with *Import model* (issue 14): its metadata.json
 * (the studio's export format 2 plus `epochs` and `trainedWith: {framework: 'pytorch', …}`) read and checked, its
 * record for *Compare runs*, and its freeze audit against the weights of the model the export was made from
 * (every layer frozen for the whole run bit for bit, BatchNorm statistics included). Pure: no tfjs, no DOM.
 */
import { compareSnapshots, type AuditReport, type WeightSnapshot } from './auditCompare';
import type { WeightSpec } from './exportModelFiles';
import { countParams } from './params';
import { refused, type Result } from './result';
import { freezeSummary, makeRunRecord, type RunRecord } from './runRecords';
import type { BatchNormOverrides, EpochMetrics, FreezePlan, LayerInfo, LearningRateSchedule, OptimizerName, UnfreezeStep } from './types';

/** What the studio reads of a PyTorch run's metadata.json. */
export interface PytorchRun {
  torch: string;
  processes: number;
  /** The recipe's model.sourceHash: the model the export was made from. */
  sourceHash: string | null;
  modelName: string;
  /** Pretrained layers → frozen at the start, and at the end (an unfreezing schedule unfreezes some on the way). */
  freezePlan: FreezePlan;
  freezePlanAtEnd: FreezePlan;
  batchNormModes: BatchNormOverrides;
  config: {
    epochs: number;
    learningRate: number;
    optimizer?: OptimizerName;
    schedule?: LearningRateSchedule;
    fromPretrained?: boolean;
    unfreezeSchedule?: UnfreezeStep[];
  };
  backend: string;
  dataset: { name: string; images: number };
  epochs: EpochMetrics[];
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isPlan = (value: unknown): value is FreezePlan => isObject(value) && Object.values(value).every((v) => typeof v === 'boolean');
const finiteOrNull = (value: unknown) => value === null || typeof value === 'number';

/** True when `json` is a metadata.json that train.py wrote (`trainedWith.framework === 'pytorch'`). */
export function isPytorchRunMetadata(json: unknown): boolean {
  return isObject(json) && isObject(json.trainedWith) && json.trainedWith.framework === 'pytorch';
}

function readEpochs(value: unknown): EpochMetrics[] | null {
  if (!Array.isArray(value)) return null;
  const epochs: EpochMetrics[] = [];
  for (const e of value) {
    if (!isObject(e) || typeof e.epoch !== 'number' || typeof e.trainLoss !== 'number' || typeof e.trainAccuracy !== 'number') return null;
    if (!finiteOrNull(e.validationLoss) || !finiteOrNull(e.validationAccuracy)) return null;
    epochs.push({
      epoch: e.epoch,
      trainLoss: e.trainLoss,
      trainAccuracy: e.trainAccuracy,
      validationLoss: (e.validationLoss as number | null) ?? null,
      validationAccuracy: (e.validationAccuracy as number | null) ?? null,
      millis: typeof e.millis === 'number' ? e.millis : 0,
    });
  }
  return epochs;
}

/**
 * Reads a PyTorch run's metadata.json (already parsed). Refuses (`bad-pytorch-metadata`) naming the field that is
 * missing or not what train.py writes, so a hand-edited or truncated file is named instead of half read.
 */
export function readPytorchRun(json: unknown, fileName = 'metadata.json'): Result<{ run: PytorchRun }, 'bad-pytorch-metadata'> {
  const bad = (field: string) =>
    refused(
      'bad-pytorch-metadata',
      `'${fileName}' says it was trained with PyTorch, but its ${field} is missing or not what train.py writes. Import the out/ folder train.py wrote, unedited.`,
    );
  if (!isObject(json) || !isPytorchRunMetadata(json)) return bad('trainedWith');
  const trainedWith = json.trainedWith as Json;
  const recipe = isObject(trainedWith.recipe) ? trainedWith.recipe : {};
  if (!isPlan(json.freezePlan)) return bad('freezePlan');
  const atEnd = json.freezePlanAtEnd ?? json.freezePlan;
  if (!isPlan(atEnd)) return bad('freezePlanAtEnd');
  const training = isObject(json.training) ? json.training : null;
  const config = training && isObject(training.config) ? training.config : null;
  if (!config || typeof config.epochs !== 'number' || typeof config.learningRate !== 'number') return bad('training.config');
  const epochs = readEpochs(json.epochs);
  if (!epochs) return bad('epochs');
  const dataset = isObject(training!.dataset) ? training!.dataset : {};
  const source = isObject(json.sourceModel) ? json.sourceModel : {};
  const modes = isObject(json.batchNormModes) ? (json.batchNormModes as BatchNormOverrides) : {};
  return {
    ok: true,
    run: {
      torch: String(trainedWith.torch ?? 'unknown'),
      processes: typeof trainedWith.processes === 'number' ? trainedWith.processes : 1,
      sourceHash: typeof recipe.sourceHash === 'string' ? recipe.sourceHash : null,
      modelName: String(source.name ?? ''),
      freezePlan: json.freezePlan,
      freezePlanAtEnd: atEnd,
      batchNormModes: modes,
      config: config as PytorchRun['config'],
      backend: typeof training!.backend === 'string' ? training!.backend : 'pytorch',
      dataset: { name: String(dataset.name ?? 'PyTorch data folder'), images: typeof dataset.images === 'number' ? dataset.images : 0 },
      epochs,
    },
  };
}

/** "pytorch-cpu · torch 1.13.1 · 2 processes": the Backend column of a PyTorch run. */
export function pytorchBackendLabel(run: PytorchRun): string {
  return `${run.backend.startsWith('pytorch') ? run.backend : `pytorch ${run.backend}`} · torch ${run.torch} · ${run.processes} process${run.processes === 1 ? '' : 'es'}`;
}

/** The record *Compare runs* shows for `run` as run `runId`, over the studio's transfer rows `layers` (the plan at the start). */
export function pytorchRunRecord(run: PytorchRun, runId: number, layers: readonly LayerInfo[]): RunRecord {
  const freeze = freezeSummary(layers, run.freezePlan);
  const trainableParams = countParams(layers, run.freezePlan).trainable;
  const record = makeRunRecord({
    runId,
    freeze,
    trainableParams,
    config: run.config,
    unfreezeSchedule: run.config.unfreezeSchedule ?? [],
    dataset: run.dataset,
    setup: { backend: pytorchBackendLabel(run), trainableParams },
    outcome: { stopped: false },
    epochs: run.epochs,
    trainableChanges: [],
  });
  return { ...record, name: `Run ${runId} · PyTorch · ${freeze.text}` };
}

/** Named weights: a manifest and its float32 bytes in spec order (model.json + weights.bin, or the worker's source copy). */
export interface NamedWeightBytes {
  weightSpecs: readonly WeightSpec[];
  weightData: ArrayBuffer;
}

/** Bytes per stored value by dtype (a quantized weight is stored in its quantization dtype). */
const STORED_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes one weight takes in the weight data. */
export function storedBytes(spec: WeightSpec): number {
  return spec.shape.reduce((p, d) => p * d, 1) * (STORED_BYTES[spec.quantization?.dtype ?? spec.dtype] ?? 4);
}

/** Why `weights`' bytes do not match their manifest, naming `file`; null when they add up. */
export function weightBytesProblem(weights: NamedWeightBytes, file: string): string | null {
  const needed = weights.weightSpecs.reduce((sum, spec) => sum + storedBytes(spec), 0);
  if (needed === weights.weightData.byteLength) return null;
  return `'${file}' holds ${weights.weightData.byteLength} bytes, but the ${weights.weightSpecs.length} weights its model.json lists take ${needed}: the file is damaged or from another model. Copy out/ again.`;
}

/** The layer a weight belongs to by its original name: 'block_1_conv/kernel' → 'block_1_conv'. */
const layerOf = (weightName: string) => weightName.slice(0, weightName.lastIndexOf('/'));

/** `weights` as an audit snapshot, grouped by layer in manifest order; float32 only (other dtypes are skipped). */
export function snapshotOfWeights(weights: NamedWeightBytes, keep: (layer: string) => boolean = () => true): WeightSnapshot {
  const layers = new Map<string, WeightSnapshot['layers'][number]>();
  let offset = 0;
  for (const spec of weights.weightSpecs) {
    const bytes = storedBytes(spec);
    const layer = layerOf(spec.name);
    if (spec.dtype === 'float32' && !spec.quantization && keep(layer)) {
      const values = new Float32Array(weights.weightData.slice(offset, offset + bytes));
      if (!layers.has(layer)) layers.set(layer, { name: layer, weights: [] });
      layers.get(layer)!.weights.push({ name: spec.name, shape: [...spec.shape], values });
    }
    offset += bytes;
  }
  return { layers: [...layers.values()] };
}

/**
 * The freeze audit of a PyTorch run: `source` (the model the export was made from, as loaded) against `result`
 * (out/weights.bin), for the pretrained layers both hold. A layer frozen at the start and the end must be bit for bit
 * the source, BN statistics included — unless 'train-stats' lets its statistics move; a trained BN layer in 'inference'
 * mode must keep its statistics. A weight missing from the result fails its layer.
 */
export function auditPytorchRun(run: PytorchRun, source: NamedWeightBytes, result: NamedWeightBytes): AuditReport {
  const inRun = (layer: string) => layer in run.freezePlan;
  const before = snapshotOfWeights(source, inRun);
  const after = snapshotOfWeights(result, inRun);
  const frozen = new Set(Object.keys(run.freezePlan).filter((name) => run.freezePlan[name] && run.freezePlanAtEnd[name] !== false));
  const modes = Object.entries(run.batchNormModes);
  const statsFree = new Set(modes.filter(([, mode]) => mode === 'train-stats').map(([name]) => name));
  const statsFixed = new Set(modes.filter(([, mode]) => mode === 'inference').map(([name]) => name));
  return compareSnapshots(before, after, frozen, 'verify', statsFree, statsFixed);
}
