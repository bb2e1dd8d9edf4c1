import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkProjectManifest,
  migrateProject,
  parseProjectManifest,
  PROJECT_FORMAT,
  PROJECT_SCHEMA_VERSION,
  projectManifestText,
  type ProjectManifestCode,
} from './project';
import { fixtureArtifacts, fullProject } from './projectFixture';
import { projectPartRefs } from './projectIntegrity';
import { datasetPartNames, float32Bytes, float32sOf, isSafePartName, modelPartNames, safePartSegment } from './projectParts';
import { artifactsOfWeightParts, weightPartsOf } from './projectWeights';

/** The fixture's manifest as parsed JSON, the form a file brings back. */
function manifestJson(): any {
  return JSON.parse(projectManifestText(fullProject().snapshot));
}

/** `json` with the value at `path` (dots and [i]) set to `value`; undefined deletes it. */
function withField(json: any, path: string, value: unknown): any {
  const keys = path.split(/\.|\[|\]\.?/).filter((k) => k !== '');
  let at = json;
  for (const key of keys.slice(0, -1)) at = at[key];
  const last = keys[keys.length - 1];
  if (value === undefined) delete at[last];
  else at[last] = value;
  return json;
}

describe('checkProjectManifest', () => {
  it('accepts the fully populated fixture, and the manifest text reads back equal (NaN and ±Infinity included)', () => {
    const { snapshot } = fullProject();
    const checked = checkProjectManifest(JSON.parse(projectManifestText(snapshot)));
    expect(checked).toEqual({ ok: true, manifest: snapshot });
    if (!checked.ok) return;
    expect(checked.manifest.runs[0].epochs[0].trainLoss).toBeNaN();
    expect(checked.manifest.runs[0].epochs[0].validationLoss).toBe(Infinity);
    expect(checked.manifest.runs[0].bestValidationLoss).toBe(-Infinity);
  });

  it("keeps a layer named '__proto__' as a key of the freeze plan", () => {
    const json = manifestJson();
    json.model.freezePlan = JSON.parse('{"__proto__": true, "conv1": false}');
    const checked = checkProjectManifest(json);
    expect(checked.ok && Object.entries(checked.manifest.model!.freezePlan)).toEqual([
      ['__proto__', true],
      ['conv1', false],
    ]);
    expect(checked.ok && Object.getPrototypeOf(checked.manifest.model!.freezePlan)).toBe(Object.prototype);
  });

  it.each<[string, string, unknown, string]>([
    ['name missing', 'name', undefined, "Field 'name' is missing; expected text."],
    ['savedAt not a time', 'savedAt', 'yesterday', "Field 'savedAt' is 'yesterday'; expected an ISO 8601 time"],
    ['studio.version a number', 'studio.version', 3, "Field 'studio.version' is 3; expected text."],
    ['an unknown field', 'model.colour', 'red', "Field 'model.colour' is not one this schema knows"],
    ['model source of an unknown kind', 'model.source.kind', 'ftp', "Field 'model.source.kind' is 'ftp'; expected one of 'builtin', 'files', 'url'."],
    [
      'model file name with a folder',
      'model.source.files[0].name',
      'a/model.json',
      "Field 'model.source.files[0].name' is 'a/model.json'; expected a file name without folders.",
    ],
    [
      'model part escaping',
      'model.source.files[1].file.part',
      '../evil.bin',
      "Field 'model.source.files[1].file.part' is '../evil.bin'; expected a part name like 'model/model.json'",
    ],
    ['model part bytes negative', 'model.source.files[1].file.bytes', -1, "Field 'model.source.files[1].file.bytes' is -1; expected a whole number ≥ 0."],
    ['sourceHash a number', 'model.sourceHash', 12, "Field 'model.sourceHash' is 12; expected text."],
    ['head pooling', 'model.head.pooling', 'min', "Field 'model.head.pooling' is 'min'; expected one of 'avg', 'max'."],
    ['head dropout 1', 'model.head.dropout', 1, "Field 'model.head.dropout' is 1; expected a number ≥ 0 < 1."],
    ['head hidden units fractional', 'model.head.hiddenUnits', 2.5, "Field 'model.head.hiddenUnits' is 2.5; expected a whole number ≥ 0."],
    ['preprocessing range of one', 'model.preprocessing.range', [0], "Field 'model.preprocessing.range' is a list of 1; expected a list of 2."],
    [
      'preprocessing resize',
      'model.preprocessing.resize',
      'fit',
      "Field 'model.preprocessing.resize' is 'fit'; expected one of 'stretch', 'center-crop', 'letterbox'.",
    ],
    ['freeze plan flag as text', 'model.freezePlan.conv1', 'yes', "Field 'model.freezePlan.conv1' is 'yes'; expected true or false."],
    ['BN mode unknown', 'model.batchNormModes.bn1', 'train', "Field 'model.batchNormModes.bn1' is 'train'; expected one of 'train-stats', 'inference'."],
    ['empty class name', 'dataset.classNames[1]', '', "Field 'dataset.classNames[1]' is ''; expected text that is not empty."],
    ['dataset source', 'dataset.source', 'web', "Field 'dataset.source' is 'web'; expected one of 'none', 'sample', 'user'."],
    ['image id 0', 'dataset.images[0].id', 0, "Field 'dataset.images[0].id' is 0; expected a whole number ≥ 1."],
    ['image hash not hex', 'dataset.images[1].hash', 'xyz', "Field 'dataset.images[1].hash' is 'xyz'; expected a hex SHA-256"],
    [
      'image part hidden',
      'dataset.images[0].file.part',
      'dataset/cat/.x.png',
      "Field 'dataset.images[0].file.part' is 'dataset/cat/.x.png'; expected a part name like 'dataset/cat/1.png'",
    ],
    [
      'image part with backslash',
      'dataset.images[0].file.part',
      'dataset/cat\\1.png',
      "Field 'dataset.images[0].file.part' is 'dataset/cat\\1.png'; expected a part name",
    ],
    [
      'image part outside dataset/',
      'dataset.images[0].file.part',
      'weights/cat/1.png',
      "Field 'dataset.images[0].file.part' is 'weights/cat/1.png'; expected a part name",
    ],
    ['rejected reason null', 'dataset.rejected[0].reason', null, "Field 'dataset.rejected[0].reason' is null; expected text."],
    ['last run without settings', 'weights.run.settings', undefined, "Field 'weights.run.settings' is missing; expected an object."],
    ['last run batch size as text', 'weights.run.settings.config.batchSize', '8', "Field 'weights.run.settings.config.batchSize' is '8'"],
    [
      'last run outcome epochs negative',
      'weights.run.outcome.epochsCompleted',
      -2,
      "Field 'weights.run.outcome.epochsCompleted' is -2; expected a whole number ≥ 0.",
    ],
    ['last run setup with an unknown field', 'weights.run.setup.secret', 1, "Field 'weights.run.setup.secret' is not one this schema knows"],
    ['validation fraction 1', 'dataset.validationFraction', 1, "Field 'dataset.validationFraction' is 1; expected a number ≥ 0 < 1."],
    ['split seed fractional', 'dataset.splitSeed', 1.5, "Field 'dataset.splitSeed' is 1.5; expected a whole number."],
    ['epochs as text', 'training.config.epochs', 'ten', "Field 'training.config.epochs' is 'ten'; expected a number."],
    ['learning rate NaN', 'training.config.learningRate', 'NaN', "Field 'training.config.learningRate' is 'NaN'; expected a number."],
    ['optimizer unknown', 'training.config.optimizer', 'rmsprop', "Field 'training.config.optimizer' is 'rmsprop'; expected one of 'adam', 'sgd', 'momentum'."],
    ['augmentation flip as text', 'training.config.augmentation.flip', 'yes', "Field 'training.config.augmentation.flip' is 'yes'; expected true or false."],
    ['patience null', 'training.config.earlyStopping.patience', null, "Field 'training.config.earlyStopping.patience' is null; expected a number."],
    [
      'schedule step layers as text',
      'training.config.unfreezeSchedule[0].unfreeze',
      'conv2',
      "Field 'training.config.unfreezeSchedule[0].unfreeze' is 'conv2'; expected a list.",
    ],
    ['auto epochs missing', 'training.autoEpochs', undefined, "Field 'training.autoEpochs' is missing; expected true or false."],
    [
      'draft step factor as text',
      'training.scheduleSteps[0].learningRateFactor',
      'x',
      "Field 'training.scheduleSteps[0].learningRateFactor' is 'x'; expected a number.",
    ],
    ['block multiplier negative', 'training.blockMultipliers.stem', -1, "Field 'training.blockMultipliers.stem' is -1; expected a number ≥ 0."],
    [
      'train loss as words',
      'runs[0].epochs[0].trainLoss',
      'lots',
      "Field 'runs[0].epochs[0].trainLoss' is 'lots'; expected a number (or 'NaN', 'Infinity', '-Infinity').",
    ],
    [
      'change cause unknown',
      'runs[1].trainableChanges[0].cause',
      'auto',
      "Field 'runs[1].trainableChanges[0].cause' is 'auto'; expected one of 'schedule', 'live'.",
    ],
    ['freeze kind unknown', 'runs[0].freeze.kind', 'all', "Field 'runs[0].freeze.kind' is 'all'; expected one of 'head-only', 'none', 'prefix', 'custom'."],
    ['run id 0', 'runs[1].runId', 0, "Field 'runs[1].runId' is 0; expected a whole number ≥ 1."],
    [
      'weights part renamed',
      'weights.modelJson.part',
      'weights/other.json',
      "Field 'weights.modelJson.part' is 'weights/other.json'; expected one of 'weights/model.json'.",
    ],
    ['trained-on id as text', 'weights.trainedOnIds[0]', '3', "Field 'weights.trainedOnIds[0]' is '3'; expected a whole number ≥ 1."],
    ['evaluation pending', 'evaluation.status', 'pending', "Field 'evaluation.status' is 'pending'; expected one of 'done', 'failed'."],
    ['evaluation label negative', 'evaluation.validation.labels[0]', -1, "Field 'evaluation.validation.labels[0]' is -1; expected a whole number ≥ 0."],
    [
      'probabilities part swapped',
      'evaluation.test.probabilities.part',
      'evaluation/validation.f32',
      "Field 'evaluation.test.probabilities.part' is 'evaluation/validation.f32'; expected one of 'evaluation/test.f32'.",
    ],
  ])('names a bad field: %s', (_name, path, value, reason) => {
    const checked = checkProjectManifest(withField(manifestJson(), path, value));
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.code).toBe('bad-field');
    expect(checked.reason).toContain(reason);
  });

  it.each<[string, (json: any) => void, string]>([
    ['a class listed twice', (j) => (j.dataset.classNames[2] = 'cat'), "Class 'cat' is listed twice in dataset.classNames (at 0 and 2)."],
    [
      'an image of no class',
      (j) => (j.dataset.images[1].className = 'cow'),
      "dataset.images[1] ('more/cat/1.png') is in class 'cow', which is not one of dataset.classNames ('cat', 'dog', '猫 ü').",
    ],
    ['two images with one id', (j) => (j.dataset.images[4].id = 3), 'dataset.images[0] and dataset.images[4] have the same id 3.'],
    [
      'a user image without its file',
      (j) => Object.assign(j.dataset, { fromSample: false }),
      "dataset.images[3] ('sample/猫 ü/0001') has no file, but only images of the built-in sample may come without one.",
    ],
    [
      'one part named twice',
      (j) => (j.dataset.images[1].file = j.dataset.images[0].file),
      "Part 'dataset/cat/1.png' is named twice, by dataset.images[0].file.part and dataset.images[1].file.part.",
    ],
    [
      'fractions adding up to 1',
      (j) => Object.assign(j.dataset, { validationFraction: 0.5, testFraction: 0.5 }),
      'dataset.validationFraction 0.5 and dataset.testFraction 0.5 add up to 1 or more; nothing would be left to train on.',
    ],
    ['two runs with one id', (j) => (j.runs[1].runId = 1), 'runs[0] and runs[1] are both run 1.'],
    ['weights without a model', (j) => (j.model = null), 'The project has trained weights (weights) but no model (model is null).'],
    [
      "a last run whose classes are not the weights'",
      (j) => (j.weights.run.settings.classNames = ['cat', 'dog']),
      'weights.run.settings.classNames (["cat","dog"]) are not the weights\' classes (["cat","dog","猫 ü"]).',
    ],
    [
      'an imported model without files',
      (j) => (j.model.source.files = []),
      'model.source.files is empty; an imported model needs its files (model.json and its weights).',
    ],
    [
      'two model files of one name',
      (j) => (j.model.source.files[1].name = 'model.json'),
      "model.source.files[0] and model.source.files[1] are both named 'model.json'.",
    ],
    ['held-out ids and labels of different lengths', (j) => j.evaluation.validation.labels.pop(), 'evaluation.validation has 2 image ids but 1 labels.'],
    ['a label past the classes', (j) => (j.evaluation.test.labels[0] = 3), 'evaluation.test.labels[0] is 3, but the evaluation has 3 classes (labels 0 to 2).'],
    [
      'a held-out id of no image',
      (j) => (j.evaluation.validation.imageIds[1] = 99),
      'evaluation.validation.imageIds[1] is 99, which is no image of dataset.images.',
    ],
    [
      'probabilities of the wrong size',
      (j) => (j.evaluation.test.probabilities.bytes = 8),
      'evaluation.test.probabilities.bytes is 8, but 1 images × 3 classes of float32 take 12 bytes.',
    ],
  ])('names fields that contradict each other: %s', (_name, change, reason) => {
    const json = manifestJson();
    change(json);
    expect(checkProjectManifest(json)).toEqual({ ok: false, code: 'inconsistent', reason });
  });

  it.each<[string, unknown, ProjectManifestCode, string]>([
    ['a list', [1, 2], 'not-a-project', 'This is not a Transfer Studio project: its manifest holds a list, not an object.'],
    ['null', null, 'not-a-project', 'its manifest holds null, not an object.'],
    ['another format', { format: 'keras' }, 'not-a-project', `its manifest's format is "keras", not '${PROJECT_FORMAT}'.`],
    [
      'no version',
      { format: PROJECT_FORMAT },
      'bad-field',
      "Field 'schemaVersion' is missing; expected a whole number (this studio reads schema version 2 (and migrates version 0 to 1)).",
    ],
    ['a version as text', { format: PROJECT_FORMAT, schemaVersion: '1' }, 'bad-field', `Field 'schemaVersion' is "1"`],
    [
      'a newer version',
      { format: PROJECT_FORMAT, schemaVersion: 7 },
      'unsupported-version',
      'This project was saved with schema version 7 by a newer Transfer Studio; this studio reads schema version 2 (and migrates version 0 to 1). Open it in a newer version of the studio.',
    ],
    [
      'a negative version',
      { format: PROJECT_FORMAT, schemaVersion: -1 },
      'unsupported-version',
      'This project has schema version -1, which no version of the studio wrote',
    ],
    [
      'version 0, unmigrated',
      { format: PROJECT_FORMAT, schemaVersion: 0 },
      'unsupported-version',
      'This manifest has schema version 0; migrate it to version 2 first (migrateProject).',
    ],
  ])('refuses the header of %s', (_name, json, code, reason) => {
    const checked = checkProjectManifest(json);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.code).toBe(code);
    expect(checked.reason).toContain(reason);
  });
});

describe('migrateProject', () => {
  /** The fixture as version 0 wrote it: BN modes under model.batchNormOverrides, no testFraction, no autoEpochs. */
  function version0(): any {
    const json = manifestJson();
    json.schemaVersion = 0;
    json.model.batchNormOverrides = json.model.batchNormModes;
    delete json.model.batchNormModes;
    delete json.dataset.testFraction;
    delete json.training.autoEpochs;
    return json;
  }

  it('brings version 0 to version 1: BN modes renamed, no test split, Auto epochs off', () => {
    const { snapshot } = fullProject();
    const parsed = parseProjectManifest(version0());
    expect(parsed.ok && parsed.migratedFrom).toBe(0);
    const expected = { ...snapshot, dataset: { ...snapshot.dataset, testFraction: 0 }, training: { ...snapshot.training, autoEpochs: false } };
    expect(parsed.ok && parsed.manifest).toEqual(expected);
  });

  it('brings version 1 to version 2: trained weights are kept without the run they end (not reopened)', () => {
    const { snapshot } = fullProject();
    const json = manifestJson();
    json.schemaVersion = 1;
    delete json.weights.run;
    const parsed = parseProjectManifest(json);
    expect(parsed.ok && parsed.migratedFrom).toBe(1);
    expect(parsed.ok && parsed.manifest).toEqual({ ...snapshot, weights: { ...snapshot.weights, run: null } });
  });

  it('leaves the input alone and a current manifest as it is', () => {
    const old = version0();
    const before = JSON.stringify(old);
    migrateProject(old);
    expect(JSON.stringify(old)).toBe(before);
    const current = manifestJson();
    expect(migrateProject(current)).toEqual({ ok: true, json: current, migratedFrom: null });
    expect(parseProjectManifest(current)).toEqual({ ok: true, manifest: fullProject().snapshot, migratedFrom: null });
  });

  it('refuses a newer version saying which it reads, and passes a migrated manifest with bad fields to the check', () => {
    const newer = migrateProject({ format: PROJECT_FORMAT, schemaVersion: PROJECT_SCHEMA_VERSION + 1 });
    expect(newer.ok === false && newer.code).toBe('unsupported-version');
    expect(newer.ok === false && newer.reason).toContain('this studio reads schema version 2 (and migrates version 0 to 1)');
    const broken = version0();
    broken.model.batchNormOverrides = { bn1: 'sometimes' };
    const parsed = parseProjectManifest(broken);
    expect(parsed.ok === false && parsed.reason).toBe("Field 'model.batchNormModes.bn1' is 'sometimes'; expected one of 'train-stats', 'inference'.");
  });
});

describe('part names', () => {
  it.each<[string, { className: string; path: string }[], string[]]>([
    ['class folders and file names', [{ className: 'cat', path: 'pets/cat/1.png' }], ['dataset/cat/1.png']],
    [
      'clashing names get (2), (3), ignoring case',
      [
        { className: 'cat', path: 'a/cat/1.png' },
        { className: 'cat', path: 'b/cat/1.png' },
        { className: 'cat', path: 'c/cat/1.PNG' },
      ],
      ['dataset/cat/1.png', 'dataset/cat/1 (2).png', 'dataset/cat/1 (3).PNG'],
    ],
    ['unsafe characters become _', [{ className: 'a\\b:c', path: 'x/a<b>?.jpg' }], ['dataset/a_b_c/a_b__.jpg']],
    ['leading dots and trailing dots', [{ className: '..', path: 'x/.hidden.' }], ['dataset/_/_.hidden']],
    ['Unicode is kept', [{ className: '猫 ü', path: 'sample/猫 ü/0001' }], ['dataset/猫 ü/0001']],
  ])('dataset: %s', (_name, images, names) => {
    expect(datasetPartNames(images)).toEqual(names);
  });

  it('model files keep their names, made unique', () => {
    expect(modelPartNames(['model.json', 'group1-shard1of1.bin', 'model.json'])).toEqual([
      'model/model.json',
      'model/group1-shard1of1.bin',
      'model/model (2).json',
    ]);
  });

  it('every segment made safe is safe, unchanged when made safe again, and never a way out (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (name) => {
        const segment = safePartSegment(name);
        expect(safePartSegment(segment)).toBe(segment);
        expect(isSafePartName(`dataset/${segment}/${segment}`)).toBe(true);
        expect(segment).not.toMatch(/^\.|[\\/:]|^$/);
        expect(segment.includes('\0')).toBe(false);
        expect([...segment].length).toBeLessThanOrEqual(60);
      }),
    );
  });

  it('lists every part the fixture names, each once', () => {
    const { snapshot, parts } = fullProject();
    const refs = projectPartRefs(snapshot);
    expect(refs.map((r) => r.part).sort()).toEqual([...parts.keys()].sort());
    for (const ref of refs) expect(parts.get(ref.part)!.length).toBe(ref.bytes);
  });

  it('float32 parts are little-endian and read back exactly', () => {
    const values = Float32Array.from([0, -1.5, 1e-30, 3.4e38, NaN]);
    const bytes = float32Bytes(values);
    expect([...bytes.subarray(4, 8)]).toEqual([0, 0, 0xc0, 0xbf]);
    expect(float32sOf(bytes)).toEqual(values);
  });
});

describe('trained weights as parts', () => {
  it('round-trips the worker artifacts through model.json and weights.bin', () => {
    const artifacts = fixtureArtifacts();
    const { modelJson, weightsBin } = weightPartsOf(artifacts);
    const back = artifactsOfWeightParts(modelJson, weightsBin);
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect({ ...back.artifacts, weightData: null }).toEqual({ ...artifacts, weightData: null });
    expect(new Uint8Array(back.artifacts.weightData)).toEqual(new Uint8Array(artifacts.weightData));
  });

  const encode = (json: unknown) => new TextEncoder().encode(JSON.stringify(json));
  it.each<[string, (json: any) => Uint8Array, number, string]>([
    ['bad JSON', () => new TextEncoder().encode('{"format":'), 84, 'weights/model.json is not valid JSON'],
    ['a bin shorter than its specs', (j) => encode(j), 80, "weights/model.json's 2 weights take 84 bytes, but weights/weights.bin holds 80."],
    [
      'another weight file',
      (j) => encode({ ...j, weightsManifest: [{ ...j.weightsManifest[0], paths: ['shard.bin'] }] }),
      84,
      "Field 'weightsManifest[0].paths[0]' is 'shard.bin'; expected one of 'weights.bin'.",
    ],
    ['two weight groups', (j) => encode({ ...j, weightsManifest: [j.weightsManifest[0], j.weightsManifest[0]] }), 84, 'weights/model.json has 2 weight groups'],
    [
      'a string weight',
      (j) => encode({ ...j, weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'w', shape: [1], dtype: 'string' }] }] }),
      84,
      "weight 'w' is of dtype 'string'",
    ],
    [
      'a topology without layers',
      (j) => encode({ ...j, modelTopology: { class_name: 'Functional', config: { name: 'x' } } }),
      84,
      "Field 'modelTopology.config.layers' is missing; expected a list.",
    ],
    [
      'a layer without a name',
      (j) => encode({ ...j, modelTopology: { ...j.modelTopology, config: { ...j.modelTopology.config, layers: [{ class_name: 'Dense' }] } } }),
      84,
      "Field 'modelTopology.config.layers[0].name' is missing",
    ],
    [
      'a negative dimension',
      (j) => encode({ ...j, weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'w', shape: [-1], dtype: 'float32' }] }] }),
      84,
      "Field 'weightsManifest[0].weights[0].shape[0]' is -1",
    ],
  ])('refuses %s, naming it', (_name, make, binBytes, reason) => {
    const { modelJson } = weightPartsOf(fixtureArtifacts());
    const back = artifactsOfWeightParts(make(JSON.parse(new TextDecoder().decode(modelJson))), new Uint8Array(binBytes));
    expect(back.ok).toBe(false);
    if (back.ok) return;
    expect(back.code).toBe('bad-weights');
    expect(back.reason).toContain(reason);
  });
});
