/**
 * A project as data: everything the studio needs to come back to where the user left it (the model and
 * how it is cut, frozen and trained, the dataset's original files, the runs with their curves, the last
 * run's weights and evaluation), as plain JSON-able data that names its binary parts (projectParts.ts)
 * instead of holding them. The same manifest is a project file's project.json (data/projectFile.ts) and
 * what a stored project keeps beside its blobs. A manifest read back is checked field by field
 * (`checkProjectManifest`), and one of an older schema version is migrated first (`migrateProject`).
 *
 * Schema version 2. Version 1 had no `weights.run`: its weights could not be reopened (they are kept, with
 * `run: null`). Version 0 was the pre-release draft of this format, never written by a release: the
 * BatchNorm modes were `model.batchNormOverrides` (the store's name), and it had neither
 * `dataset.testFraction` nor `training.autoEpochs`.
 */
import { isObject, nonFiniteReplacer, runCheck } from './jsonCheck';
import { projectInconsistency } from './projectIntegrity';
import { PROJECT_FORMAT, PROJECT_SCHEMA_VERSION, snapshotCheck } from './projectSchema';
import { refused, type Result } from './result';
import type { RunRecord } from './runRecords';
import type { RunOutcome, RunSettings, RunSetup } from './runTypes';
import type { BatchNormOverrides, FreezePlan, HeadConfig, Preprocessing, TrainConfig } from './types';
import type { ScheduleDraftStep } from './unfreezeSchedule';

/** The manifest's `format` ('transfer-studio-project') and the schema version this studio writes and checks (2). */
export { PROJECT_FORMAT, PROJECT_SCHEMA_VERSION };

/** The oldest schema version `migrateProject` brings up to date. */
export const OLDEST_PROJECT_SCHEMA_VERSION = 0;

/** A binary part by name (projectParts.ts' rule) and its size in bytes. */
export interface ProjectPartRef {
  part: string;
  bytes: number;
}

/** One file of an imported model: its name as picked (model.json names its weight files by it) and its bytes. */
export interface ProjectModelFile {
  name: string;
  file: ProjectPartRef;
}

/** Where the model comes from: a built-in model by id, the imported files themselves, or a URL (fetched again on open). */
export type ProjectModelSource =
  { kind: 'builtin'; id: string; label: string } | { kind: 'files'; fileName: string; files: ProjectModelFile[] } | { kind: 'url'; url: string };

/** The model and what the user set on it. */
export interface ProjectModel {
  /** The model's name as the worker described it. */
  name: string;
  source: ProjectModelSource;
  /** Hex SHA-256 of the model as loaded (ModelDescription.sourceHash): the same bytes reopen the same model; null when unknown. */
  sourceHash: string | null;
  cutLayer: string | null;
  head: HeadConfig;
  /** The preprocessing as edited (null: the model's own). */
  preprocessing: Preprocessing | null;
  freezePlan: FreezePlan;
  /** BatchNorm layers whose mode differs from the default. */
  batchNormModes: BatchNormOverrides;
}

/** One image of the dataset: its original file, so the pixels can be decoded again for any model's input. */
export interface ProjectImage {
  /** The image's id (DatasetImage.id) when saved: the evaluation and the weights name images by it. */
  id: number;
  className: string;
  /** The path it was added under (`pets/cat/1.png`), or the built-in sample's path. */
  path: string;
  /** Hex SHA-256 of the file (duplicate detection); null when not hashed (the sample). */
  hash: string | null;
  /** The original file; null only for an image of the built-in sample, which is found again by `path`. */
  file: ProjectPartRef | null;
}

/** A file left out of the dataset, with the reason shown to the user. */
export interface ProjectRejectedFile {
  path: string;
  reason: string;
}

/** The dataset: classes in label order, the images' original files, what was rejected, and how it is split. */
export interface ProjectDataset {
  name: string;
  /** 'sample': the built-in sample as shipped; 'user': the user's own (`fromSample` when it began as the sample). */
  source: 'none' | 'sample' | 'user';
  fromSample: boolean;
  classNames: string[];
  images: ProjectImage[];
  rejected: ProjectRejectedFile[];
  /** Each class's share kept for validation, in [0, 1). */
  validationFraction: number;
  /** Each class's share held out for a final test, in [0, 1); with validation below 1 in all. */
  testFraction: number;
  /** The split's seed (a whole number). */
  splitSeed: number;
}

/** What the next run is set to do: the config (augmentation included), the "Auto" epochs flag, the schedule editor's steps, per-block rates. */
export interface ProjectTraining {
  config: TrainConfig;
  autoEpochs: boolean;
  scheduleSteps: ScheduleDraftStep[];
  /** Block label → learning-rate multiplier. */
  blockMultipliers: Record<string, number>;
}

/** The images one run held out (validation or test), their labels in the evaluation's class order, and their probabilities. */
export interface ProjectHeldOut {
  imageIds: number[];
  labels: number[];
  /** [imageIds.length × classNames.length] float32 little-endian, row-major; null until predicted. */
  probabilities: ProjectPartRef | null;
}

/** The last run's evaluation (metrics are derived from it, not stored). */
export interface ProjectEvaluation {
  runId: number;
  status: 'done' | 'failed';
  /** The run's classes, in output order. */
  classNames: string[];
  validation: ProjectHeldOut | null;
  test: ProjectHeldOut | null;
  error: string | null;
}

/** The trained weights of the last run, as the worker's exportModel gives them (projectWeights.ts). */
export interface ProjectWeights {
  runId: number;
  /** The classes of the model's outputs, in order. */
  classNames: string[];
  /** `weights/model.json`: topology and weight manifest. */
  modelJson: ProjectPartRef;
  /** `weights/weights.bin`. */
  weightsBin: ProjectPartRef;
  /** Ids of the images these weights were trained on (every run since the last one from the pretrained weights). */
  trainedOnIds: number[];
  /** The run these weights end (what Export and Predict read of it); null in a project migrated from schema version 1, whose weights are kept but not reopened. */
  run: ProjectLastRun | null;
}

/** What the worker said when the run started, as a project keeps it (the backend figures that picked it are in the run's record). */
export type ProjectRunSetup = Omit<RunSetup, 'backendProbes'>;

/** The last run as the studio held it when it ended: its curves and changes are its RunRecord's (same runId). */
export interface ProjectLastRun {
  settings: RunSettings;
  setup: ProjectRunSetup | null;
  outcome: RunOutcome;
}

/** A whole project, schema version 2: plain data that names its binary parts. */
export interface ProjectSnapshot {
  format: typeof PROJECT_FORMAT;
  schemaVersion: typeof PROJECT_SCHEMA_VERSION;
  name: string;
  /** ISO 8601 time of the save. */
  savedAt: string;
  studio: { name: string; version: string };
  /** Null before any model loaded. */
  model: ProjectModel | null;
  dataset: ProjectDataset;
  training: ProjectTraining;
  /** Every run of "Compare runs", in run order, with its curves. */
  runs: RunRecord[];
  weights: ProjectWeights | null;
  evaluation: ProjectEvaluation | null;
}

/** Why a manifest was refused: not a project at all, a schema version this studio does not read, a bad field, or fields that contradict each other. */
export type ProjectManifestCode = 'not-a-project' | 'unsupported-version' | 'bad-field' | 'inconsistent';

/** The schema versions this studio reads, in words: "schema version 1 (and migrates version 0)". */
function versionsRead(): string {
  return `schema version ${PROJECT_SCHEMA_VERSION} (and migrates version ${OLDEST_PROJECT_SCHEMA_VERSION}${OLDEST_PROJECT_SCHEMA_VERSION < PROJECT_SCHEMA_VERSION - 1 ? ` to ${PROJECT_SCHEMA_VERSION - 1}` : ''})`;
}

/** The manifest's `format` and `schemaVersion`, or why it is no project this studio reads. */
function readHeader(json: unknown): Result<{ manifest: Record<string, unknown>; version: number }, ProjectManifestCode> {
  if (!isObject(json))
    return refused(
      'not-a-project',
      `This is not a Transfer Studio project: its manifest holds ${Array.isArray(json) ? 'a list' : String(json === null ? 'null' : typeof json)}, not an object.`,
    );
  if (json.format !== PROJECT_FORMAT) {
    return refused(
      'not-a-project',
      `This is not a Transfer Studio project: its manifest's format is ${json.format === undefined ? 'missing' : JSON.stringify(json.format)}, not '${PROJECT_FORMAT}'.`,
    );
  }
  const version = json.schemaVersion;
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    return refused(
      'bad-field',
      `Field 'schemaVersion' is ${version === undefined ? 'missing' : JSON.stringify(version)}; expected a whole number (this studio reads ${versionsRead()}).`,
    );
  }
  if (version > PROJECT_SCHEMA_VERSION) {
    return refused(
      'unsupported-version',
      `This project was saved with schema version ${version} by a newer Transfer Studio; this studio reads ${versionsRead()}. Open it in a newer version of the studio.`,
    );
  }
  if (version < OLDEST_PROJECT_SCHEMA_VERSION) {
    return refused(
      'unsupported-version',
      `This project has schema version ${version}, which no version of the studio wrote; this studio reads ${versionsRead()}.`,
    );
  }
  return { ok: true, manifest: json, version };
}

/** Version 0 → 1: `model.batchNormOverrides` becomes `model.batchNormModes`; `dataset.testFraction` (0) and `training.autoEpochs` (off: the Epochs field was what ran) are added. */
function fromVersion0(json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...json, schemaVersion: 1 };
  if (isObject(json.model) && 'batchNormOverrides' in json.model) {
    const { batchNormOverrides, ...model } = json.model;
    out.model = { ...model, batchNormModes: batchNormOverrides };
  }
  if (isObject(json.dataset) && !('testFraction' in json.dataset)) out.dataset = { ...json.dataset, testFraction: 0 };
  if (isObject(json.training) && !('autoEpochs' in json.training)) out.training = { ...json.training, autoEpochs: false };
  return out;
}

/** Version 1 → 2: `weights.run` (the run the weights end) is added as null: such weights are kept, and reopened only by training again. */
function fromVersion1(json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...json, schemaVersion: 2 };
  if (isObject(json.weights) && !('run' in json.weights)) out.weights = { ...json.weights, run: null };
  return out;
}

/** Migration steps by the version they start from; each returns the manifest one version up, leaving its fields to the check. */
const MIGRATIONS: Record<number, (json: Record<string, unknown>) => Record<string, unknown>> = { 0: fromVersion0, 1: fromVersion1 };

/**
 * Brings a parsed manifest of an older schema version up to `PROJECT_SCHEMA_VERSION` (unchecked: run
 * `checkProjectManifest` on it, or use `parseProjectManifest`). Refuses what is not a project and a version
 * it does not read, saying which it reads. `migratedFrom` is the version it started at, null when current.
 */
export function migrateProject(json: unknown): Result<{ json: unknown; migratedFrom: number | null }, ProjectManifestCode> {
  const header = readHeader(json);
  if (!header.ok) return header;
  let manifest = header.manifest;
  for (let version = header.version; version < PROJECT_SCHEMA_VERSION; version++) manifest = MIGRATIONS[version](manifest);
  return { ok: true, json: manifest, migratedFrom: header.version === PROJECT_SCHEMA_VERSION ? null : header.version };
}

/**
 * Checks a parsed manifest of the current schema version field by field, and the fields against each
 * other (classes, ids, part names and sizes); the refusal's reason names the field and quotes its value.
 * Non-finite measurements come back from their JSON strings ('NaN'); see `projectManifestText`.
 */
export function checkProjectManifest(json: unknown): Result<{ manifest: ProjectSnapshot }, ProjectManifestCode> {
  const header = readHeader(json);
  if (!header.ok) return header;
  if (header.version !== PROJECT_SCHEMA_VERSION) {
    return refused(
      'unsupported-version',
      `This manifest has schema version ${header.version}; migrate it to version ${PROJECT_SCHEMA_VERSION} first (migrateProject).`,
    );
  }
  const read = runCheck(snapshotCheck, json);
  if (!read.ok) return refused('bad-field', read.message);
  const inconsistency = projectInconsistency(read.value);
  if (inconsistency !== null) return refused('inconsistent', inconsistency);
  return { ok: true, manifest: read.value };
}

/** `migrateProject`, then `checkProjectManifest`: what opening a stored project or a project file does with its manifest. */
export function parseProjectManifest(json: unknown): Result<{ manifest: ProjectSnapshot; migratedFrom: number | null }, ProjectManifestCode> {
  const migrated = migrateProject(json);
  if (!migrated.ok) return migrated;
  const checked = checkProjectManifest(migrated.json);
  return checked.ok ? { ...checked, migratedFrom: migrated.migratedFrom } : checked;
}

/** The manifest as JSON text (2-space indented); NaN and ±Infinity, which JSON lacks, are written as 'NaN', 'Infinity', '-Infinity'. */
export function projectManifestText(snapshot: ProjectSnapshot): string {
  return `${JSON.stringify(snapshot, nonFiniteReplacer, 2)}\n`;
}
