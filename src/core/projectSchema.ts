/**
 * The field-by-field check of a project manifest of schema version 2 (core/project.ts' types), built from
 * jsonCheck.ts: one check per field, each naming the field and quoting the value it refuses.
 */
import {
  blockMultipliersCheck,
  batchNormModesCheck,
  freezePlanCheck,
  freezeSummaryCheck,
  headCheck,
  preprocessingCheck,
  runRecordCheck,
  scheduleDraftStepCheck,
  trainConfigCheck,
  unfreezeStepCheck,
} from './dataChecks';
import { bool, listOf, measured, nonEmptyText, nullable, num, object, oneOf, optional, refine, tagged, text, type Check } from './jsonCheck';
import type {
  ProjectDataset,
  ProjectEvaluation,
  ProjectHeldOut,
  ProjectImage,
  ProjectLastRun,
  ProjectRunSetup,
  ProjectModel,
  ProjectModelFile,
  ProjectModelSource,
  ProjectPartRef,
  ProjectRejectedFile,
  ProjectSnapshot,
  ProjectTraining,
  ProjectWeights,
} from './project';
import type { FeatureCacheUse, RunOutcome, RunSettings } from './runTypes';
import { isSafePartName, TEST_PROBABILITIES_PART, VALIDATION_PROBABILITIES_PART, WEIGHTS_BIN_PART, WEIGHTS_MODEL_JSON_PART } from './projectParts';

/** What a project manifest's `format` says. */
export const PROJECT_FORMAT = 'transfer-studio-project';
/** The schema version this studio writes and checks. */
export const PROJECT_SCHEMA_VERSION = 2;

const id = num({ integer: true, min: 1 });

/** A part name under `folder` (`dataset` / `model`) with `depth` segments below it, all safe. */
function partUnder(folder: string, depth: number, example: string): Check<string> {
  return refine(text, (name) =>
    name.startsWith(`${folder}/`) && name.split('/').length === depth + 1 && isSafePartName(name) ? null : `a part name like '${example}' (safe names only)`,
  );
}

function partRef(name: Check<string>): Check<ProjectPartRef> {
  return object<ProjectPartRef>({ part: name, bytes: num({ integer: true, min: 0 }) });
}

const modelSourceCheck: Check<ProjectModelSource> = tagged<ProjectModelSource>('kind', {
  builtin: object<Extract<ProjectModelSource, { kind: 'builtin' }>>({ kind: oneOf('builtin'), id: nonEmptyText, label: text }),
  files: object<Extract<ProjectModelSource, { kind: 'files' }>>({
    kind: oneOf('files'),
    fileName: text,
    files: listOf(
      object<ProjectModelFile>({
        name: refine(nonEmptyText, (name) => (name.includes('/') || name.includes('\\') ? 'a file name without folders' : null)),
        file: partRef(partUnder('model', 1, 'model/model.json')),
      }),
    ),
  }),
  url: object<Extract<ProjectModelSource, { kind: 'url' }>>({ kind: oneOf('url'), url: nonEmptyText }),
});

const heldOutCheck = (part: string): Check<ProjectHeldOut> =>
  object<ProjectHeldOut>({ imageIds: listOf(id), labels: listOf(num({ integer: true, min: 0 })), probabilities: nullable(partRef(oneOf(part))) });

const count = num({ integer: true, min: 0 });
const orNull = nullable(measured);

const runSettingsCheck: Check<RunSettings> = object<RunSettings>({
  config: trainConfigCheck,
  head: headCheck,
  preprocessing: preprocessingCheck,
  classNames: listOf(nonEmptyText),
  dataset: object<RunSettings['dataset']>({
    name: text,
    images: count,
    validationFraction: num({ min: 0, below: 1 }),
    splitSeed: num({ integer: true }),
  }),
  freezePlan: freezePlanCheck,
  freeze: freezeSummaryCheck,
  trainableParams: count,
  unfreezeSchedule: listOf(unfreezeStepCheck),
  autoEpochs: optional(nullable(text)),
  validationTrainedOn: optional(count),
  batchesPerEpoch: count,
});

const runSetupCheck: Check<ProjectRunSetup> = object<ProjectRunSetup>({
  backend: oneOf('webgpu', 'webgl', 'wasm', 'cpu'),
  optimizerVariables: listOf(object<{ name: string; shape: number[] }>({ name: text, shape: listOf(count) })),
  trainableParams: count,
  featureCache: optional(
    object<FeatureCacheUse>({
      used: bool,
      built: bool,
      millis: orNull,
      images: optional(count),
      reason: optional(text),
      backend: optional(text),
      probes: optional(listOf(object<{ backend: string; msPerImage: number | null }>({ backend: text, msPerImage: orNull }))),
    }),
  ),
  appliedPlan: optional(freezePlanCheck),
  config: optional(trainConfigCheck),
  batchNormOverrides: optional(batchNormModesCheck),
});

const runOutcomeCheck: Check<RunOutcome> = object<RunOutcome>({
  stopped: bool,
  epochsCompleted: count,
  batches: count,
  validationLoss: orNull,
  validationAccuracy: orNull,
  stoppedEarly: optional(bool),
  restoredEpoch: optional(nullable(count)),
  failure: optional(nullable(text)),
  endNote: optional(nullable(text)),
});

const lastRunCheck: Check<ProjectLastRun> = object<ProjectLastRun>({ settings: runSettingsCheck, setup: nullable(runSetupCheck), outcome: runOutcomeCheck });

/** A whole manifest of schema version 2; the fields' agreement with each other is projectIntegrity.ts' question. */
export const snapshotCheck: Check<ProjectSnapshot> = object<ProjectSnapshot>({
  format: oneOf(PROJECT_FORMAT),
  schemaVersion: oneOf(PROJECT_SCHEMA_VERSION),
  name: text,
  savedAt: refine(text, (time) =>
    /^\d{4}-\d\d-\d\dT/.test(time) && !Number.isNaN(Date.parse(time)) ? null : 'an ISO 8601 time, e.g. 2025-01-31T12:00:00.000Z',
  ),
  studio: object<ProjectSnapshot['studio']>({ name: text, version: text }),
  model: nullable(
    object<ProjectModel>({
      name: text,
      source: modelSourceCheck,
      sourceHash: nullable(text),
      cutLayer: nullable(text),
      head: headCheck,
      preprocessing: nullable(preprocessingCheck),
      freezePlan: freezePlanCheck,
      batchNormModes: batchNormModesCheck,
    }),
  ),
  dataset: object<ProjectDataset>({
    name: text,
    source: oneOf('none', 'sample', 'user'),
    fromSample: bool,
    classNames: listOf(nonEmptyText),
    images: listOf(
      object<ProjectImage>({
        id,
        className: text,
        path: text,
        hash: nullable(refine(text, (hash) => (/^[0-9a-f]{64}$/.test(hash) ? null : 'a hex SHA-256 (64 characters 0-9, a-f)'))),
        file: nullable(partRef(partUnder('dataset', 2, 'dataset/cat/1.png'))),
      }),
    ),
    rejected: listOf(object<ProjectRejectedFile>({ path: text, reason: text })),
    validationFraction: num({ min: 0, below: 1 }),
    testFraction: num({ min: 0, below: 1 }),
    splitSeed: num({ integer: true }),
  }),
  training: object<ProjectTraining>({
    config: trainConfigCheck,
    autoEpochs: bool,
    scheduleSteps: listOf(scheduleDraftStepCheck),
    blockMultipliers: blockMultipliersCheck,
  }),
  runs: listOf(runRecordCheck),
  weights: nullable(
    object<ProjectWeights>({
      runId: id,
      classNames: listOf(nonEmptyText),
      modelJson: partRef(oneOf(WEIGHTS_MODEL_JSON_PART)),
      weightsBin: partRef(oneOf(WEIGHTS_BIN_PART)),
      trainedOnIds: listOf(id),
      run: nullable(lastRunCheck),
    }),
  ),
  evaluation: nullable(
    object<ProjectEvaluation>({
      runId: id,
      status: oneOf('done', 'failed'),
      classNames: listOf(nonEmptyText),
      validation: nullable(heldOutCheck(VALIDATION_PROBABILITIES_PART)),
      test: nullable(heldOutCheck(TEST_PROBABILITIES_PART)),
      error: nullable(text),
    }),
  ),
});
